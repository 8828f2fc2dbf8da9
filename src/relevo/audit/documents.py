"""Reading the files an auditor is handed (bundles, proofs): JSON of a named format, or a clear refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from relevo.errors import InvalidInput, NotFound


def read_document(path: Path, format_name: str, what: str) -> dict[str, Any]:
    """The JSON object in path, which must declare format_name; what names it in errors."""
    try:
        body = json.loads(path.read_text())
    except FileNotFoundError:
        raise NotFound(f"no {what} at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path} is not an audit {what} (not JSON: {exc})") from None
    if not isinstance(body, dict) or body.get("format") != format_name:
        raise InvalidInput(f"{path} is not an audit {what} (format {format_name} expected)")
    return body
