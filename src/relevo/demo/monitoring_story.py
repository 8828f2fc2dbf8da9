"""The demo's monitoring chapter: after v2's promotion, a day of the usual applications, then a day under
a new application form (a document checklist and a push to the online portal: `form_version=2`).
The monitors, run as the schedule runs them after each day, find nothing on the first and raise an
input-drift alert on the second, which reaches the team's channel: a webhook receiver on 127.0.0.1,
started here for the story. Case workers review a share of each day's decisions, so the report shows
corrections and how well the model's probabilities predicted them.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable

import numpy as np

from relevo.casework import record_feedback_in
from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.demo.applications import generate
from relevo.demo.traffic import REQUEST_FIELDS
from relevo.gateway import Gateway
from relevo.monitoring import MONITOR, Monitored, monitor_pass
from relevo.notify import Listeners, WebhookChannel
from relevo.store import connect

REVIEWED = 0.3  # the share of decisions case workers review, the next morning


@dataclass
class MonitoringStory:
    """What the monitors found on each day, and what the team's channel received."""

    days: list[Monitored] = field(default_factory=list)
    channel: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)


class TeamChannel:
    """A webhook receiver on 127.0.0.1 standing in for the team's chat: it keeps what it is sent."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/team-channel"
        self.thread = threading.Thread(target=self.server.serve_forever, name="demo-team-channel", daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop receiving."""
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


def _day(ctx: Context, clock: SimulatedClock, gateway: Gateway, start: datetime, n: int, seed: int,
         form_version: int) -> None:
    """n applications over what is left of the day from start; case workers review a share of them."""
    rng = np.random.default_rng(seed)
    clock.advance(max(start - clock.now(), timedelta(0)))
    step = (start + timedelta(days=1) - clock.now()) / (n + 1)
    reviews = []
    for i, row in enumerate(generate(n, seed, form_version=form_version)):
        clock.advance(step)
        answer = gateway.decide(SERVICE_NAME, f"FORM{form_version}-{seed}-{i:05d}", {k: row[k] for k in REQUEST_FIELDS})
        if answer.served_by == "version" and rng.random() < REVIEWED:
            reviews.append((answer.id, row["outcome"]))
    with connect(ctx.engine) as conn:  # the reviews of a day land in one transaction
        for decision_id, truth in reviews:
            record_feedback_in(conn, ctx, decision_id, decision=truth, reason="checked against the file",
                               reviewer="case-worker")


def tell_monitoring(ctx: Context, clock: SimulatedClock, gateway: Gateway, daily_cases: int, seed: int,
                    step: Callable[[str], None] = lambda _: None) -> MonitoringStory:
    """Two simulated days after the rollouts, each monitored once it has ended."""
    channel = TeamChannel()
    story = MonitoringStory(channel=channel.url)
    told = replace(ctx, listeners=Listeners([WebhookChannel(channel.url)])).acting_as(MONITOR)  # as the schedule
    midnight = (clock.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0,
                                                        tzinfo=timezone.utc)
    try:
        for day, form in ((0, 1), (1, 2)):
            start = midnight + timedelta(days=day)
            step(f"{start:%A %d %B}: {daily_cases:,} applications" + (" on the new application form" if form == 2 else ""))
            _day(ctx, clock, gateway, start, daily_cases, seed + day, form)
            clock.advance(start + timedelta(days=1, minutes=5) - clock.now())
            story.days += monitor_pass(told, SERVICE_NAME, "production")
    finally:
        channel.close()
    story.received = list(channel.received)
    return story
