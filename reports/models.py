"""Database models of the reports app: facts about one row only."""
