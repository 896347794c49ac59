"""The audit log: append-only records of privileged actions and logins."""
