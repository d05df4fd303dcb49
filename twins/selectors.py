"""Reads of the twins app: keyword-only, typed functions named <entity>_<action>."""
