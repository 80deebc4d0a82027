"""Settings: one module per environment (base, local, test, production)."""
