"""Serializers of the plants API."""
