"""A Model around a Python callable named module:callable, shipped in the artifact or installed."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Sequence

from relevo.errors import InvalidInput, NotFound
from relevo.loaders.base import Prediction
from relevo.loaders.errors import ModelFailure
from relevo.loaders.outputs import Answers
from relevo.loaders.signature import ModelSpec, Signature


class EntrypointModel:
    """Calls the function once per row; it returns a label, (label, probabilities) or a Prediction."""

    def __init__(
        self, function: Callable[[Mapping[str, Any]], Any], signature: Signature, entry: str
    ) -> None:
        self.function = function
        self.entry = entry
        self.answers = Answers(signature, f"entrypoint {entry}")

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        """One Prediction per row; ModelFailure if the function raises or answers off-signature."""
        return [self._answer(self._call(row)) for row in rows]

    def _call(self, row: Mapping[str, Any]) -> Any:
        try:
            return self.function(row)
        except Exception as exc:  # the function is foreign code; any failure is the model's
            raise ModelFailure(f"entrypoint {self.entry} failed: {type(exc).__name__}: {exc}") from exc

    def _answer(self, result: Any) -> Prediction:
        if isinstance(result, Prediction):
            return self.answers.make(result.decision, result.probabilities)
        if isinstance(result, str):
            return self.answers.make(result)
        if isinstance(result, tuple) and len(result) == 2:
            label, probabilities = result
            if probabilities is None or isinstance(probabilities, Mapping):
                return self.answers.make(label, probabilities)
        raise ModelFailure(
            f"entrypoint {self.entry} returned {type(result).__name__}; expected a label string, "
            f"a (label, probabilities) pair or a Prediction"
        )


def load_entrypoint(artifact_dir: Path, spec: ModelSpec, signature: Signature) -> EntrypointModel:
    """Resolve module:callable, preferring <module>.py inside the artifact over an installed module."""
    entry = spec.entry or ""
    module_name, _, attribute = entry.partition(":")
    dotted = module_name.split(".") + attribute.split(".")
    if not all(part.isidentifier() for part in dotted):
        raise InvalidInput(f"entrypoint {entry!r} is not module:callable (dotted Python names)")
    shipped = artifact_dir / f"{module_name}.py"
    module = _from_file(shipped, entry) if shipped.is_file() else _installed(module_name, entry)
    function: Any = module
    for part in attribute.split("."):
        function = getattr(function, part, None)
        if function is None:
            raise NotFound(f"entrypoint {entry}: module {module_name!r} has no attribute {attribute!r}")
    if not callable(function):
        raise InvalidInput(f"entrypoint {entry}: {attribute!r} is not callable")
    return EntrypointModel(function, signature, entry)


def _from_file(path: Path, entry: str) -> ModuleType:
    # A fresh name per load, so two versions' model.py never share one sys.modules entry.
    name = f"relevo_artifact_{uuid.uuid4().hex[:12]}_{path.stem}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise InvalidInput(f"entrypoint {entry}: cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    # Registered while executing so dataclasses and pickling can find the module by name.
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise InvalidInput(
            f"entrypoint {entry}: importing {path} failed: {type(exc).__name__}: {exc}"
        ) from exc
    return module


def _installed(module_name: str, entry: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name + ".").startswith(exc.name + "."):
            raise NotFound(
                f"entrypoint {entry}: no module {module_name!r} in the artifact or installed"
            ) from exc
        raise InvalidInput(f"entrypoint {entry}: importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        raise InvalidInput(
            f"entrypoint {entry}: importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc

