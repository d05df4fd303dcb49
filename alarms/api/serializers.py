"""Serializers of the alarms API."""
