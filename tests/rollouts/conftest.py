"""Rollouts start from the demo service with v1 stable in production (the `demo` fixture)."""
