"""The test settings' PostgreSQL backend (config/settings/test.py): Django's
own, with a cheaper flush between transactional tests (see base.py)."""
