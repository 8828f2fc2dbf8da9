"""10,000 golden cases on a folded model: Relevo's suite runner against a bare loop, same run.

    python benchmarks/suite_runner.py [--cases 10000] [--version v2] [--repeat 3]

Sets up the demo in a temporary home, makes a suite of --cases golden cases (synthetic
applications, each expecting the version's own answer), applies it and times, interleaved:
`relevo test`'s use case end to end (load the version from its stored files after checking
their hashes, ask every case as the gateway would, store and audit the run), and a bare loop
calling the loaded model's `predict([row])` once per case and comparing the label. Prints each
time, the ratio runner / bare loop, and whether the goal (at most 2x) is met.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.demo import applications as apps
from relevo.demo.setup import set_up_answering_demo
from relevo.registry.load import load_version
from relevo.settings import Settings
from relevo.suites import Suite, apply_suite, run_suite

GOAL = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--version", default="v2")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="relevo-suite-bench-"))
    try:
        settings = Settings(home=home, actor="benchmark")
        set_up_answering_demo(settings)
        ctx = Context.open(settings)
        _, model = load_version(ctx, SERVICE_NAME, args.version)
        names = [n for n in apps.FIELDS if n not in apps.PERSONAL and n != apps.LABEL]
        rows = [{n: r[n] for n in names} for r in apps.generate(args.cases, seed=11)]
        expected = [p.decision for p in model.predict(rows)]
        golden = [{"name": f"case-{i}", "inputs": row, "expect": label}
                  for i, (row, label) in enumerate(zip(rows, expected))]
        apply_suite(ctx, SERVICE_NAME, Suite.model_validate({"golden": golden}))
        print(f"{args.cases:,} golden cases on {SERVICE_NAME} {args.version} "
              f"(folded: {getattr(model, 'bounded', False)})")

        def bare() -> int:
            return sum(model.predict([row])[0].decision == label for row, label in zip(rows, expected))

        def runner() -> int:
            run = run_suite(ctx, SERVICE_NAME, args.version)
            return sum(r.outcome == "passed" for r in run.results)

        ratios = []
        for i in range(args.repeat):
            times = {}
            for name, fn in ((("bare", bare), ("runner", runner)) if i % 2 == 0 else (("runner", runner), ("bare", bare))):
                started = time.perf_counter()
                passed = fn()
                times[name] = time.perf_counter() - started
                assert passed == args.cases, f"{name}: {passed} of {args.cases} cases passed"
            ratios.append(times["runner"] / times["bare"])
            print(f"run {i + 1}: bare loop {times['bare']:.2f} s ({args.cases / times['bare']:,.0f} cases/s), "
                  f"runner {times['runner']:.2f} s ({args.cases / times['runner']:,.0f} cases/s), "
                  f"ratio {ratios[-1]:.2f}")
        median = statistics.median(ratios)
        print(f"median ratio runner / bare loop over {args.repeat} runs: {median:.2f}; goal <= {GOAL:g}x: "
              f"{'met' if median <= GOAL else 'NOT met'}")
        ctx.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
