"""Rollback notifications reach a real webhook receiver over HTTP; a dead webhook never blocks."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from relevo.context import Context
from relevo.notify import notify
from relevo.rollouts import lifecycle
from tests.conftest import prepare_demo


@pytest.fixture
def receiver():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    thread.join()
    server.server_close()


def test_a_rollback_is_posted_to_the_webhook(settings, receiver, monkeypatch):
    url, received = receiver
    monkeypatch.setenv("RELEVO_WEBHOOK_URL", url)
    ctx = Context.open(prepare_demo(settings))
    try:
        rollout = lifecycle.start_rollout(ctx, "licence-prefilter", "v3", plan="canary-only")
        rolled = lifecycle.rollback(ctx, rollout.id, "rejections up")
    finally:
        ctx.close()
    [message] = received
    assert message["kind"] == "rollout.rolled_back"
    assert message["details"]["incident_id"] == rolled.incident_id and "rejections up" in message["message"]


def test_a_dead_webhook_is_logged_not_raised():
    assert notify("test", "subject", "message", webhook_url="http://127.0.0.1:9/none") is False
