"""/api/v1/ routes of remixing."""

urlpatterns: list = []
