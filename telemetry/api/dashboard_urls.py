"""Dashboard and monitoring routes (seed 000)."""

urlpatterns: list = []
