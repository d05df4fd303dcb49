"""Enumerations (TextChoices) of the forecasting app."""
