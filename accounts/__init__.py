"""Custom user, user types, profiles, user settings, JWT and Google sign-in."""
