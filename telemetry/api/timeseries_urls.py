"""Time-series reading routes (device/plant series, batch)."""

urlpatterns: list = []
