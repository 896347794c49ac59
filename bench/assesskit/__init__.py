"""The parts of the assessments benchmark; the command is ``python bench/assessments.py``."""
