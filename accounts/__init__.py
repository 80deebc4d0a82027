"""Users, roles, public handles and display names (django-allauth).

The bottom of the app graph with core: it knows nothing of music or money.
Account pages and account deletion (which touches orders, remixes and
consent) are the site shell's, in marketplace.
"""
