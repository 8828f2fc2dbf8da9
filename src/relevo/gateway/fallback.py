"""The fallback chain's first link: rules that answer clear-cut cases when no model can.

Rules come from the spec, declaratively (first matching rule wins) or as a Python entry point.
When no rule answers, or the rules themselves fail, the case goes to manual review.
"""

from __future__ import annotations

import importlib
import operator
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from relevo.errors import InvalidInput
from relevo.services.spec import Fallback, Rule

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "lte": operator.le,
    "gt": operator.gt, "gte": operator.ge,
    "in": lambda value, options: value in options, "not_in": lambda value, options: value not in options,
}


@dataclass(frozen=True)
class RuleAnswer:
    """A decision given by rules, with the reason shown to the case worker."""

    decision: str
    reason: str


def _matches(rule: Rule, inputs: Mapping[str, Any]) -> bool:
    for field, conditions in rule.when.items():
        value = inputs.get(field)
        if value is None:
            return False
        for op, expected in conditions.items():
            try:
                if not _OPS[op](value, expected):
                    return False
            except TypeError:  # e.g. comparing a string with a number: the rule does not apply
                return False
    return True


class Rules:
    """The spec's fallback rules, ready to answer; None means 'to manual review'."""

    def __init__(self, fallback: Fallback, decisions: list[str]) -> None:
        self._rules = fallback.rules
        self._decisions = set(decisions)
        self._function: Callable[[Mapping[str, Any]], Any] | None = None
        if fallback.entrypoint:
            module, _, name = fallback.entrypoint.partition(":")
            try:
                self._function = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError) as exc:
                raise InvalidInput(f"fallback entrypoint {fallback.entrypoint!r} cannot be loaded: {exc}") from None

    def answer(self, inputs: Mapping[str, Any]) -> RuleAnswer | None:
        """The rules' decision for these inputs, or None when no rule applies."""
        if self._function is not None:
            result = self._function(inputs)
            if result is None:
                return None
            decision, reason = result if isinstance(result, tuple) else (result, "rule entry point")
            if decision not in self._decisions:
                raise ValueError(f"fallback entry point answered {decision!r}, not one of the decisions")
            return RuleAnswer(str(decision), str(reason))
        for rule in self._rules:
            if _matches(rule, inputs):
                return RuleAnswer(rule.decision, rule.reason)
        return None
