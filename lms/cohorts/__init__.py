"""Cohorts: learners taking a course together (issue 20)."""
