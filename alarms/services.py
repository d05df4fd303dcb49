"""Writes of the alarms app: keyword-only, typed functions named <entity>_<action>."""
