app_name = "remixing"

urlpatterns: list = []
