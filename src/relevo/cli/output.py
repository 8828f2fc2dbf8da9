"""How the CLI speaks: errors without tracebacks, JSON for machines, tables for people."""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from datetime import datetime
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, Progress, TimeElapsedColumn
from rich.markup import escape

from relevo.errors import Refused, RelevoError

console = Console()
errors = Console(stderr=True)


def write_document(path: Path, content: str | bytes, what: str) -> None:
    """Write a generated document (what: "the runbook"), or one clear line saying why it cannot be."""
    try:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise Refused(f"cannot write {what} to {path}: {exc.strerror or exc}") from None


def reports_errors(fn: Callable) -> Callable:
    """Turn a RelevoError into a one-paragraph message and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RelevoError as exc:
            errors.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


def _plain(value: Any) -> Any:
    """A use case's typed result (dataclass, pydantic model) as JSON-ready data: a result that
    says its own JSON form (`as_dict`) gives it; other dataclasses give their fields, one level
    at a time, so a nested result's own form is used too."""
    if hasattr(value, "as_dict") and not isinstance(value, type):
        return value.as_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def print_json(data: Any) -> None:
    """Machine-readable output on stdout; typed results are written as their fields."""
    sys.stdout.write(json.dumps(data, indent=2, default=_plain) + "\n")


def human_size(n: int) -> str:
    """Bytes in a readable unit."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """A progress bar per phase of long work (phase(name, total) gives the advance callback); nothing when quiet."""
    if quiet:
        yield lambda phase, total: (lambda n: None)
        return
    with Progress("[progress.description]{task.description}", BarColumn(), "{task.completed:,}/{task.total:,}",
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        def phase(name: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(name, total=max(total, 1))
            return lambda n: bar.advance(task, n)

        yield phase
