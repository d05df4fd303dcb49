"""URL patterns of the plants API, without trailing slashes."""

urlpatterns: list = []
