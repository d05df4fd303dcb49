"""URL patterns of the forecasting API, without trailing slashes."""

urlpatterns: list = []
