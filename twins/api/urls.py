"""URL patterns of the twins API, without trailing slashes."""

urlpatterns: list = []
