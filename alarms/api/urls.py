"""URL patterns of the alarms API, without trailing slashes."""

urlpatterns: list = []
