"""Serializers of the forecasting API."""
