"""Database models of the forecasting app: facts about one row only."""
