"""Reading a training-data sample (CSV or Parquet) into columns for the reference profile."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

from relevo.analysis.profile import profile_columns
from relevo.blobs.manifest import hash_file
from relevo.errors import InvalidInput, NotFound


def read_table(path: Path, what: str = "reference data") -> pa.Table:
    """The CSV or Parquet file at path as an Arrow table; errors say which file and why."""
    import pyarrow as pa  # on first use: importing it adds ~0.1 s to every command's start
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if suffix in (".csv", ".txt"):
            import pyarrow.csv as pacsv

            return pacsv.read_csv(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"cannot read {what} {path}: {exc}") from None
    raise InvalidInput(f"{what} must be .csv or .parquet, got {path.name}")


def _column(array: pa.ChunkedArray) -> Any:
    import pyarrow as pa
    kind = array.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return array.cast(pa.float64()).fill_null(float("nan")).to_numpy()
    if pa.types.is_boolean(kind):
        return [None if v is None else ("true" if v else "false") for v in array.to_pylist()]
    return [None if v is None else str(v) for v in array.to_pylist()]


def read_rows(path: Path, names: list[str], limit: int) -> list[dict[str, Any]]:
    """Up to limit rows of the sample at path, as mappings of the named columns it has; rows
    missing a value in one of those columns are skipped."""
    if not path.exists():
        raise NotFound(f"reference data file not found: {path}")
    table = read_table(path)
    present = [name for name in names if name in table.column_names]
    rows = []
    for row in table.select(present).slice(0, 50 * limit).to_pylist():
        if all(value is not None for value in row.values()):
            rows.append(row)
            if len(rows) == limit:
                break
    return rows


def profile_reference_data(path: Path, personal: set[str]) -> dict[str, Any]:
    """The reference profile of the sample at path; personal-data columns are not profiled."""
    if not path.exists():
        raise NotFound(f"reference data file not found: {path}")
    table = read_table(path)
    if table.num_rows == 0:
        raise InvalidInput(f"reference data {path} has no rows")
    columns = {name: _column(table.column(name)) for name in table.column_names}
    profile = profile_columns(columns, skip=personal)
    profile["source"] = {"name": path.name, "sha256": hash_file(path).sha256}
    return profile
