"""Writes of the forecasting app: keyword-only, typed functions named <entity>_<action>."""
