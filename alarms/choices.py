"""Enumerations (TextChoices) of the alarms app."""
