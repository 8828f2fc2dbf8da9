"""What every HTML page shares: the templates, and charts drawn offline."""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


@functools.cache
def templates() -> Environment:
    """The pages' templates, escaping every value they show."""
    env = Environment(loader=PackageLoader("relevo.web", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda v, digits=3: "" if v is None else f"{v:.{digits}g}"
    env.filters["pct"] = lambda v: "" if v is None else f"{v:.1%}"
    # The columns of a table of mappings: every key any row has, in the order they first appear.
    env.filters["columns"] = lambda rows: list(dict.fromkeys(k for row in rows for k in row))
    return env


def plotly_js() -> str:
    """plotly's JavaScript, from the installed package (the page works with no network at all)."""
    import plotly.offline

    return plotly.offline.get_plotlyjs()


def chart(figure: Any) -> str:
    """One figure as an HTML fragment that uses the page's inline plotly."""
    import plotly.io

    return plotly.io.to_html(figure, full_html=False, include_plotlyjs=False, include_mathjax=False,
                             config={"displaylogo": False, "responsive": True})
