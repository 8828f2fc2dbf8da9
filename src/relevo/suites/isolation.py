"""The robustness check's version in a process of its own: a version that kills its process (a
crash in native code, os._exit, os.abort, the kernel's out-of-memory killer) ends that process,
not the run, and the case it died on is reported as the check's failure.

The child loads the version as the parent does, from its stored files with their hashes checked
against the registered manifest, and answers each case as relevo.suites.answering does (the
service's timeout, HANG_S to tell a slow call from a hung one). Only JSON crosses the pipe: the
version's record and spec once, then the inputs of each case one way and its answer (decision,
probabilities, problem) the other. Nothing the parent sends is unpickled by the child: the start
record multiprocessing writes holds only the worker function's name and the pipe's end.

One child serves a whole check. It is not started again after it dies or hangs: the death is the
finding, and asking more cases, or shrinking the one it died on, would start it again each time.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Iterator

from relevo.blobs import BlobStore
from relevo.blobs.local import LocalBlobStore
from relevo.blobs.manifest import Manifest, compare
from relevo.clock import SystemClock
from relevo.errors import IntegrityFailure, RelevoError
from relevo.loaders import load_model
from relevo.registry.metadata import VersionMetadata
from relevo.registry.queries import VersionRecord
from relevo.services.spec import ServiceSpec
from relevo.suites import answering
from relevo.suites.answering import Answer

LOAD_S = 600.0  # the child's load of the version: re-hashing large files, importing a framework
# Past the service's timeout and HANG_S, the child itself is stuck (a call that holds the GIL, so
# its own timeout cannot fire): it is killed and the case counts as hung.
GRACE_S = 2.0


def _child(pipe_end: Connection, name: str) -> BaseProcess:
    """The child process serving one check, not yet started."""
    # forkserver, not fork: the child is forked from a clean server process, never from this one
    # (which holds the store's connections, the gateway's threads and, once a scikit-learn model
    # has run, OpenMP's, which a forked copy can deadlock on). Not spawn: the server imports this
    # module (the gateway's runtime, the loaders: 2 s and more) once per process, and each check's
    # child is a fork of it, ready in a tenth of a second plus the model's own imports and load.
    # Spawn where forkserver is missing (Windows).
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # __main__ as multiprocessing preloads it by default: a child then does not import it again.
        # The loaders this process has used too (skops imports scikit-learn: 2 s), and only those:
        # a deployment serving ONNX alone never imports skops.
        loaders = sorted(name for name in sys.modules if name.startswith("relevo.loaders."))
        main = getattr(sys.modules.get("__main__"), "__file__", None)
        importable = ["__main__"] if main is not None and os.path.exists(main) else []
        context.set_forkserver_preload([*importable, __name__, *loaders])
        return context.Process(target=serve_version, args=(pipe_end,), daemon=True, name=name)
    return multiprocessing.get_context("spawn").Process(target=serve_version, args=(pipe_end,), daemon=True,
                                                        name=name)


@contextmanager
def _main_left_alone() -> Iterator[None]:
    """While a child starts: a __main__ read from standard input or a string (its `__file__` names no
    file) is hidden, or multiprocessing would have the child import it from a path that is not there."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or os.path.exists(path):
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def _how(exitcode: int | None) -> str:
    """How a child ended, in words: its exit code or the signal that killed it."""
    if exitcode is None:
        return "its process stopped answering"
    if exitcode < 0:
        try:
            return f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def _record_json(record: VersionRecord) -> dict[str, Any]:
    return {"id": record.id, "service": record.service, "number": record.number, "sha256": record.sha256,
            "format": record.format, "size_bytes": record.size_bytes, "file_count": record.file_count,
            "blob_uri": record.blob_uri, "registered_at": record.registered_at.isoformat(),
            "registered_by": record.registered_by, "metadata": record.metadata.model_dump(mode="json"),
            "manifest": record.manifest.to_dict(), "tags": list(record.tags)}


class IsolatedVersion:
    """A version answering cases in a child process; a death or a hang stops it, named with its case."""

    def __init__(self, record: VersionRecord, spec: ServiceSpec, blobs: BlobStore) -> None:
        if not isinstance(blobs, LocalBlobStore):
            raise RelevoError("the robustness check runs the version in a process of its own, which reads the "
                              f"version's files from a local blob store; this store is a {type(blobs).__name__}")
        self.record = record
        self.timeout_s = spec.timeout_ms / 1000
        self.hang_s = answering.HANG_S  # read now: a test may shorten it
        self.hung: str | None = None  # the case it hung on
        self.died: str | None = None  # the case it died on
        self.death: str | None = None  # how: its exit code or signal
        self._pipe, child_end = multiprocessing.Pipe()
        self._process = _child(child_end, f"robustness-{record.service}-{record.name}")
        with _main_left_alone():
            self._process.start()
        child_end.close()  # the child's end lives in the child only: its death reads here as EOF
        self.not_loaded: str | None = None  # why the child could not load the version
        try:
            self._pipe.send_bytes(json.dumps({"record": _record_json(record), "spec": spec.model_dump(mode="json"),
                                              "blob_root": str(blobs.root), "hang_s": self.hang_s}).encode())
        except (BrokenPipeError, ConnectionResetError):
            pass  # it died at once: _reply reads how
        reply = self._reply(LOAD_S)
        if reply is None:
            self.not_loaded = f"it did not load within {LOAD_S:g} s"
        elif "failed" in reply:
            self.not_loaded = reply["failed"]
        elif self.death is not None:
            self.not_loaded = f"its process died while loading it ({self.death})"

    @property
    def stopped(self) -> str | None:
        """Why no further case is asked (it hung, died or did not load), or None."""
        return self.not_loaded or self.hung or self.died

    def answer(self, inputs: dict[str, Any], case: str) -> Answer:
        """The version's answer for one case from its process, within the service's timeout."""
        if self.hung is not None:
            return Answer(None, None, 0.0, f"not asked: the version hung on {self.hung}")
        if self.died is not None:
            return Answer(None, None, 0.0, f"not asked: the version's process died on {self.died}")
        if self.not_loaded is not None:
            return Answer(None, None, 0.0, f"not asked: the version could not be loaded in its own process: "
                          f"{self.not_loaded}")
        started = time.perf_counter()
        try:
            self._pipe.send_bytes(json.dumps({"inputs": inputs, "case": case}).encode())
        except (BrokenPipeError, ConnectionResetError):
            pass  # it died after its last answer: _reply reads how
        reply = self._reply(self.timeout_s + self.hang_s + GRACE_S)
        seconds = time.perf_counter() - started
        if reply is None:
            if self.death is not None:
                self.died = case
                return Answer(None, None, seconds, f"the version's process died ({self.death})")
            self.hung = case
            self._stop()
            return Answer(None, None, seconds, f"no answer within the service's timeout "
                          f"({self.timeout_s * 1000:g} ms): it hung, and its process was stopped")
        if reply["hung"]:
            self.hung = case
            self._stop()  # its worker thread is still stuck in the call
        return Answer(reply["decision"], reply["probabilities"], seconds, reply["problem"])

    def _reply(self, timeout: float) -> dict[str, Any] | None:
        """The child's next message; None when it died (self.death says how) or sent nothing in time."""
        ready = wait([self._pipe, self._process.sentinel], timeout)
        if self._pipe in ready:  # read first: it may have answered, then died
            try:
                return json.loads(self._pipe.recv_bytes())
            except (EOFError, ConnectionResetError):
                pass
        if ready:
            self._process.join(5)
            self.death = _how(self._process.exitcode)
        return None

    def _stop(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(5)

    def close(self) -> None:
        """End the child: its pipe closes, and a child that does not leave at once is killed."""
        self._pipe.close()
        self._process.join(0.5)
        self._stop()
        if self._process.exitcode is not None:
            self._process.close()


def _open(order: dict[str, Any]) -> answering.Answering:
    """The version loaded as relevo.registry.load.load_version loads it, with no store to read."""
    data = order["record"]
    record = VersionRecord(**data | {"registered_at": datetime.fromisoformat(data["registered_at"]),
                                     "metadata": VersionMetadata.model_validate(data["metadata"]),
                                     "manifest": Manifest.from_dict(data["manifest"]), "tags": tuple(data["tags"])})
    spec = ServiceSpec.model_validate(order["spec"])
    blobs = LocalBlobStore(order["blob_root"])
    problems = compare(record.manifest, blobs.scan(record.blob_uri))
    if record.manifest.digest() != record.sha256:
        problems.insert(0, "the manifest is not the version's")
    if problems:
        raise IntegrityFailure(f"refusing to load {record.service} {record.name}: its files do not match the "
                               f"registered hash: {'; '.join(problems)}")
    # A pickle's load was audited when the parent loaded the same files, for this same run.
    model = load_model(blobs.local_path(record.blob_uri), record.metadata.model, record.metadata.signature,
                       trust_pickle=spec.trust_pickle and record.format == "pickle")
    version = answering.Answering(record, model, spec, SystemClock())
    version.hang_s = float(order["hang_s"])
    return version


def serve_version(pipe: Connection) -> None:
    """The child: load the version, then answer each case sent until the pipe closes."""
    try:
        import resource

        # A crash is reported by its signal; a core file of the model's memory (gigabytes) is not wanted.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    try:
        version = _open(json.loads(pipe.recv_bytes()))
    except EOFError:
        return
    except Exception as exc:  # named to the parent, which reports it as the check's failure
        pipe.send_bytes(json.dumps({"failed": f"{type(exc).__name__}: {exc}"}).encode())
        return
    pipe.send_bytes(b'{"ready": true}')
    while True:
        try:
            case = json.loads(pipe.recv_bytes())
        except EOFError:
            return
        answer = version.answer(case["inputs"], case["case"])
        pipe.send_bytes(json.dumps({"decision": answer.decision, "probabilities": answer.probabilities,
                                    "problem": answer.problem, "hung": version.hung is not None}).encode())
