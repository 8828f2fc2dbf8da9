"""The gateway: validate, route, predict with a timeout, fall back, record durably, answer.

A citizen always gets an answer: the routed version's decision, or the fallback rules', or
"passed to manual review, reference X". Every answer is committed to the decision log before
it is returned. Shadow copies go to the candidate through a bounded queue, off the hot path.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from typing import Any, Callable, Mapping


from relevo.context import Context
from relevo.errors import NotFound, RelevoError, StoreUnavailable
from relevo.gateway.circuit import STATE_VALUE
from relevo.gateway.decision import MANUAL, Decision, Outcome
from relevo.gateway.decision_log import DecisionLog, commit_probe
from relevo.gateway.idempotency import InFlight, fingerprint, forget_old_keys, key_row, replayed_row, stored_decision_id
from relevo.gateway.metrics import GatewayMetrics
from relevo.gateway.pseudonym import Keyring
from relevo.gateway.runtime import CallTimeout, LoadedVersion, Policy, ServiceRuntime
from relevo.gateway.validation import InputRejected, unstorable_inputs
from relevo.loaders.base import Model
from relevo.loaders.errors import InvalidOutput
from relevo.registry.load import load_version
from relevo.registry.queries import VersionRecord, resolve_version, version_name
from relevo.store.announcements import ChangeWaiter
from relevo.routing.environments import known_environment
from relevo.routing.table import read_route, release_spec, route_revisions
from relevo.store import connect
from relevo.services.catalogue import spec_digests, stored_spec
from relevo.services.spec import ServiceSpec
from relevo.store.tables import decisions, idempotency_keys, manual_reviews, shadow_decisions

log = logging.getLogger(__name__)
READY_DEADLINE_S = 2.0  # readiness: a decision must be committable within this
SHADOW_BATCH = 64
JUDGING_BATCH = 50  # decisions under a rollout step between two calls of after_batch
# While route changes are announced (PostgreSQL's LISTEN is up) the poll is only the safety net
# for a notification lost with its connection: once a second still brings a change within a
# second, at a quarter of the cost of polling four times a second in every replica.
LISTENING_POLL_S = 1.0


class Gateway:
    """Answers decision requests for every servable service in one environment."""

    def __init__(self, ctx: Context, environment: str = "production", *, pseudonym_key: bytes | Keyring,
                 poll_interval: float = 0.25, shadow_queue_size: int = 1000, predict_workers: int = 8,
                 faults: Callable[[VersionRecord, Model], Model] | None = None) -> None:
        self.ctx = ctx
        self.environment = known_environment(ctx, environment)
        self.poll_interval = poll_interval
        self.predict_workers = predict_workers
        # A drill's own gateway wraps each model it loads to inject its fault (relevo.drills.faults);
        # None everywhere else, which costs nothing: the wrapping happens once, at load.
        self.faults = faults
        self.metrics = GatewayMetrics()
        # The current key pseudonymises; the earlier ones find decisions made under them (case lookups).
        self.keyring = pseudonym_key if isinstance(pseudonym_key, Keyring) else Keyring(pseudonym_key)
        self.pseudonym = self.keyring.current
        self.log = DecisionLog(ctx.engine)
        self._runtimes: dict[str, ServiceRuntime] = {}
        self._undecidable: set[str] = set()  # declared, but their specs declare no inputs or no decisions
        self._unservable: dict[str, str] = {}  # declared, but their spec cannot be served here (why, for the log)
        self._seen: dict[str, tuple[str, int | None]] = {}
        self._loaded: dict[int, LoadedVersion] = {}
        self._refresh_lock = threading.Lock()
        self._stop = threading.Event()
        self._shadow_queue: queue.Queue = queue.Queue(maxsize=shadow_queue_size)
        self._threads: list[threading.Thread] = []
        self.last_refresh_error: str | None = None
        # Called (from a request's thread) after every JUDGING_BATCH decisions made under a
        # rollout step, so the controller judges the new evidence without waiting for its tick.
        self.after_batch: Callable[[], None] | None = None
        self._step_decisions = 0
        self._in_flight = InFlight()
        self._keys_forgotten_at = 0.0
        self.refresh()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "Gateway":
        """Start polling the routing table and working the shadow queue."""
        for target, name in ((self._poll, "relevo-route-poll"), (self._shadow_worker, "relevo-shadow")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        """Stop background work, flush the decision log, release the models' pools."""
        self._stop.set()
        if self._threads:  # only a started gateway has a shadow worker to wake
            self._shadow_queue.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self.log.close()
        for loaded in self._loaded.values():
            loaded.close()

    def __enter__(self) -> "Gateway":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- routing table ----------------------------------------------------------------------

    def refresh(self) -> bool:
        """Apply spec and route changes from the store; True if anything changed."""
        with self._refresh_lock:
            # Polled several times a second: read only hashes and revisions, and the full spec
            # and route of the services where one of them moved.
            with connect(self.ctx.engine) as conn:
                digests = spec_digests(conn)
                revisions = route_revisions(conn, self.environment)
                changed = [name for name, digest in digests.items()
                           if self._seen.get(name) != (digest, revisions.get(name))]
                fresh = {}
                for name in changed:
                    route = read_route(conn, name, self.environment)
                    fresh[name] = (stored_spec(conn, name), route, release_spec(conn, route))
            for name, ((spec_body, digest), route, release) in fresh.items():
                try:
                    runtime = self._build(spec_body, digest, route, release)
                except RelevoError as exc:
                    # One service's spec that cannot be served (a fallback entry point that does
                    # not import) must not stop the others: it keeps the runtime it had, if any.
                    log.error("cannot serve %s under its new spec: %s", name, exc)
                    self._unservable[name] = str(exc)
                    self._seen[name] = (digest, route.revision if route else None)
                    continue
                self._unservable.pop(name, None)
                if runtime is None:
                    self._undecidable.add(name)
                else:
                    self._undecidable.discard(name)
                    self._runtimes[name] = runtime
                    self.metrics.route_revision.labels(name).set(route.revision if route else 0)
                self._seen[name] = (digest, route.revision if route else None)
            return bool(fresh)

    def _build(self, spec_body: dict, digest: str, route, release: tuple[dict, str] | None) -> ServiceRuntime | None:
        policy = Policy.of(ServiceSpec.model_validate(spec_body), digest)
        if not policy.spec.decides:
            return None
        candidate_policy = policy
        if release is not None and release[1] != digest:
            candidate_policy = Policy.of(ServiceSpec.model_validate(release[0]), release[1])
        return ServiceRuntime(
            policy=policy, candidate_policy=candidate_policy, route=route,
            stable=self._version(policy.spec, route.stable_version_id if route else None),
            candidate=self._version(policy.spec, route.candidate_version_id if route else None),
        )

    def _version(self, spec, version_id: int | None) -> LoadedVersion | None:
        if version_id is None:
            return None
        if version_id in self._loaded:
            return self._loaded[version_id]
        with connect(self.ctx.engine) as conn:
            record = resolve_version(conn, spec.name, version_name(conn, version_id))
        try:
            _, model = load_version(self.ctx, spec.name, record.name)
        except RelevoError as exc:
            # The route names a version that cannot be loaded (tampered, missing): its cases
            # go to the fallback and count as its failures; the integrity failure is already
            # recorded. Not kept, so the next change of route or spec tries again.
            log.error("cannot load %s %s: %s", spec.name, record.name, exc)
            return LoadedVersion.not_loaded(record, str(exc), spec, self.ctx.clock)
        if self.faults is not None:
            model = self.faults(record, model)
        loaded = LoadedVersion.of(record, model, spec, self.ctx.clock, self.predict_workers)
        self._loaded[version_id] = loaded
        return loaded

    def _poll(self) -> None:
        changes = ChangeWaiter(self.ctx.engine)
        try:
            self._follow(changes)
        finally:
            changes.close()

    def _follow(self, changes: ChangeWaiter) -> None:
        while not self._stop.is_set():
            # early when a change is announced (PostgreSQL)
            changes.wait(max(self.poll_interval, LISTENING_POLL_S) if changes.listening else self.poll_interval)
            if self._stop.is_set():
                return
            try:
                self.refresh()
                self.last_refresh_error = None
                self._forget_old_keys()
            except Exception as exc:  # the store may be away for a while; keep serving
                self.last_refresh_error = str(exc)
                log.warning("routing refresh failed: %s", exc)

    def _forget_old_keys(self, every_s: float = 3600.0) -> None:
        """Once an hour: delete the idempotency keys past their retention."""
        if time.monotonic() - self._keys_forgotten_at < every_s:
            return
        self._keys_forgotten_at = time.monotonic()
        with connect(self.ctx.engine) as conn:
            forget_old_keys(conn, self.ctx.clock.now())

    # -- answering ----------------------------------------------------------------------------

    def runtime(self, service: str) -> ServiceRuntime:
        """The current runtime of a service, or NotFound."""
        runtime = self._runtimes.get(service)
        if runtime is None:
            if service in self._undecidable:
                raise NotFound(f"service {service!r} is declared but not served: its spec declares no inputs or "
                               f"no decisions")
            if service in self._unservable:
                raise NotFound(f"service {service!r} is declared but cannot be served here: its spec's fallback "
                               "cannot be loaded (the server log says why)")
            known = ", ".join(sorted(self._runtimes)) or "none"
            raise NotFound(f"unknown service {service!r} (services served here: {known})")
        return runtime

    def service_names(self) -> list[str]:
        """Services this gateway answers."""
        return sorted(self._runtimes)

    def readiness(self, deadline: float = READY_DEADLINE_S, service: str | None = None) -> list[str]:
        """Why this gateway is not ready to answer (nothing: ready), for every service or for one
        (NotFound if it is not served here). Each reason names the failing part only; the
        details go to the server log.

        Ready means: a decision can be committed within the deadline (the probe writes one and
        rolls it back, so a locked table or a read-only store shows), the routing table was
        refreshed, and the service answers with its model: a stable version is routed and
        loaded (the kill switch, deliberately on, is not a fault). A load balancer in front of
        one service asks about that service alone, so a service still being set up on the same
        gateway does not take the others out.
        """
        names = [self.runtime(service).spec.name] if service is not None else self.service_names()
        problems = []
        failure = commit_probe(self.ctx.engine, deadline)
        if failure is not None:
            log.error("readiness: a decision could not be committed within %g s: %s", deadline, failure)
            problems.append(f"a decision cannot be committed within {deadline:g} s")
        if self.last_refresh_error:
            log.error("readiness: the routing table could not be refreshed: %s", self.last_refresh_error)
            problems.append("the routing table could not be refreshed")
        for name in names:
            runtime = self._runtimes[name]
            route = runtime.route
            if route is None or route.stable_version_id is None:
                problems.append(f"{name} has no stable version routed in {self.environment}: the fallback answers "
                                f"every case")
            elif runtime.stable is None or runtime.stable.unavailable is not None:
                stable = runtime.stable.record.name if runtime.stable is not None else "version"
                problems.append(f"{name}: its stable {stable} could not be loaded: the fallback answers every case")
        return problems

    def decide(self, service: str, case_id: str, inputs: Mapping[str, Any],
               idempotency_key: str | None = None) -> Decision:
        """Answer one case; raises InputRejected for invalid inputs, never for a failing model.

        With an idempotency_key, a request already answered under that key gets the decision
        recorded for it (replayed), and the key is recorded in the decision's own commit.
        """
        if not isinstance(case_id, str) or not case_id.strip():
            raise InputRejected([("case_id", "must name the case: a non-blank string")], where="")
        unstorable = unstorable_inputs(inputs) if isinstance(inputs, dict) else []
        if unstorable:
            raise InputRejected(unstorable)
        if idempotency_key is None:
            return self._decide(service, case_id, inputs, None)
        self.runtime(service)  # an unknown service is a 404 whatever the key
        request_sha = fingerprint(service, self.environment, case_id, inputs)
        with connect(self.ctx.engine) as conn:
            stored = stored_decision_id(conn, service, idempotency_key, request_sha)
            if stored is not None:
                return self._recorded(conn, stored)
        self._in_flight.enter(service, idempotency_key)
        try:
            return self._decide(service, case_id, inputs, (idempotency_key, request_sha))
        except StoreUnavailable:
            # Another replica may have committed the same key first (its row refused ours):
            # answer with that decision when it is there, else the store is really away.
            with connect(self.ctx.engine) as conn:
                stored = stored_decision_id(conn, service, idempotency_key, request_sha)
                if stored is not None:
                    return self._recorded(conn, stored)
            raise
        finally:
            self._in_flight.leave(service, idempotency_key)

    def _recorded(self, conn, decision_id: str) -> Decision:
        """A decision as the log holds it, replayed for a retried request."""
        row = replayed_row(conn, decision_id)
        version = (version_name(conn, row["routed_version_id"])
                   if row["served_by"] == "version" and row["routed_version_id"] is not None else None)
        return Decision.replayed_from(row, version)

    def _decide(self, service: str, case_id: str, inputs: Mapping[str, Any],
                idempotency: tuple[str, str] | None) -> Decision:
        started = time.perf_counter()
        runtime = self.runtime(service)
        arm, target, policy = runtime.choose(case_id)
        try:
            clean = policy.validator.validate(inputs)
        except RelevoError:
            self.metrics.rejected.labels(service).inc()
            raise
        outcome = self._answer(runtime, policy, target, clean)
        # An automated answer the review policy holds back is only proposed: a case worker decides.
        review = (policy.spec.review.reason(outcome.decision, outcome.probabilities, clean)
                  if outcome.served_by != "manual" and policy.spec.review.active else None)
        latency_ms = (time.perf_counter() - started) * 1000
        decision_id = uuid.uuid4().hex
        reference = f"{policy.spec.fallback.manual_reference_prefix}-{decision_id[:16].upper()}"
        now = self.ctx.clock.now()
        answered_by = target.record.name if target is not None and outcome.served_by == "version" else None
        route = runtime.route
        row = {
            "id": decision_id, "reference": reference, "service": service, "environment": self.environment,
            "case_pseudonym": self.pseudonym(case_id), "pseudonym_key": self.pseudonym.key_id, "arm": arm,
            "routed_version_id": target.record.id if target is not None else None,
            "served_by": outcome.served_by, "decision": None if outcome.served_by == "manual" else outcome.decision,
            "probabilities": outcome.probabilities, "fallback_cause": outcome.cause, "review": review,
            "latency_ms": latency_ms,
            "model_latency_ms": outcome.model_ms, "inputs": self._minimised(policy, clean),
            "route_revision": route.revision if route else None, "step": route.step if route else None,
            "created_at": now,
        }
        rows = [(decisions, row)]
        if outcome.served_by == "manual" or review is not None:
            rows.append((manual_reviews, {"decision_id": decision_id, "service": service, "status": "open",
                                          "claimed_by": None, "claimed_at": None, "resolved_at": None,
                                          "created_at": now}))
        if idempotency is not None:
            rows.append((idempotency_keys, key_row(service, idempotency[0], idempotency[1], decision_id, now)))
        self.log.write(rows)  # durable before we answer
        if route is not None and route.step is not None and self.after_batch is not None:
            self._step_decisions += 1  # a lost increment under a race only delays a batch
            if self._step_decisions >= JUDGING_BATCH:
                self._step_decisions = 0
                self.after_batch()
        self.metrics.decisions.labels(service, answered_by or "-", outcome.served_by).inc()
        self.metrics.latency.labels(service, outcome.served_by).observe(latency_ms / 1000)
        if outcome.cause:
            self.metrics.fallbacks.labels(service, outcome.cause).inc()
        if review is not None:
            self.metrics.reviews.labels(service, review).inc()
        if runtime.shadow is not None and outcome.served_by == "version":  # compare model with model
            try:
                self._shadow_queue.put_nowait((runtime.candidate_policy, runtime.shadow, decision_id, clean))
            except queue.Full:
                self.metrics.shadow_dropped.labels(service).inc()
        return Decision(decision_id, reference, service, self.environment,
                        MANUAL if review is not None else outcome.decision, outcome.served_by,
                        answered_by, arm, outcome.probabilities, outcome.cause, latency_ms, now, review=review)

    def _answer(self, runtime: ServiceRuntime, policy: Policy, target: LoadedVersion | None,
                inputs: dict[str, Any]) -> Outcome:
        route = runtime.route
        if route is not None and route.fallback_forced:
            return self._fallback(policy, inputs, "kill_switch")
        if target is None:
            return self._fallback(policy, inputs, "no_route" if route is None else "unavailable")
        answer, cause, model_ms = self._predict(policy, target, inputs)
        if answer is None:
            return self._fallback(policy, inputs, cause, model_ms)
        decision, probabilities = answer
        return Outcome(decision, "version", probabilities, None, model_ms)

    def _predict(self, policy: Policy, target: LoadedVersion, inputs: dict[str, Any]):
        """((decision, probabilities) or None, failure cause, model milliseconds)."""
        if target.unavailable is not None:
            return None, "unavailable", None
        breaker = target.breaker
        if not breaker.allow():
            self._circuit_gauge(target)
            return None, "circuit_open", None
        started = time.perf_counter()
        cause = None
        answer = None
        try:
            prediction = target.predict(inputs, policy.timeout_s)
            probabilities = dict(prediction.probabilities) if prediction.probabilities else None
            decision = policy.decision(prediction.decision, probabilities)
            if decision is None:
                cause = "invalid_output"
            else:
                answer = (decision, probabilities)
        except CallTimeout:
            cause = "timeout"
        except InvalidOutput:
            cause = "invalid_output"
        except Exception as exc:  # a model can fail in any way; the fallback answers instead
            log.debug("model %s/%s failed: %s", policy.spec.name, target.record.name, exc)
            cause = "error"
        model_ms = (time.perf_counter() - started) * 1000
        breaker.record(answer is not None)
        self._circuit_gauge(target)
        return answer, cause, model_ms

    def _circuit_gauge(self, target: LoadedVersion) -> None:
        self.metrics.circuit_state.labels(target.record.service, target.record.name).set(STATE_VALUE[target.breaker.state])

    def _fallback(self, policy: Policy, inputs: dict[str, Any], cause: str | None,
                  model_ms: float | None = None) -> Outcome:
        try:
            ruled = policy.rules.answer(inputs)
        except Exception as exc:  # broken rules must not leave the citizen without an answer
            log.error("fallback rules of %s failed: %s", policy.spec.name, exc)
            ruled = None
        if ruled is not None:
            return Outcome(ruled.decision, "rules", None, cause, model_ms)
        return Outcome(MANUAL, "manual", None, cause, model_ms)

    def _minimised(self, policy: Policy, inputs: dict[str, Any]) -> dict[str, Any]:
        logging_policy = policy.spec.logging
        out = {}
        for name, field in policy.spec.inputs.items():
            value = inputs.get(name)
            if field.personal:
                if logging_policy.personal == "pseudonymise" and value is not None:
                    out[name] = "hmac:" + self.pseudonym(value)
            elif logging_policy.keep_inputs:
                out[name] = value
        return out

    # -- shadow -------------------------------------------------------------------------------

    def _shadow_worker(self) -> None:
        while True:
            items = [self._shadow_queue.get()]
            # Whatever queued meanwhile shares one commit, so shadowing keeps pace under load.
            while len(items) < SHADOW_BATCH and items[-1] is not None:
                try:
                    items.append(self._shadow_queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._shadow(items)
            except Exception as exc:  # a failed shadow write must not stop shadowing
                log.error("shadow answers could not be recorded: %s", exc)
            finally:
                for _ in items:
                    self._shadow_queue.task_done()
            if items[-1] is None or self._stop.is_set():
                return

    def _shadow(self, items: list) -> None:
        rows = []
        for item in items:
            if item is None:
                break
            policy, candidate, decision_id, inputs = item
            answer, cause, model_ms = self._predict(policy, candidate, inputs)
            rows.append((shadow_decisions, {
                "decision_id": decision_id, "version_id": candidate.record.id,
                "decision": answer[0] if answer else None, "latency_ms": model_ms,
                "error": cause, "created_at": self.ctx.clock.now()}))
            self.metrics.shadow_done.labels(policy.spec.name, candidate.record.name,
                                            "ok" if answer else cause).inc()
        if rows:
            self.log.write(rows)

    def wait_for_shadow(self, timeout: float = 10.0) -> bool:
        """Block until the shadow queue is empty (tests and the demo); False if timeout came first."""
        deadline = time.monotonic() + timeout
        while self._shadow_queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._shadow_queue.unfinished_tasks
