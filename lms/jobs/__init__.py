"""The admin REST API over background jobs (the jobs package does the work)."""
