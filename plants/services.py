"""Writes of the plants app: keyword-only, typed functions named <entity>_<action>."""
