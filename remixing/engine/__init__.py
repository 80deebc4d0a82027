"""Clearmix's pure audio engine.

Nothing in this package may import Django: it runs inside Celery workers, management
commands and plain pytest alike, and must be testable without a database. Submodules are
imported explicitly (``from remixing.engine import render``) so that importing the package
does not pull in torch, which takes seconds and is only needed by :mod:`.separation`.
"""
