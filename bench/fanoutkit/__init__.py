"""The parts of the room fan-out benchmark; the command is ``python bench/fanout.py``."""
