"""Database models of the telemetry app: facts about one row only."""
