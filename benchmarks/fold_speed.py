"""One row through each demo version: the loader's fold vs scikit-learn's predict_proba, same run.

    python benchmarks/fold_speed.py [--rows 3000] [--check-rows 20000]

Sets up the demo (licence-prefilter v1..v3) in a temporary home and loads each version through
Relevo's loader. For --rows synthetic applications, one at a time and interleaved: the model's
`predict([row])` (the fold, when the version folds) and `predict_proba` on the same row as a
1-row array of the scikit-learn Pipeline. Prints p50/p99 of each and the ratio. Then, on
--check-rows other applications in one batch, the largest difference between the fold's and
scikit-learn's probabilities, and whether every decision is the same.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.demo import applications as apps
from relevo.demo.setup import set_up_demo
from relevo.demo.training import model_matrix
from relevo.registry.load import load_version
from relevo.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--check-rows", type=int, default=20000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="relevo-fold-bench-"))
    try:
        settings = Settings(home=home, actor="benchmark")
        set_up_demo(settings)
        ctx = Context.open(settings)
        for version in ("v1", "v2", "v3"):
            _, model = load_version(ctx, SERVICE_NAME, version)
            pipeline, names = model.estimator, model.signature.names
            rows = apps.generate(args.rows, seed=5)
            requests = [{n: r[n] for n in names} for r in rows]
            arrays = [model_matrix([r]) for r in rows]
            loader, direct = [], []
            # Called only in this iteration, so the loop variables they read are this version's.
            calls = [(lambda i: model.predict([requests[i]]), loader), (lambda i: pipeline.predict_proba(arrays[i]), direct)]  # noqa: B023
            for i in range(len(rows)):
                for call, times in calls if i % 2 else calls[::-1]:  # alternate which goes first
                    started = time.perf_counter()
                    call(i)
                    times.append(time.perf_counter() - started)
            (l50, l99), (d50, d99) = (np.percentile(np.asarray(t) * 1000, [50, 99]) for t in (loader, direct))
            check = apps.generate(args.check_rows, seed=6)
            got = model.predict([{n: r[n] for n in names} for r in check])
            expected = pipeline.predict_proba(model_matrix(check))
            classes = [str(c) for c in pipeline.classes_]
            gap = np.abs(np.array([[p.probabilities[c] for c in classes] for p in got]) - expected).max()
            same = all(p.decision == classes[k] for p, k in zip(got, expected.argmax(axis=1)))
            path = "fold" if model.folded is not None else "scikit-learn"
            print(f"{version} ({path}): loader p50 {l50:.4f} ms p99 {l99:.4f} ms | predict_proba p50 {d50:.3f} ms "
                  f"p99 {d99:.3f} ms | ratio p50 {d50 / l50:.0f}x | {args.check_rows:,} rows: largest "
                  f"difference {gap:.2g}, same decisions: {same}")
        ctx.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
