"""Workshops: scheduled live sessions with seats, a waitlist and calendar feeds."""
