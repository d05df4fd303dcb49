"""Django admin registrations of the twins app."""
