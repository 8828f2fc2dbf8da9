"""Case work: reading decisions back, case workers' feedback, and the manual-review queue."""
