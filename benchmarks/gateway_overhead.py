"""What the gateway adds to a model call: `Gateway.decide` vs `predict_proba` on the same rows, same run.

    python benchmarks/gateway_overhead.py [--rows 5000] [--database-url URL]

Sets up the demo (licence-prefilter v1..v3, trained in a temporary home) and routes v1, the
logistic-regression pipeline, as stable. Then, for each of --rows synthetic applications, one at
a time: `predict_proba` on the v1 pipeline with the row already as a 1-row array (the least a
caller can do), the same model through Relevo's loader (`model.predict([row])`, inline), and
`Gateway.decide` (validation, routing, the model call in its pool under the spec's timeout, the
output checks, and the decision committed to the decision log before the answer). The three are
interleaved row by row, in rotating order, so drift in the machine hits them alike. A fourth
timing, the floor of durability, is a bare one-row INSERT and COMMIT through the database driver
into a scratch table of the same store (no SQLAlchemy, no index): "added over loader + commit"
is then what the gateway costs beyond the model call and the commit any durable log must pay.

"added" is decide's percentile minus the baseline's percentile. Against the loader's own
predict it is the gateway alone; against predict_proba it also counts the loader, whose
scikit-learn fast path can make it cheaper than a plain predict_proba (see
relevo.loaders.estimator_model).

The store is SQLite in a temporary folder (WAL, synchronous=NORMAL: a commit does not fsync, a
checkpoint does) unless --database-url names a PostgreSQL server, where a throwaway schema is
created and dropped.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.demo import applications as apps
from relevo.demo.setup import set_up_answering_demo
from relevo.demo.training import model_matrix
from relevo.gateway.gateway import Gateway
from relevo.registry.load import load_version
from relevo.settings import Settings
from scratch_schema import scratch_schema

WARMUP = 300


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    values = np.asarray(samples) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp folder)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="relevo-bench-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, home, ignore_errors=True)
        url = stack.enter_context(scratch_schema(args.database_url)) if args.database_url else None
        settings = Settings(home=home, database_url=url, actor="benchmark")
        set_up_answering_demo(settings)
        ctx = Context.open(settings)
        _, model = load_version(ctx, SERVICE_NAME, "v1")
        pipeline = model.estimator
        with Gateway(ctx, pseudonym_key=b"k" * 32) as gateway:
            fields = list(gateway.runtime(SERVICE_NAME).spec.inputs)
            applications = apps.generate(args.rows + WARMUP, seed=11)
            requests = [{name: row[name] for name in fields} for row in applications]
            arrays = [model_matrix([row]) for row in applications]
            ids = [row["applicant_id"] for row in applications]

            def direct(i: int) -> None:
                pipeline.predict_proba(arrays[i])

            def loader(i: int) -> None:
                model.predict([requests[i]])

            served_by: Counter[str] = Counter()
            before_commit: list[float] = []

            def decide(i: int) -> None:
                decision = gateway.decide(SERVICE_NAME, ids[i], requests[i])
                if i >= WARMUP:
                    served_by[decision.served_by] += 1
                    before_commit.append(decision.latency_ms / 1000)

            raw = ctx.engine.raw_connection()
            cursor = raw.cursor()
            if ctx.engine.dialect.name == "sqlite":  # the decision log's thread checkpoints, as for its own commits
                cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.execute("CREATE TABLE bench_commit (payload TEXT)")
            raw.commit()
            insert = "INSERT INTO bench_commit (payload) VALUES ({})".format(
                "?" if ctx.engine.dialect.paramstyle == "qmark" else "%s")
            payload = repr(requests[0]) * 2  # about a decision row's size

            def commit(i: int) -> None:
                cursor.execute(insert, (payload,))
                raw.commit()

            calls = (direct, loader, decide, commit)
            times: dict[str, list[float]] = {call.__name__: [] for call in calls}
            for i in range(len(requests)):
                for k in range(len(calls)):  # rotate which goes first
                    call = calls[(i + k) % len(calls)]
                    started = time.perf_counter()
                    call(i)
                    elapsed = time.perf_counter() - started
                    if i >= WARMUP:
                        times[call.__name__].append(elapsed)
            raw.close()
        ctx.close()

    engine = "PostgreSQL" if url else "SQLite"
    (d50, d99), (l50, l99), (g50, g99), (c50, c99) = (percentiles(times[c.__name__]) for c in calls)
    print(f"rows {args.rows} on {engine}; decisions served by {dict(served_by)}")
    print(f"predict_proba (1-row array)      p50 {d50:.3f} ms  p99 {d99:.3f} ms")
    print(f"loader model.predict([row])      p50 {l50:.3f} ms  p99 {l99:.3f} ms")
    print(f"Gateway.decide (durable)         p50 {g50:.3f} ms  p99 {g99:.3f} ms")
    print(f"bare INSERT + COMMIT (driver)    p50 {c50:.3f} ms  p99 {c99:.3f} ms")
    b50, b99 = percentiles(before_commit)
    print(f"  of which before the commit     p50 {b50:.3f} ms  p99 {b99:.3f} ms  (Decision.latency_ms)")
    print(f"added over predict_proba         p50 {g50 - d50:+.3f} ms  p99 {g99 - d99:+.3f} ms"
          f"  (ratio decide/predict_proba p50 {g50 / d50:.2f}, p99 {g99 / d99:.2f})")
    print(f"added over the loader's predict  p50 {g50 - l50:+.3f} ms  p99 {g99 - l99:+.3f} ms"
          f"  (ratio decide/loader p50 {g50 / l50:.2f}, p99 {g99 / l99:.2f})")
    print(f"added over loader + commit       p50 {g50 - l50 - c50:+.3f} ms  p99 {g99 - l99 - c99:+.3f} ms"
          "  (percentiles of the two baselines summed)")
    print(f"goal (<= 0.3 ms p50, <= 1 ms p99 added over predict_proba): "
          f"{'met' if g50 - d50 <= 0.3 and g99 - d99 <= 1.0 else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
