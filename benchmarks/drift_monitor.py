"""Input drift on 1,000,000 rows x 20 fields: Relevo's monitor vs bare numpy/scipy vs Evidently, same run.

    python benchmarks/drift_monitor.py [--rows 1000000] [--repeat 3] [--quick] [--no-evidently]
                                       [--from-log | --no-from-log] [--log-rows N] [--seed 2026]
                                       [--profile-relevo FILE]

A "reference" and a "current" frame of --rows rows each, 12 numeric fields (continuous, integer,
skewed, heavy-tailed, 0/1, one with missing values) and 8 categorical ones (3 to 12 categories, one
true/false, one with missing values), made with a fixed seed; 7 of the 20 fields move in the
current frame (mean shift, scale change, category shares moved, one new category). The frames are
written once to Parquet in benchmarks/.work/ and each contender reads them in its own child
process, so each one's peak memory (ru_maxrss, imports and its copy of the data included) is its
own. The parent imports nothing but the standard library: a child's ru_maxrss starts from its
parent's peak.

- Relevo: the reference is profiled ahead, as registration does
  (`relevo.registry.reference_data.profile_reference_data`: a one-off, timed apart). The timed part
  is the product's `relevo.monitoring.report.build_report` over the window, given what
  `read_window` hands over (numeric columns as arrays, categories as counts): each field's window
  profile on the reference's bins and its comparison with the reference (PSI, KS and normalised
  Wasserstein against the reference's sketch with their error bounds, Jensen-Shannon, chi-square,
  the homogeneity test, new categories). It holds the current rows only.
- bare: the same statistics straight from both raw frames with numpy and scipy: PSI on the
  reference's deciles (with the 1e-4 floor), `ks_2samp`, `wasserstein_distance / std`,
  `jensenshannon`, `chisquare`. Categories are counted with `collections.Counter`, as Relevo's are.
- Evidently 0.7: `Report([DataDriftPreset()])` with its defaults (above 1,000 rows: normalised
  Wasserstein for numeric columns with more than 5 values, Jensen-Shannon for the rest) and the
  column types given (no inference), from `.venv-evidently` (scripts/evidently-env); skipped, saying
  so, when that environment is missing. Timed once when a run takes longer than 20 s.

Relevo and bare run --repeat times, each run in a fresh child, interleaved; the median is taken.
Numeric columns are float arrays (NaN: missing), categorical ones lists of strings ("true"/"false")
for bare and Evidently's frames, counts for Relevo (its monitor never holds them as lists).
Loading the columns is not timed. Every statistic is then checked across the implementations:
Relevo's KS and Wasserstein within their stated bounds of scipy's; PSI, Jensen-Shannon and
chi-square to 1e-9 (computed the same way); Relevo's homogeneity p-value, where it has one, against
scipy's chi2_contingency; Evidently's Wasserstein against scipy's (to 1/n: it divides by the std
with ddof=0) and within Relevo's bound of Relevo's, its Jensen-Shannon against Relevo's, or, on a
numeric field of at most 5 values, against the JS of the values' counts. Any disagreement is printed.
Goals (the project's issue): Relevo at least 20x faster than Evidently, within 2x of bare, at most
1/5 of Evidently's memory.

--from-log (on by default; --no-from-log skips it) also times the monitoring pass end to end from
the decision log: a SQLite store in benchmarks/.work with the current rows as one version's
decisions, its reference profile stored, then `read_window` and `build_report` over the day that
holds them (--log-rows, default --rows). Its statistics must equal the in-memory pass's, and the
spec's default rules plus one on each of KS, Wasserstein and Jensen-Shannon are held against it.
--quick: 100,000 rows, one run each (about half a minute).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(__file__).resolve().parent / ".work"
EVIDENTLY_PYTHON = ROOT / ".venv-evidently" / "bin" / "python"
SERVICE = "drift-bench"
EVIDENTLY_ONCE_AFTER = 20.0  # seconds: a slower Evidently run is not repeated
GOAL_SPEEDUP = 20.0  # Evidently time / Relevo time, at least
GOAL_BARE = 2.0  # Relevo time / bare time, at most
GOAL_MEMORY = 0.2  # Relevo memory / Evidently memory, at most
EXACT = 1e-9  # relative tolerance for statistics computed the same way

# name: (kind, how it is made, what moves in the current frame or "")
FIELDS: dict[str, tuple[str, str, str]] = {
    "amount": ("number", "lognormal(8, 1), skewed", "scale x1.15"),
    "score": ("number", "normal(600, 50)", "mean +10 (0.2 sd)"),
    "age": ("integer", "normal(42, 12) rounded, 18-90", ""),
    "tenure_months": ("integer", "Poisson(24)", "mean 24 -> 27"),
    "utilisation": ("number", "beta(2, 5)", ""),
    "wait_days": ("number", "exponential(3), skewed", "scale x1.3"),
    "rating": ("integer", "1-5, uneven shares", ""),
    "has_guarantor": ("integer", "0/1, 30% ones", ""),
    "income_ratio": ("number", "normal(0.35, 0.1), 5% missing", ""),
    "distance_km": ("number", "gamma(2, 10), skewed", ""),
    "temperature": ("number", "15 + 3 t(5), heavy tails", ""),
    "documents_share": ("number", "0, 0.1, ..., 1", ""),
    "channel": ("string", "3 categories", "shares 60/30/10 -> 50/35/15"),
    "region": ("string", "6 categories", ""),
    "product": ("string", "12 categories, Zipf-like", ""),
    "segment": ("string", "4 categories", "new category 'partner' (3%)"),
    "language": ("string", "5 categories, 2% missing", ""),
    "verified": ("boolean", "true/false, 80% true", ""),
    "plan": ("string", "8 categories", "two plans' shares swapped"),
    "priority": ("string", "3 categories", ""),
}
CATEGORIES = {
    "channel": (["online", "in_person", "post"], [0.6, 0.3, 0.1], [0.5, 0.35, 0.15]),
    "region": (["centre", "north", "south", "east", "west", "harbour"], [0.25, 0.2, 0.2, 0.15, 0.12, 0.08], None),
    "product": ([f"p{i:02d}" for i in range(12)], [1 / (i + 1) for i in range(12)], None),
    "segment": (["retail", "business", "public", "charity", "partner"], [0.5, 0.3, 0.15, 0.05, 0.0],
                [0.485, 0.291, 0.1455, 0.0485, 0.03]),
    "language": (["en", "nl", "fr", "de", "es"], [0.5, 0.25, 0.15, 0.06, 0.04], None),
    "plan": ([f"plan{i}" for i in range(8)], [0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.04, 0.03],
             [0.3, 0.1, 0.15, 0.2, 0.1, 0.08, 0.04, 0.03]),
    "priority": (["low", "normal", "high"], [0.2, 0.7, 0.1], None),
}
NUMERIC = [n for n, (kind, _, _) in FIELDS.items() if kind in ("number", "integer")]
CATEGORICAL = [n for n in FIELDS if n not in NUMERIC]
OPTIONAL = {"income_ratio", "language"}  # the fields with missing values


# ---------------------------------------------------------------------------------------------
# Children: each runs in its own process and writes its result as JSON.


def peak_mb() -> float:
    """This process's peak resident memory (ru_maxrss) in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hwm_mb() -> float:
    """The same from /proc (VmHWM), a cross-check of ru_maxrss."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return math.nan


def child_frames(args: argparse.Namespace) -> dict[str, Any]:
    """Make the reference and current frames and write them to Parquet."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(args.seed)
    n = args.rows

    def frame(current: bool) -> pa.Table:
        def moved(base: float, shifted: float) -> float:
            return shifted if current else base

        ratio = rng.normal(0.35, 0.1, n)
        ratio[rng.random(n) < 0.05] = np.nan
        columns: dict[str, Any] = {
            "amount": rng.lognormal(8, 1, n) * moved(1.0, 1.15),
            "score": rng.normal(moved(600, 610), 50, n),
            "age": np.clip(np.round(rng.normal(42, 12, n)), 18, 90).astype(np.int64),
            "tenure_months": rng.poisson(moved(24, 27), n).astype(np.int64),
            "utilisation": rng.beta(2, 5, n),
            "wait_days": rng.exponential(3 * moved(1.0, 1.3), n),
            "rating": rng.choice(np.arange(1, 6), n, p=[0.05, 0.1, 0.25, 0.35, 0.25]).astype(np.int64),
            "has_guarantor": (rng.random(n) < 0.3).astype(np.int64),
            "income_ratio": pa.array(ratio, from_pandas=True),  # NaN stored as null
            "distance_km": rng.gamma(2, 10, n),
            "temperature": 15 + 3 * rng.standard_t(5, n),
            "documents_share": rng.integers(0, 11, n) / 10,
        }
        for name, (names, base, shifted) in CATEGORIES.items():
            shares = np.asarray(shifted if current and shifted else base, dtype=float)
            codes = rng.choice(len(names), n, p=shares / shares.sum())
            values = np.asarray(names, dtype=object)[codes]
            if name in OPTIONAL:
                values[rng.random(n) < 0.02] = None
            columns[name] = pa.array(values, type=pa.string())
        columns["verified"] = pa.array(rng.random(n) < 0.8)
        return pa.table({name: columns[name] for name in FIELDS})

    counts: dict[str, dict[str, dict[str, int]]] = {}
    for which in ("reference", "current"):
        table = frame(which == "current")
        pq.write_table(table, WORK / f"{which}.parquet")
        for name in NUMERIC:  # the counts of a few-valued field's values: Evidently's JS on it counts them
            values, found = np.unique(table.column(name).drop_null().to_numpy(), return_counts=True)
            if values.size <= 20:
                counts.setdefault(name, {})[which] = {repr(float(v)): int(c) for v, c in zip(values, found)}
        del table
    return {"rows": n, "seed": args.seed, "value_counts": counts, "peak_mb": peak_mb()}


def read_columns(path: Path, counted: bool = False) -> tuple[dict[str, Any], float]:
    """The frame at path as a monitor gets a window's columns: numeric fields as float arrays (NaN:
    missing), the others as lists of strings (booleans "true"/"false", None: missing) or, counted,
    as the counts of their values (what Relevo's read_window keeps, chunk by chunk); and the
    seconds it took."""
    from collections import Counter

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.perf_counter()
    strings = [n for n in CATEGORICAL if FIELDS[n][0] == "string"]
    # A column at a time, in batches, strings as their dictionary: a monitor never holds the rows as
    # a table, so the reading here should weigh little more than the columns it hands over.
    source = pq.ParquetFile(path, read_dictionary=strings)
    columns: dict[str, Any] = {}
    for name in source.schema_arrow.names:
        parts: list[Any] = []
        for batch in source.iter_batches(batch_size=65_536, columns=[name], use_threads=False):
            array = batch.column(0)
            if name in NUMERIC:  # nulls come out as NaN
                parts.append(array.to_numpy(zero_copy_only=False).astype(float, copy=False))
                continue
            # One string object per category, shared by every row (as a window's counts hold them).
            if pa.types.is_boolean(array.type):
                names, codes = ["false", "true"], array.to_numpy(zero_copy_only=False).astype(float)
            else:
                names, codes = array.dictionary.to_pylist(), array.indices.to_numpy(zero_copy_only=False)
            codes = np.where(np.isnan(codes), len(names), codes) if codes.dtype.kind == "f" else codes
            if counted:
                tally = np.bincount(codes.astype(np.intp), minlength=len(names) + 1)
                parts.append(Counter({n: int(c) for n, c in zip(names, tally) if c}))
                continue
            lookup = np.asarray([*names, None], dtype=object)
            parts.extend(lookup[codes.astype(np.intp)].tolist())
        if name in NUMERIC:
            columns[name] = np.concatenate(parts)
        elif counted:
            columns[name] = sum(parts, Counter())
        else:
            columns[name] = parts
    return columns, time.perf_counter() - started


def child_profile(args: argparse.Namespace) -> dict[str, Any]:
    """Profile the reference frame as registration does (the one-off)."""
    from relevo.registry.reference_data import profile_reference_data

    started = time.perf_counter()
    profile = profile_reference_data(WORK / "reference.parquet", personal=set())
    seconds = time.perf_counter() - started
    (WORK / "reference-profile.json").write_text(json.dumps(profile), encoding="utf-8")
    return {"seconds": seconds, "peak_mb": peak_mb(), "hwm_mb": hwm_mb()}


def relevo_pass(reference: dict[str, Any], columns: dict[str, Any]) -> list[Any]:
    """One monitoring pass over the window's columns: the product's own build_report (the window's
    profile on the reference's bins, then every field against the reference), as a pass runs it
    once read_window has counted the categories and gathered the numeric columns."""
    from datetime import datetime, timezone

    import numpy as np

    from relevo.monitoring.collect import WindowData
    from relevo.monitoring.report import build_report
    from relevo.monitoring.windows import Window
    from relevo.services import parse_spec

    spec = parse_spec({"name": "benchmark", "decisions": ["yes", "no"], "inputs": {
        name: {"type": "number" if isinstance(values, np.ndarray) else "string", "required": False}
        for name, values in columns.items()}}, "benchmark")
    rows = next(len(v) for v in columns.values() if isinstance(v, np.ndarray))
    end = datetime(2026, 1, 2, tzinfo=timezone.utc)
    data = WindowData(Window("1d", end, datetime(2026, 1, 1, tzinfo=timezone.utc)), None, decisions=rows)
    data.numeric = {n: [v] for n, v in columns.items() if isinstance(v, np.ndarray)}
    data.categories = {n: v for n, v in columns.items() if not isinstance(v, np.ndarray)}
    report, _ = build_report(spec, "production", data, version="v1", reference=reference,
                             reference_name="reference.parquet", previous=None, previous_label=None, min_sample=100)
    return report.fields


def drift_json(found: Any) -> dict[str, Any]:
    """The statistics of one FieldDrift, for the parent."""
    keys = ("status", "psi", "ks", "ks_bound", "wasserstein", "wasserstein_bound", "js", "chi_square",
            "chi_square_p", "new_categories", "shift_p")
    return {k: getattr(found, k, None) for k in keys}  # shift_p: only in versions that test homogeneity


def child_relevo(args: argparse.Namespace) -> dict[str, Any]:
    """Relevo's monitoring pass over the current frame, against the stored reference profile."""
    import relevo.monitoring.report  # noqa: F401  (imports before the clock starts)
    import relevo.services  # noqa: F401

    reference = json.loads((WORK / "reference-profile.json").read_text(encoding="utf-8"))
    columns, load = read_columns(WORK / "current.parquet", counted=True)
    loaded = peak_mb()
    started = time.perf_counter()
    found = relevo_pass(reference, columns)
    seconds = time.perf_counter() - started
    if args.profile_out:
        import cProfile

        cProfile.runctx("relevo_pass(reference, columns)", globals(), locals(), args.profile_out)
    return {"seconds": seconds, "load_seconds": load, "loaded_mb": loaded, "peak_mb": peak_mb(), "hwm_mb": hwm_mb(),
            "fields": {f.field: drift_json(f) for f in found}}


def _psi(expected: Any, actual: Any) -> float:
    import numpy as np

    e = np.maximum(expected / expected.sum(), 1e-4)
    a = np.maximum(actual / actual.sum(), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def bare_pass(reference: dict[str, Any], current: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The same statistics from both raw frames with numpy and scipy only."""
    from collections import Counter

    import numpy as np
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chisquare, ks_2samp, wasserstein_distance

    out: dict[str, dict[str, Any]] = {}
    for name, ref in reference.items():
        cur = current[name]
        if isinstance(ref, np.ndarray):
            ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
            # The reference's deciles as observed values, repeated ones once (as Relevo's profile cuts).
            edges = np.unique(np.quantile(ref, np.linspace(0, 1, 11)[1:-1], method="inverted_cdf"))
            e = np.bincount(np.searchsorted(edges, ref), minlength=edges.size + 1).astype(float)
            a = np.bincount(np.searchsorted(edges, cur), minlength=edges.size + 1).astype(float)
            ks = ks_2samp(ref, cur)
            out[name] = {"psi": _psi(e, a), "ks": float(ks.statistic), "ks_p": float(ks.pvalue),
                         "wasserstein": float(wasserstein_distance(ref, cur) / ref.std(ddof=1)),
                         "n_reference": int(ref.size), "table": [e.tolist(), a.tolist()]}
            continue
        rc, cc = Counter(ref), Counter(cur)
        rc.pop(None, None)
        cc.pop(None, None)
        names = sorted(set(rc) | set(cc))
        e = np.array([rc.get(k, 0) for k in names], dtype=float)
        a = np.array([cc.get(k, 0) for k in names], dtype=float)
        keep = e > 0
        tested = chisquare(a[keep], e[keep] / e[keep].sum() * a[keep].sum())
        out[name] = {"psi": _psi(e, a), "js": float(jensenshannon(e, a)), "chi_square": float(tested.statistic),
                     "chi_square_p": float(tested.pvalue),
                     "new_categories": {k: cc[k] for k in names if rc.get(k, 0) == 0 and cc.get(k, 0) > 0},
                     "n_reference": int(e.sum()), "table": [e.tolist(), a.tolist()]}
    return out


def child_bare(args: argparse.Namespace) -> dict[str, Any]:
    """The bare numpy/scipy computation on both frames."""
    import scipy.spatial.distance  # noqa: F401  (imports before the clock starts)
    import scipy.stats  # noqa: F401

    reference, load_ref = read_columns(WORK / "reference.parquet")
    current, load_cur = read_columns(WORK / "current.parquet")
    loaded = peak_mb()
    started = time.perf_counter()
    fields = bare_pass(reference, current)
    seconds = time.perf_counter() - started
    from scipy.stats import chi2_contingency

    import numpy as np

    for found in fields.values():  # not timed: the two-sample test, to hold Relevo's p-values against
        table = np.asarray(found.pop("table"))
        tested = chi2_contingency(table[:, table.sum(axis=0) > 0], correction=False)
        found["two_sample_p"], found["least_expected"] = float(tested.pvalue), float(tested.expected_freq.min())
    return {"seconds": seconds, "load_seconds": load_ref + load_cur, "loaded_mb": loaded, "peak_mb": peak_mb(),
            "hwm_mb": hwm_mb(), "fields": fields}


def child_evidently(args: argparse.Namespace) -> dict[str, Any]:
    """Evidently's DataDriftPreset on both frames (runs in .venv-evidently)."""
    import evidently
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    started = time.perf_counter()
    reference = pd.read_parquet(WORK / "reference.parquet")
    current = pd.read_parquet(WORK / "current.parquet")
    load = time.perf_counter() - started
    loaded = peak_mb()
    # The column types given, as Evidently's docs advise for known schemas (no inference).
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    runs, results, datasets = [], {}, []
    while len(runs) < args.repeat:
        started = time.perf_counter()
        ref_ds = Dataset.from_pandas(reference, data_definition=definition)
        cur_ds = Dataset.from_pandas(current, data_definition=definition)
        built = time.perf_counter()
        snapshot = Report([DataDriftPreset()]).run(cur_ds, ref_ds)
        metrics = snapshot.dict()["metrics"]
        runs.append(time.perf_counter() - started)
        datasets.append(built - started)
        for metric in metrics:
            config = metric["config"]
            if config.get("type", "").endswith("ValueDrift"):
                results[config["column"]] = {"method": config["method"], "threshold": config["threshold"],
                                             "score": metric["value"]}
            elif config.get("type", "").endswith("DriftedColumnsCount"):
                results["(dataset)"] = metric["value"]
        if runs[-1] > EVIDENTLY_ONCE_AFTER:
            break
    return {"version": evidently.__version__, "pandas": pd.__version__, "runs": runs, "datasets": datasets,
            "load_seconds": load, "loaded_mb": loaded, "peak_mb": peak_mb(), "hwm_mb": hwm_mb(), "fields": results}


def _log_spec() -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for name, (kind, _, _) in FIELDS.items():
        field: dict[str, Any] = {"type": kind}
        if name in CATEGORIES:
            field["enum"] = CATEGORIES[name][0]
        if name in OPTIONAL:
            field["required"] = False
        inputs[name] = field
    return {"name": SERVICE, "description": "drift benchmark (benchmarks/drift_monitor.py)",
            "inputs": inputs, "decisions": ["accept", "refer"]}


def _log_settings(args: argparse.Namespace) -> Any:
    from relevo.settings import Settings

    return Settings(home=WORK / "log-home", database_url=f"sqlite:///{WORK / 'log.db'}", actor="benchmark")


LOG_DAY = (2026, 5, 11)  # the day the logged decisions fall in (UTC)


def remove_log_store() -> None:
    """Remove the decision-log store of an earlier run."""
    shutil.rmtree(WORK / "log-home", ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        (WORK / f"log.db{suffix}").unlink(missing_ok=True)


def child_log_setup(args: argparse.Namespace) -> dict[str, Any]:
    """A store with the current rows as one version's decisions, its reference profile stored."""
    import uuid
    from datetime import datetime, timedelta, timezone

    import numpy as np
    import pyarrow.parquet as pq

    from relevo.context import Context
    from relevo.services.catalogue import apply_spec
    from relevo.services.spec import ServiceSpec
    from relevo.store import connect, upgrade
    from relevo.store.tables import decisions, profiles, versions

    started = time.perf_counter()
    remove_log_store()
    settings = _log_settings(args)
    upgrade(settings.resolved_database_url())
    ctx = Context.open(settings)
    apply_spec(ctx, ServiceSpec.model_validate(_log_spec()))
    profile = json.loads((WORK / "reference-profile.json").read_text(encoding="utf-8"))
    day = datetime(*LOG_DAY, tzinfo=timezone.utc)
    with connect(ctx.engine) as conn:
        version_id = conn.execute(versions.insert().values(
            service=SERVICE, number=1, sha256="0" * 64, manifest={}, metadata={}, format="benchmark", size_bytes=0,
            file_count=0, blob_uri="benchmark:none", registered_at=day - timedelta(days=1),
            registered_by="benchmark").returning(versions.c.id)).scalar_one()
        conn.execute(profiles.insert().values(
            version_id=version_id, source_name=profile["source"]["name"], source_sha256=profile["source"]["sha256"],
            row_count=profile["rows"], profile=profile))
    table = pq.read_table(WORK / "current.parquet").slice(0, args.log_rows)
    rows = table.num_rows
    rng = np.random.default_rng(args.seed + 1)
    confidence = rng.uniform(0.5, 1.0, rows)
    accept = rng.random(rows) < 0.7
    step = timedelta(hours=22) / rows
    batch = 20_000
    for offset in range(0, rows, batch):
        chunk = table.slice(offset, batch).to_pylist()
        values = []
        for i, inputs in enumerate(chunk, start=offset):
            label, other = ("accept", "refer") if accept[i] else ("refer", "accept")
            values.append({
                "id": uuid.uuid4().hex, "reference": f"BENCH-{i:09d}", "service": SERVICE,
                "environment": "production", "case_pseudonym": f"{i:064x}", "arm": "stable",
                "routed_version_id": version_id, "served_by": "version", "decision": label,
                "probabilities": {label: float(confidence[i]), other: float(1 - confidence[i])},
                "latency_ms": 0.3, "model_latency_ms": 0.02,
                "inputs": {k: v for k, v in inputs.items() if v is not None},  # a missing field is absent
                "created_at": day + timedelta(hours=1) + i * step})
        with connect(ctx.engine) as conn:
            conn.execute(decisions.insert(), values)
    ctx.close()
    return {"rows": rows, "seconds": time.perf_counter() - started,
            "size_mb": (WORK / "log.db").stat().st_size / 2**20, "peak_mb": peak_mb()}


def child_log(args: argparse.Namespace) -> dict[str, Any]:
    """read_window and build_report over the day that holds the logged decisions."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import select

    from relevo.context import Context
    from relevo.monitoring.collect import read_window
    from relevo.monitoring.report import build_report
    from relevo.monitoring.rules import evaluate
    from relevo.monitoring.windows import Window
    from relevo.services.monitoring_policy import AlertRule
    from relevo.services.catalogue import get_spec
    from relevo.store import connect
    from relevo.store.tables import profiles

    ctx = Context.open(_log_settings(args))
    day = datetime(*LOG_DAY, tzinfo=timezone.utc)
    window = Window("1d", day + timedelta(days=1), day)
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, SERVICE)
        started = time.perf_counter()
        data = read_window(conn, spec, "production", window)
        read = time.perf_counter() - started
        row = conn.execute(select(profiles.c.profile, profiles.c.source_name)
                           .where(profiles.c.version_id == data.version_id)).first()
        started = time.perf_counter()
        report, _ = build_report(spec, "production", data, version="v1", reference=row.profile,
                                 reference_name=row.source_name, previous=None, previous_label=None,
                                 min_sample=spec.monitoring.min_sample)
        built = time.perf_counter() - started
    ctx.close()
    # What the spec's rules (the defaults) and a rule on each other statistic find here (not timed).
    rules = list(spec.monitoring.alerts) + [AlertRule(metric="input_drift", statistic=statistic, threshold=0.1)
                                            for statistic in ("ks", "wasserstein", "js")]
    findings = [evaluate(rule, report, spec.monitoring.min_sample) for rule in rules]
    return {"decisions": report.decisions, "read_seconds": read, "report_seconds": built, "peak_mb": peak_mb(),
            "hwm_mb": hwm_mb(), "fields": {f.field: drift_json(f) for f in report.fields},
            "findings": [[f.rule, f.state, f.summary] for f in findings if f.metric == "input_drift"]}


CHILDREN: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "frames": child_frames, "profile": child_profile, "relevo": child_relevo, "bare": child_bare,
    "evidently": child_evidently, "log-setup": child_log_setup, "log": child_log}


# ---------------------------------------------------------------------------------------------
# The parent: runs the children, checks agreement, prints the tables.


def run_child(kind: str, args: argparse.Namespace, python: str = sys.executable, **extra: Any) -> dict[str, Any]:
    """Run one child in a fresh process; its result."""
    out = WORK / f"{kind}.json"
    out.unlink(missing_ok=True)
    command = [python, str(Path(__file__).resolve()), "--child", kind, "--rows", str(args.rows), "--seed",
               str(args.seed), "--log-rows", str(args.log_rows), "--repeat", str(args.repeat)]
    for key, value in extra.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    env = dict(os.environ, DO_NOT_TRACK="1")  # Evidently's usage telemetry off
    subprocess.run(command, check=True, env=env)
    return json.loads(out.read_text(encoding="utf-8"))


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def _js(p: list[float], q: list[float]) -> float:
    """Jensen-Shannon distance, natural logarithm (as scipy's), in plain Python."""
    sp, sq = sum(p), sum(q)
    p, q = [x / sp for x in p], [x / sq for x in q]
    div = 0.0
    for a, b in zip(p, q):
        m = (a + b) / 2
        div += (a * math.log(a / m) if a > 0 else 0.0) + (b * math.log(b / m) if b > 0 else 0.0)
    return math.sqrt(max(div / 2, 0.0))


def agreement(meta: dict[str, Any], relevo: dict[str, Any], bare: dict[str, Any],
              evidently: dict[str, Any] | None) -> tuple[list[str], list[str]]:
    """(table lines, disagreements) of every statistic across the implementations."""
    lines, problems = [], []
    header = (f"{'field':<16} {'moved':<28} {'PSI':>8} {'KS':>7} {'KS bare':>7} {'bound':>6} {'W/sd':>7} "
              f"{'W bare':>7} {'bound':>6} {'JS':>7} {'chi2':>10}  {'Evidently':<22}")
    lines.append(header)
    for name, (kind, _, moved) in FIELDS.items():
        r, b = relevo[name], bare[name]
        if r["status"] != "compared":
            problems.append(f"{name}: Relevo did not compare it ({r['status']})")
            continue
        for key in ("psi", "js", "chi_square"):
            if key in b and r[key] is not None and _rel(r[key], b[key]) > EXACT:
                problems.append(f"{name}: {key} Relevo {r[key]:.12g} vs bare {b[key]:.12g} "
                                f"(relative {_rel(r[key], b[key]):.2e} > {EXACT:g})")
        p_mine, p_scipy = r["chi_square_p"], b.get("chi_square_p")
        if None not in (p_mine, p_scipy) and _rel(p_mine, p_scipy) > 1e-6 and abs(p_mine - p_scipy) > 1e-12:
            problems.append(f"{name}: chi-square p Relevo {r['chi_square_p']:.6g} vs scipy {b['chi_square_p']:.6g}")
        # Relevo's homogeneity test pools cells expected to hold fewer than 5: compared where none does.
        p_mine = r.get("shift_p")
        if p_mine is not None and b["least_expected"] >= 5 and _rel(p_mine, b["two_sample_p"]) > 1e-6 and abs(
                p_mine - b["two_sample_p"]) > 1e-12:
            problems.append(f"{name}: homogeneity p Relevo {p_mine:.6g} vs scipy chi2_contingency "
                            f"{b['two_sample_p']:.6g}")
        if "new_categories" in b and r["new_categories"] != b["new_categories"]:
            problems.append(f"{name}: new categories Relevo {r['new_categories']} vs bare {b['new_categories']}")
        if "ks" in b:
            if abs(r["ks"] - b["ks"]) > r["ks_bound"]:
                problems.append(f"{name}: KS Relevo {r['ks']:.6f} vs scipy {b['ks']:.6f}: off by "
                                f"{abs(r['ks'] - b['ks']):.6f}, beyond its bound {r['ks_bound']:.6f}")
            if r["wasserstein"] is None or abs(r["wasserstein"] - b["wasserstein"]) > r["wasserstein_bound"]:
                problems.append(f"{name}: Wasserstein/sd Relevo {r['wasserstein']} vs scipy {b['wasserstein']:.6f}, "
                                f"bound {r['wasserstein_bound']}")
        ev_text = "-"
        if evidently is not None:
            e = evidently["fields"].get(name)
            if e is None:
                problems.append(f"{name}: Evidently gave no drift score")
            else:
                method, score = e["method"], e["score"]
                short = "W/sd" if method.startswith("Wasserstein") else "JS" if method.startswith("Jensen") else method
                ev_text = f"{short} {score:.6f}"
                if short == "W/sd":
                    # Evidently divides by the reference's std with ddof=0, scipy's here with ddof=1.
                    tolerance = 1 / b["n_reference"] + EXACT
                    if _rel(score, b["wasserstein"]) > tolerance:
                        problems.append(f"{name}: Evidently W/sd {score:.9f} vs scipy {b['wasserstein']:.9f} "
                                        f"(relative {_rel(score, b['wasserstein']):.2e} > {tolerance:.1e})")
                    if abs(score - r["wasserstein"]) > r["wasserstein_bound"] * (1 + tolerance):
                        problems.append(f"{name}: Evidently W/sd {score:.6f} vs Relevo {r['wasserstein']:.6f}, "
                                        f"beyond Relevo's bound {r['wasserstein_bound']:.6f}")
                elif short == "JS" and kind in ("number", "integer"):
                    # Evidently's JS on a numeric field of at most 5 values is over the values' counts, a
                    # statistic Relevo does not compute for numbers: held against the frames' own counts.
                    found = meta["value_counts"].get(name)
                    if found is None:
                        ev_text += " (no counterpart)"
                    else:
                        values = sorted(set(found["reference"]) | set(found["current"]), key=float)
                        mine = _js([found["reference"].get(v, 0) for v in values],
                                   [found["current"].get(v, 0) for v in values])
                        if _rel(score, mine) > EXACT:
                            problems.append(f"{name}: Evidently JS {score:.12g} vs the JS of the values' counts "
                                            f"{mine:.12g}")
                elif short == "JS":
                    if _rel(score, r["js"]) > EXACT:
                        problems.append(f"{name}: Evidently JS {score:.12g} vs Relevo {r['js']:.12g}")
                else:
                    ev_text += " (no counterpart)"
                if e["score"] >= e["threshold"]:
                    ev_text += " drift"
        fmt = lambda v, w, p: f"{v:>{w}.{p}f}" if isinstance(v, (int, float)) else f"{'-':>{w}}"  # noqa: E731
        lines.append(f"{name:<16} {(moved or '-'):<28} {fmt(r['psi'], 8, 4)} {fmt(r['ks'], 7, 4)} "
                     f"{fmt(b.get('ks'), 7, 4)} {fmt(r['ks_bound'], 6, 4)} {fmt(r['wasserstein'], 7, 4)} "
                     f"{fmt(b.get('wasserstein'), 7, 4)} {fmt(r['wasserstein_bound'], 6, 4)} {fmt(r['js'], 7, 4)} "
                     f"{fmt(r['chi_square'], 10, 1)}  {ev_text}")
    return lines, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of each frame")
    parser.add_argument("--repeat", type=int, default=3, help="runs of Relevo and bare (median taken)")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, one run each")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--evidently", action=argparse.BooleanOptionalAction, default=True,
                        help="run Evidently's contender (needs scripts/evidently-env)")
    parser.add_argument("--from-log", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the monitoring pass from a decision log in SQLite")
    parser.add_argument("--log-rows", type=int, default=None, help="decisions in the log (default: --rows)")
    parser.add_argument("--profile-relevo", default=None, metavar="FILE",
                        help="write a cProfile of one Relevo pass to FILE")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeat = 100_000, 1
    args.log_rows = min(args.log_rows or args.rows, args.rows)
    WORK.mkdir(exist_ok=True)
    if args.child:
        result = CHILDREN[args.child](args)
        (WORK / f"{args.child}.json").write_text(json.dumps(result), encoding="utf-8")
        return

    print(f"{args.rows:,} rows x {len(FIELDS)} fields ({len(NUMERIC)} numeric, {len(CATEGORICAL)} categorical), "
          f"{sum(1 for f in FIELDS.values() if f[2])} moved; seed {args.seed}; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.2f} (another job on the cores skews the times)", flush=True)
    started = time.perf_counter()
    meta = run_child("frames", args)
    print(f"frames written to {WORK.relative_to(ROOT)} in {time.perf_counter() - started:.1f} s", flush=True)
    profiled = run_child("profile", args)
    print(f"reference profiled (one-off, as registration does) in {profiled['seconds']:.2f} s, "
          f"peak {profiled['peak_mb']:.0f} MB", flush=True)

    relevo_runs: list[dict[str, Any]] = []
    bare_runs: list[dict[str, Any]] = []
    for i in range(args.repeat):  # interleaved, alternating which goes first
        order = [("relevo", relevo_runs), ("bare", bare_runs)]
        for kind, runs in order if i % 2 == 0 else order[::-1]:
            extra = {"profile_out": args.profile_relevo} if kind == "relevo" and args.profile_relevo and i == 0 else {}
            runs.append(run_child(kind, args, **extra))
            print(f"run {i + 1}: {kind:<6} {runs[-1]['seconds']:.2f} s, peak {runs[-1]['peak_mb']:.0f} MB "
                  f"(after loading its columns {runs[-1]['loaded_mb']:.0f} MB; loading took "
                  f"{runs[-1]['load_seconds']:.2f} s, not timed)", flush=True)
    evidently = None
    evidently_note = ""
    if not args.evidently:
        evidently_note = "Evidently skipped (--no-evidently)"
    elif not EVIDENTLY_PYTHON.exists():
        evidently_note = (f"Evidently skipped: {EVIDENTLY_PYTHON.parent.parent.relative_to(ROOT)} is missing; "
                          "build it with scripts/evidently-env (Evidently 0.7 needs pandas < 3, so it lives apart)")
    else:
        evidently = run_child("evidently", args, python=str(EVIDENTLY_PYTHON))
        runs = evidently["runs"]
        evidently_note = (f"Evidently {evidently['version']} (pandas {evidently['pandas']}): "
                          + ", ".join(f"{s:.2f} s" for s in runs)
                          + (" (run once: slower than 20 s)" if len(runs) < args.repeat else "")
                          + f"; of which Dataset.from_pandas {statistics.median(evidently['datasets']):.2f} s; peak "
                          f"{evidently['peak_mb']:.0f} MB (after loading both frames {evidently['loaded_mb']:.0f} MB)")
    print(evidently_note, flush=True)

    log = None
    if args.from_log:
        setup = run_child("log-setup", args)
        print(f"decision log: {setup['rows']:,} decisions written to a SQLite store in {setup['seconds']:.0f} s "
              f"({setup['size_mb']:.0f} MB)", flush=True)
        log = run_child("log", args)
        remove_log_store()  # made anew by every run: not worth a gigabyte of disk in between

    # Results.
    relevo_s = statistics.median(r["seconds"] for r in relevo_runs)
    bare_s = statistics.median(r["seconds"] for r in bare_runs)
    relevo_mb = max(r["peak_mb"] for r in relevo_runs)
    bare_mb = max(r["peak_mb"] for r in bare_runs)
    print()
    print(f"{'contender':<50} {'seconds':>9} {'peak MB':>9}")
    print(f"{'Relevo: profile the reference (one-off)':<50} {profiled['seconds']:>9.2f} {profiled['peak_mb']:>9.0f}")
    label = f"Relevo: monitoring pass (median of {len(relevo_runs)})"
    print(f"{label:<50} {relevo_s:>9.2f} {relevo_mb:>9.0f}")
    label = f"bare numpy/scipy (median of {len(bare_runs)})"
    print(f"{label:<50} {bare_s:>9.2f} {bare_mb:>9.0f}")
    if evidently is not None:
        ev_s, ev_mb = statistics.median(evidently["runs"]), evidently["peak_mb"]
        label = f"Evidently DataDriftPreset ({len(evidently['runs'])} run{'s' if len(evidently['runs']) > 1 else ''})"
        print(f"{label:<50} {ev_s:>9.2f} {ev_mb:>9.0f}")
    if log is not None:
        label = f"Relevo from the decision log: read_window ({log['decisions']:,})"
        print(f"{label:<50} {log['read_seconds']:>9.2f} {log['peak_mb']:>9.0f}")
        print(f"{'  then build_report':<50} {log['report_seconds']:>9.2f}")
    worst_hwm = max(abs(r["peak_mb"] - r["hwm_mb"]) for r in relevo_runs + bare_runs)
    print(f"(peak MB is each child's ru_maxrss; /proc VmHWM agrees within {worst_hwm:.0f} MB)")
    print()
    lines, problems = agreement(meta, relevo_runs[0]["fields"], bare_runs[0]["fields"], evidently)
    print("\n".join(lines))
    print()
    print("moved fields:", ", ".join(n for n, f in FIELDS.items() if f[2]))
    relevo_fields = relevo_runs[0]["fields"]
    for rule, state, summary in (log or {}).get("findings", []):  # the product's own rules, on the logged window
        print(f"Relevo, rule {rule}: {state}: {summary}")
    if evidently is not None:
        flagged = [n for n in FIELDS if n in evidently["fields"]
                   and evidently["fields"][n]["score"] >= evidently["fields"][n]["threshold"]]
        print(f"Evidently (its thresholds) flags: {', '.join(flagged) or 'none'}")
    print("chi-square p-values of unmoved categorical fields: Relevo's chi_square_p (the reference's shares taken "
          "as exact) vs a two-sample test (scipy chi2_contingency)" + (", = Relevo's shift_p" if any(
              f.get("shift_p") is not None for f in relevo_fields.values()) else "") + ":")
    pairs = [(n, relevo_fields[n]["chi_square_p"], bare_runs[0]["fields"][n]["two_sample_p"])
             for n in CATEGORICAL if not FIELDS[n][2]]
    print("  " + "; ".join(f"{n} {mine:.3g} vs {two:.3g}" for n, mine, two in pairs))
    if log is not None:
        for name, found in log["fields"].items():
            mine = relevo_runs[0]["fields"][name]
            for key in ("psi", "ks", "wasserstein", "js", "chi_square"):
                if (found[key] is None) != (mine[key] is None) or (
                        found[key] is not None and _rel(found[key], mine[key]) > EXACT):
                    problems.append(f"{name}: {key} from the decision log {found[key]} vs from the columns {mine[key]}")
    for kind, runs in (("Relevo", relevo_runs), ("bare", bare_runs)):
        if any(later["fields"] != runs[0]["fields"] for later in runs[1:]):
            problems.append(f"{kind}: a repeated run gave other statistics than the first")
    print()
    if problems:
        print(f"DISAGREEMENTS ({len(problems)}):")
        for problem in problems:
            print(f"  {problem}")
    else:
        also = "; Evidently's scores likewise" if evidently else ""
        also += "; the pass from the decision log gives the same numbers" if log else ""
        print("agreement: every statistic agrees (KS and Wasserstein within Relevo's bounds of scipy's; PSI, JS and "
              f"chi-square to {EXACT:g}, homogeneity p-values to 1e-6{also})")
    print()
    print(f"Relevo / bare time       : {relevo_s / bare_s:.2f}  (goal <= {GOAL_BARE:g}: "
          f"{'met' if relevo_s / bare_s <= GOAL_BARE else 'NOT met'})")
    if evidently is not None:
        speedup, memory = ev_s / relevo_s, relevo_mb / ev_mb
        print(f"Evidently / Relevo time  : {speedup:.1f}  (goal >= {GOAL_SPEEDUP:g}: "
              f"{'met' if speedup >= GOAL_SPEEDUP else 'NOT met'})")
        print(f"Relevo / Evidently memory: {memory:.3f}  (goal <= {GOAL_MEMORY:g}: "
              f"{'met' if memory <= GOAL_MEMORY else 'NOT met'})")
    else:
        print(f"Evidently goals not measured: {evidently_note}")
    print(f"Relevo / bare memory     : {relevo_mb / bare_mb:.2f}  (no goal)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min), {os.getloadavg()[1]:.2f} (5 min)")


if __name__ == "__main__":
    main()
