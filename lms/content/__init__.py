"""Learning content: a course's modules and items, collaborative pages, learner progress."""
