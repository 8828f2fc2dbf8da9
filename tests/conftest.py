"""Shared fixtures: a fresh store on each engine (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import atexit
import compileall
import json
import threading
import functools
import os
import shutil
import tempfile
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import relevo
from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.gateway.gateway import Gateway
from relevo.demo.setup import set_up_answering_demo
from relevo.demo.training import TrainedVersion, train_versions
from relevo.settings import Settings
from relevo.store import upgrade

# The suite's longest tests, started first: xdist gives each worker two to begin with (see
# --maxschedchunk in pyproject.toml), so they are paired long with shorter (seconds on a quiet
# machine in the comments); the workers then share the rest and finish together, instead of one
# running the guide alone at the end while the others wait.
DEMO = "tests/demo/test_demo_command.py::test_demo_registers_three_verified_versions_and_reruns_cleanly"
LONGEST = ("tests/test_guide.py::test_the_guide_runs_as_written",  # 120
           "tests/api/test_replicas.py::test_three_replicas",  # 25
           "tests/api/test_fuzz.py::test_no_server_errors",  # 110
           f"{DEMO}[postgresql]",  # 25
           f"{DEMO}[sqlite]",  # 90
           "tests/rollouts/test_reference_scenario.py::",  # 60
           "tests/cli/test_cli_roles.py::")  # 20 each


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the cores. A third of the suite's time is spent waiting (for a
    server to start, a subprocess, a real clock), which a third worker on two cores fills."""
    return (os.cpu_count() or 1) + 1


def pytest_configure(config: pytest.Config) -> None:
    """Compile Relevo's modules once, before the workers start: where the environment forbids
    writing bytecode (PYTHONDONTWRITEBYTECODE), every `relevo` a test runs, and every worker,
    compiled some 300 modules from source again (most of a command's start-up)."""
    if not hasattr(config, "workerinput"):
        compileall.compile_dir(Path(relevo.__file__).parent, quiet=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first, longest first, the rest in their order (every worker collects the same)."""
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(LONGEST) if item.nodeid.startswith(prefix)), len(LONGEST))

    items.sort(key=rank)


# The PostgreSQL the tests use; each test gets its own schema there, dropped afterwards.
POSTGRES_URL = os.environ.get("RELEVO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("RELEVO_REQUIRE_POSTGRES") == "1"


def _postgres_unavailable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: not here
        return f"PostgreSQL not reachable at {POSTGRES_URL} ({str(exc).splitlines()[0]}); set RELEVO_TEST_POSTGRES_URL"


_POSTGRES_REASON: list[str | None] = []


def postgres_reason() -> str | None:
    """Why PostgreSQL tests cannot run here (cached), or None when they can."""
    if not _POSTGRES_REASON:
        _POSTGRES_REASON.append(_postgres_unavailable())
    return _POSTGRES_REASON[0]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path: Path):
    """An empty database on each engine, as a URL Relevo accepts."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'relevo.db'}"
        return
    reason = postgres_reason()
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test database and a private home folder."""
    return Settings(home=tmp_path / "home", database_url=database_url, actor="tester")


@pytest.fixture
def ctx(settings: Settings):
    """An initialised store, opened as the use cases see it."""
    upgrade(settings.resolved_database_url())
    context = Context.open(settings)
    yield context
    context.close()


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for running the relevo CLI against the test store."""
    env = dict(os.environ)
    env.update({"RELEVO_HOME": str(settings.home), "RELEVO_DATABASE_URL": settings.database_url or "",
                "RELEVO_ACTOR": "tester", "COLUMNS": "200"})
    return env


@functools.cache
def demo_training() -> tuple[TrainedVersion, ...]:
    """The demo's three versions, trained once per test process: training is deterministic (its
    own tests check that), and it is most of what setting up a demo store costs."""
    folder = Path(tempfile.mkdtemp(prefix="relevo-demo-training-"))
    atexit.register(shutil.rmtree, folder, True)
    return tuple(train_versions(folder))


_SQLITE_DEMOS: dict[str, Settings] = {}


def _sqlite_demo(like: Settings) -> Settings:
    """A demo store on SQLite, set up once per test process for settings like these (all but their
    home and database the same): prepare_demo copies it."""
    key = like.model_dump_json(exclude={"home", "database_url"})
    if key not in _SQLITE_DEMOS:
        folder = Path(tempfile.mkdtemp(prefix="relevo-demo-store-"))
        atexit.register(shutil.rmtree, folder, True)
        made = like.model_copy(update={"home": folder / "home", "database_url": f"sqlite:///{folder / 'relevo.db'}"})
        set_up_answering_demo(made, trained=demo_training())
        _SQLITE_DEMOS[key] = made
    return _SQLITE_DEMOS[key]


def prepare_demo(settings: Settings) -> Settings:
    """The demo service with v1..v3 registered, routed to v1 in production.

    On SQLite, into a new store: a copy of the one this process set up the same way (its database
    file and its home's artifacts), as set_up_answering_demo makes it, for a few milliseconds
    instead of half a second or more a test."""
    url = settings.resolved_database_url()
    database = Path(url.removeprefix("sqlite:///"))
    if not url.startswith("sqlite:///") or database.exists() or settings.home.exists():
        set_up_answering_demo(settings, trained=demo_training())
        return settings
    made = _sqlite_demo(settings)
    shutil.copytree(made.home, settings.home)
    shutil.copyfile(made.resolved_database_url().removeprefix("sqlite:///"), database)
    return settings


@pytest.fixture
def demo_settings(settings: Settings) -> Settings:
    """The settings of a store holding the demo service, v1 stable in production."""
    return prepare_demo(settings)


@pytest.fixture
def demo(demo_settings):
    """A context on the demo store (v1, v2, v3 registered), v1 routed as stable in production."""
    ctx = Context.open(demo_settings)
    yield ctx
    ctx.close()


@pytest.fixture
def world(demo_settings):
    """(context on a simulated clock, the clock, a started gateway) over the demo store, v1 stable."""
    clock = SimulatedClock(datetime(2026, 5, 4, 8, tzinfo=timezone.utc))
    ctx = Context.open(demo_settings, clock=clock)
    gateway = Gateway(ctx, "production", pseudonym_key=b"k" * 32).start()
    yield ctx, clock, gateway
    gateway.close()
    ctx.close()


class Received(list):
    """The JSON bodies a receiver was sent, with the path each was posted to."""

    paths: list[str]


@pytest.fixture
def receiver():
    """A real HTTP receiver on 127.0.0.1: (its URL, the JSON bodies posted to it)."""
    received = Received()
    received.paths = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            received.paths.append(self.path)
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


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1: (its port, the messages it took, as email.message objects)."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    from tests.api.conftest import free_port

    messages: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
            message = message_from_bytes(envelope.content, policy=policy.default)
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            messages.append(message)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, messages
    controller.stop()


def script_module(path: Path):
    """One of scripts/ (a Python file without a .py suffix) as a module, so a test runs it exactly as the script does."""
    import importlib.machinery
    import importlib.util

    name = path.name.replace("-", "_")
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    loader.exec_module(module)
    return module


# Who closes a checklist in tests about other things: the approver, operator and DPO at once.
KEEPER_GRANTS = frozenset({("approver", None), ("operator", None), ("dpo", None)})


def clear_checklist(ctx: Context, version: str | None = "v2", service: str = "licence-prefilter",
                    environment: str = "production", plan: str | None = None, spec=None):
    """Close every open item of a release's checklist as the people who answer for them would
    (the first the spec names for each role, else ctx's actor): tests of other things start
    rollouts on releases whose evidence they do not build. Returns the checklist."""
    from relevo import governance
    from relevo.governance.checklist import BY_ID
    from relevo.services.catalogue import get_spec
    from relevo.store import connect

    with connect(ctx.engine) as conn:
        roles = get_spec(conn, service).roles
    grants = KEEPER_GRANTS

    def person(named: list[str]) -> Context:  # never the one who starts: four eyes on a waiver
        return ctx.acting_as(named[0] if named else "checklist-keeper", grants)

    where = dict(version=version, environment=environment, plan=plan, spec=spec)
    for item in governance.checklist_of(ctx, service, **where).open:
        kind = BY_ID[item.item]
        if kind.waivable:
            governance.waive(person(roles.approvers), service, item.item, "not what this test is about: waived to "
                             "start it", **where)
        else:
            by = {"operators": roles.operators, "approvers": roles.approvers}.get(kind.attested_by or "", [])
            governance.attest(person(by), service, item.item, "attested for a test of something else", **where)
    return governance.checklist_of(ctx, service, **where)


def clear_checklist_in(settings: Settings, version: str | None = "v2", **where):
    """clear_checklist on the store of settings (for tests that start rollouts through the CLI)."""
    ctx = Context.open(settings)
    try:
        return clear_checklist(ctx, version, **where)
    finally:
        ctx.close()


def start_cleared(ctx: Context, service: str, version: str | None, environment: str = "production",
                  plan: str | None = None, spec=None):
    """start_rollout, its checklist closed first where it can be (a start the test expects to be
    refused for another reason is then refused for that reason)."""
    from relevo.errors import RelevoError
    from relevo.rollouts import start_rollout

    try:
        clear_checklist(ctx, version, service, environment, plan, spec)
    except RelevoError:
        pass
    return start_rollout(ctx, service, version, environment, plan=plan, spec=spec)
