app_name = "royalties"

urlpatterns: list = []
