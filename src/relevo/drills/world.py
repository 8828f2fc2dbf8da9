"""A drill's scratch world: a store of its own (SQLite in a temporary folder, or a scratch PostgreSQL
cluster), holding a copy of the service (its spec, its stable version through the blob store, routed
in the drill's environment) and drill identities to act there. The real store is only read."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event

from relevo import governance
from relevo.blobs import LocalBlobStore
from relevo.clock import Clock
from relevo.context import Context
from relevo.drills.scratch_postgres import ScratchPostgres
from relevo.errors import Conflict, NotFound
from relevo.gateway.decision_log import DecisionLog
from relevo.governance.checklist import BY_ID
from relevo.notify import Listeners
from relevo.registry import VersionRecord, register_version, resolve_version, version_name
from relevo.routing import read_route
from relevo.routing.environments import add_environment, check_environment
from relevo.routing.table import set_route
from relevo.services.catalogue import apply_spec
from relevo.services.spec import Roles, ServiceSpec
from relevo.store import connect, open_store, upgrade

DRILL_OPERATOR = "drill-operator"  # starts the rehearsed rollout, attests what operators attest
DRILL_APPROVER = "drill-approver"  # waives what the scratch world cannot show (never the one who starts)
SQLITE_DOWN_S = 0.5  # how long a SQLite store stays closed in a restart (a PostgreSQL restart takes its own time)
REHEARSAL = "a drill's rehearsal in its scratch store: no citizen is answered here"


def _remove(folder: Path) -> None:
    """Delete a folder, the blob store's read-only files and folders included."""
    def writable(function: Any, path: str, _exc: Any) -> None:
        os.chmod(os.path.dirname(path), stat.S_IRWXU)
        if os.path.exists(path) and not os.path.islink(path):
            os.chmod(path, stat.S_IRWXU)
        function(path)

    shutil.rmtree(folder, onerror=writable)


@dataclass
class World:
    """The scratch store and the copy of the service in it."""

    folder: Path
    ctx: Context  # acting as the drill's operator
    spec: ServiceSpec  # the copy: drill identities in its roles, no maintenance windows, no suite
    environment: str
    stable: VersionRecord  # the scratch store's copy of the stable version
    real_stable: VersionRecord  # the version copied, as the real store holds it
    database: str  # sqlite | postgresql
    postgres: ScratchPostgres | None = None
    rehearsal: dict[str, Any] = field(default_factory=dict)  # what the drill identities did, for the record
    _closed: threading.Event = field(default_factory=threading.Event)  # SQLite: the store is closed

    @property
    def approver(self) -> Context:
        """The scratch context acting as the drill's approver."""
        return self.ctx.acting_as(DRILL_APPROVER)

    def register_copy(self, record: VersionRecord, source: Path, note: str) -> VersionRecord:
        """Register the files at source in the scratch store under record's metadata (with a note added)."""
        metadata = record.metadata.model_dump(mode="json")
        metadata["description"] = (metadata.get("description") or "") + f" [{note}]"
        path = self.folder / f"metadata-{record.name}-{len(list(self.folder.glob('metadata-*')))}.json"
        path.write_text(json.dumps(metadata), encoding="utf-8")
        return register_version(self.ctx, self.spec.name, source, path)

    def candidate_copy(self, source: Path) -> VersionRecord:
        """A second version with the stable one's files (and a note saying why, so its hash differs)."""
        folder = self.folder / "candidate"
        shutil.copytree(source, folder)
        for path in [folder, *folder.rglob("*")]:
            os.chmod(path, stat.S_IRWXU if path.is_dir() else stat.S_IRUSR | stat.S_IWUSR)
        (folder / "DRILL.txt").write_text("A copy of the stable version for a drill: its gateway biases its answers.\n")
        return self.register_copy(self.stable, folder, "a drill's bad candidate")

    def clear_checklist(self, candidate: VersionRecord) -> None:
        """Close the candidate's checklist in the scratch store as two drill identities: the approver
        waives, the operator attests (four eyes: the operator then starts)."""
        marks: dict[str, str] = {}
        name, version, env = self.spec.name, candidate.name, self.environment
        for item in governance.checklist_of(self.ctx, name, version=version, environment=env).open:
            kind = BY_ID[item.item]
            if kind.waivable:
                governance.waive(self.approver, name, item.item, f"waived in {REHEARSAL}", version=version,
                                 environment=env)
                marks[item.item] = f"waived by {DRILL_APPROVER}"
            else:
                by = self.approver if kind.attested_by == "approvers" else self.ctx
                governance.attest(by, name, item.item, f"attested in {REHEARSAL}", version=version, environment=env)
                marks[item.item] = f"attested by {by.actor}"
        self.rehearsal = {"identities": [DRILL_OPERATOR, DRILL_APPROVER], "checklist": marks, "note": REHEARSAL}

    def restart_database(self, log: DecisionLog) -> None:
        """Really restart the scratch database: PostgreSQL's cluster (fast shutdown, every connection cut);
        SQLite's file closed (the store's connections and the decision log's) and reopened after a moment
        in which none can open it."""
        if self.postgres is not None:
            self.postgres.restart()
            return
        self._closed.set()
        try:
            self.ctx.engine.dispose()
            log.close()  # once its running commit ends; its next write opens a connection again
            time.sleep(SQLITE_DOWN_S)
        finally:
            self._closed.clear()

    def close(self) -> None:
        """Close the scratch store, stop its cluster, delete its folder."""
        try:
            self.ctx.close()
        finally:
            try:
                if self.postgres is not None:
                    self.postgres.stop()
            finally:
                _remove(self.folder)


def stable_version(real: Context, service: str, environment: str) -> VersionRecord:
    """The version a drill rehearses with: the stable one routed in its environment, else production's,
    else the one tagged stable."""
    with connect(real.engine) as conn:
        for env in dict.fromkeys((environment, "production")):
            route = read_route(conn, service, env)
            if route is not None and route.stable_version_id is not None:
                return resolve_version(conn, service, version_name(conn, route.stable_version_id))
        try:
            return resolve_version(conn, service, "stable")
        except NotFound:
            raise Conflict(f"{service} has no stable version (routed in {environment} or production, or tagged "
                           "stable): a drill rehearses with the version citizens get") from None


def _scratch_spec(spec: ServiceSpec) -> ServiceSpec:
    roles = Roles(operators=[DRILL_OPERATOR], approvers=[DRILL_APPROVER], incident_owners=[DRILL_OPERATOR],
                  consulted=spec.roles.consulted, informed=spec.roles.informed)
    # Rollbacks never wait for a maintenance window, and the suite's smoke cases would stop a bad candidate
    # before any traffic: the drill rehearses what happens once one got past them.
    return spec.model_copy(update={"roles": roles, "windows": None, "tests": None})


def build_world(real: Context, spec: ServiceSpec, environment: str, database: str, clock: Clock) -> World:
    """A scratch world holding a copy of the service, its stable version routed in environment."""
    stable = stable_version(real, spec.name, environment)
    folder = Path(tempfile.mkdtemp(prefix=f"relevo-drill-{spec.name}-"))
    postgres = None
    try:
        if database == "postgresql":
            postgres = ScratchPostgres(folder / "postgres")
            url = postgres.url
        else:
            url = f"sqlite:///{folder / 'relevo.db'}"
        upgrade(url)
        engine = open_store(url)
        listeners = Listeners()
        listeners.channels.clear()  # a rehearsal tells no one: its rollbacks and incidents are not real
        ctx = Context(engine=engine, blobs=LocalBlobStore(folder / "blobs"), clock=clock, actor=DRILL_OPERATOR,
                      listeners=listeners, audit_key=folder / "audit.key", audit_origin="relevo-drill")
        copy = _scratch_spec(spec)
        world = World(folder, ctx, copy, environment, stable, stable, database, postgres)
        if database != "postgresql":
            event.listen(engine, "do_connect", world_refusal(world))
        apply_spec(ctx, copy)
        with connect(engine) as conn:
            try:
                check_environment(conn, environment)
                known = True
            except NotFound:
                known = False
        if not known:
            add_environment(ctx, environment, "the drill's environment")
        world.stable = world.register_copy(stable, real.blobs.local_path(stable.blob_uri),
                                           f"a drill's copy of {spec.name} {stable.name}")
        set_route(ctx, spec.name, environment, stable=world.stable.name, mode="stable")
        return world
    except BaseException:
        if postgres is not None:
            postgres.stop()
        _remove(folder)
        raise


def world_refusal(world: World):
    """SQLite's connect hook: while the store is closed for a restart, no connection opens."""
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        if world._closed.is_set():
            raise sqlite3.OperationalError("unable to open database file (the drill's store is restarting)")
        return None

    return refuse
