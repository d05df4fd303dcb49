"""Django admin registrations of the forecasting app."""
