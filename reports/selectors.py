"""Reads of the reports app: keyword-only, typed functions named <entity>_<action>."""
