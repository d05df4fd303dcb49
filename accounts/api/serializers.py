"""Serializers of the accounts API."""
