"""Hashing a large artifact: `relevo register` against `sha256sum` on the same file, same run.

    python benchmarks/register_hashing.py [--size-mb 500] [--repeat 3]

`relevo register` reads each byte once, hashing it while copying it into the read-only blob
store, so the ratio shows what that copy and the CLI's start-up cost on top of the hash alone.
The artifact is a large weights file beside a small model (an entry point) that registration
loads and asks probe rows, as it does every version; that check costs milliseconds.
Both are run on a warm page cache (the file is read once before timing) so the disk does not
decide the result. Prints one line per run and the median ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

METADATA = {
    "model": {"format": "entrypoint", "entry": "model:predict"},
    "signature": {"inputs": [{"name": "x", "type": "number"}], "outputs": {"labels": ["a", "b"]}},
    "training_data": {"reference": "file://none", "sha256": "0" * 64},
    "trained_at": "2026-01-01",
    "datasets": [{"name": "none", "reference": "file://none"}],
    "code_revision": "benchmark",
    "author": "benchmark",
    "intended_use": "benchmark only",
    "limitations": "random bytes beside a constant answer, not a model",
}
MODEL = 'def predict(row):\n    return "a"\n'  # what registration loads; the weights are what it hashes


def make_file(path: Path, size_mb: int) -> None:
    """size_mb MiB of random bytes (incompressible, so no layer can shortcut it)."""
    chunk = os.urandom(1024 * 1024)
    with open(path, "wb") as f:
        for i in range(size_mb):
            f.write(chunk[i % 7:] + chunk[: i % 7])  # vary chunks cheaply


def timed(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds one command takes; fails loudly if it fails."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="relevo-bench-"))
    try:
        artifact = work / "artifact"
        artifact.mkdir()
        model = artifact / "weights.bin"
        make_file(model, args.size_mb)
        (artifact / "model.py").write_text(MODEL)
        meta = work / "metadata.yaml"
        meta.write_text(yaml.safe_dump(METADATA))
        spec = work / "spec.yaml"
        spec.write_text("name: bench-service\n")
        subprocess.run(["sha256sum", str(model)], check=True, stdout=subprocess.DEVNULL)  # warm the cache
        relevo = [sys.executable, "-m", "relevo"]
        ratios = []
        for run in range(args.repeat):
            env = dict(os.environ, RELEVO_HOME=str(work / f"home{run}"))
            env.pop("RELEVO_DATABASE_URL", None)
            subprocess.run(relevo + ["init"], check=True, env=env, stdout=subprocess.DEVNULL)
            subprocess.run(relevo + ["service", "apply", str(spec)], check=True, env=env, stdout=subprocess.DEVNULL)
            baseline = timed(["sha256sum", str(model)], env)
            ours = timed(relevo + ["register", "bench-service", str(artifact), "--metadata", str(meta)], env)
            ratios.append(ours / baseline)
            print(f"run {run + 1}: sha256sum {baseline:.2f} s ({args.size_mb / baseline:.0f} MiB/s), "
                  f"relevo register {ours:.2f} s ({args.size_mb / ours:.0f} MiB/s), ratio {ours / baseline:.2f}")
            shutil.rmtree(work / f"home{run}", ignore_errors=True)
        print(f"median ratio relevo register / sha256sum over {args.repeat} runs: {statistics.median(ratios):.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
