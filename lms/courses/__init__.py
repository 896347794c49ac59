"""Courses: the catalogue, enrollments and course-level roles."""
