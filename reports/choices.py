"""Enumerations (TextChoices) of the reports app."""
