"""Writes of the telemetry app: keyword-only, typed functions named <entity>_<action>."""
