"""Assignments: settings and instructions, submissions kept as history, extensions, group
assignments, rubrics, grading (with anonymity and late policy) and grade release (issue 19)."""
