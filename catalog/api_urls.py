"""/api/v1/ routes of catalog."""

urlpatterns: list = []
