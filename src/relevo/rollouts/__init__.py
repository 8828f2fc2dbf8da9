"""Rollouts: moving a service from its stable release to a candidate, step by step, judged."""
