"""URL patterns of the reports API, without trailing slashes."""

urlpatterns: list = []
