"""Serializers of the reports API."""
