"""Database models of the alarms app: facts about one row only."""
