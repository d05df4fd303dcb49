"""Alarm rules, the alarm lifecycle, notifications and status-word decoding."""
