"""URL patterns of the accounts API, without trailing slashes."""

urlpatterns: list = []
