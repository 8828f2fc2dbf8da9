"""Routing: which versions answer a service in an environment, and which case goes where."""
