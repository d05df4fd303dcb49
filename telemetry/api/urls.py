"""URL patterns of the telemetry API, without trailing slashes."""

urlpatterns: list = []
