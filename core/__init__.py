"""What every Clearmix app shares and that needs no Django: the domain error
type, integer money formatting and the reference formats. Imports no app."""
