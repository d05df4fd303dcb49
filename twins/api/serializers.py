"""Serializers of the twins API."""
