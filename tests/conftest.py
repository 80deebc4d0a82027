"""Project-wide pytest configuration. Fixtures live in plugins by area."""

pytest_plugins = ["tests.fixtures.stripe", "tests.fixtures.accounts", "tests.fixtures.browser"]
