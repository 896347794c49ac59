"""Assessments: question types, quizzes, attempts and the gradebook (issue 19).

The pure core lives in ``lms.assessments.questions``: every question type's definition,
student view, response, grading and shuffling, with no I/O.
"""
