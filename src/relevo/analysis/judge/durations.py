"""Durations as people write them, for what the planner reports."""


def duration_text(hours: float) -> str:
    """A duration as people write it: minutes under an hour, hours under two days, then days."""
    def short(value: float) -> str:
        return f"{value:.1f}".rstrip("0").rstrip(".")

    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if hours < 48:
        return f"{short(hours)} h"
    return f"{short(hours / 24)} days"
