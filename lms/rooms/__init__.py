"""Live rooms over REST: create, list, settings, invitations, join tokens, attendance."""
