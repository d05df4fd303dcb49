"""Database models of the twins app: facts about one row only."""
