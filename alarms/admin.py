"""Django admin registrations of the alarms app."""
