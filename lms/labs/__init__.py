"""Hands-on labs (issue 20): a workspace per learner, the instructor's live grid, the help
queue, checks for credit in the sandbox. See docs/protocol.md ("Labs")."""
