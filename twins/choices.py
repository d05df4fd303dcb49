"""Enumerations (TextChoices) of the twins app."""
