"""Grading: the check library, the stdlib-only grading core every exported task carries, and verification of an episode
(checks, checker, judge)."""
