"""Django admin registrations of the reports app."""
