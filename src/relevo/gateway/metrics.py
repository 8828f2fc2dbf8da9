"""Prometheus metrics of one gateway, in a registry of its own (several gateways per process in tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class GatewayMetrics:
    """Counters and histograms the gateway updates on every decision."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter("relevo_decisions", "Decisions answered", ["service", "version", "served_by"],
                                 registry=self.registry)
        self.latency = Histogram("relevo_decision_latency_seconds", "Time to decide, before logging",
                                 ["service", "served_by"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.fallbacks = Counter("relevo_fallbacks", "Requests answered by the fallback, by cause",
                                 ["service", "cause"], registry=self.registry)
        self.reviews = Counter("relevo_reviews", "Automated answers held for a case worker, by the review "
                               "policy's reason", ["service", "reason"], registry=self.registry)
        self.shadow_dropped = Counter("relevo_shadow_dropped", "Shadow copies dropped under overload",
                                      ["service"], registry=self.registry)
        self.shadow_done = Counter("relevo_shadow_answers", "Shadow copies answered (or failed) by the candidate",
                                   ["service", "version", "outcome"], registry=self.registry)
        self.circuit_state = Gauge("relevo_circuit_state", "Circuit breaker state (0 closed, 1 half-open, 2 open)",
                                   ["service", "version"], registry=self.registry)
        self.rejected = Counter("relevo_requests_rejected", "Requests refused before deciding (invalid input)",
                                ["service"], registry=self.registry)
        self.route_revision = Gauge("relevo_route_revision", "Routing table revision applied",
                                    ["service"], registry=self.registry)
