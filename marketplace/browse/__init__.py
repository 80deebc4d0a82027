"""Browse: the home page, the catalog of remixable tracks, track pages."""
