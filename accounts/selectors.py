"""Reads of the accounts app: keyword-only, typed functions named <entity>_<action>."""
