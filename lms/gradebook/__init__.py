"""The gradebook: columns, scores, final grades, posting, grade history (issue 19)."""
