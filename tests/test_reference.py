"""The spec and metadata references (docs/reference/) document every field and are what the models say today."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import jsonschema_rs
import yaml
from pydantic import BaseModel, Field

from tests.conftest import demo_training

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "reference"
DEMO_SPEC = REPO / "src" / "relevo" / "demo" / "licence-prefilter.yaml"


def _reference_tool():
    """scripts/reference as a module."""
    loader = importlib.machinery.SourceFileLoader("reference_tool", str(SCRIPT))
    spec = importlib.util.spec_from_loader("reference_tool", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_references_are_complete_and_current():
    run = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def test_an_undocumented_field_is_named():
    class Inner(BaseModel):
        """A nested section."""

        limit: int = Field(default=3, description="how many")

    class Outer(BaseModel):
        """The document."""

        inner: Inner = Field(description="a section")
        title: str = Field(description="a title", examples=["x"])
        note: str = ""

    assert _reference_tool().undocumented(Outer) == [
        "Outer.note: no description", "Outer.note: no example", "Inner.limit: no example"]


def test_the_page_gives_type_limits_default_and_example():
    page = _reference_tool().page("spec")
    assert "| `timeout_ms` | number (> 0, ≤ 60000) | `500` | model call timeout: past it the fallback answers | `300` |" in page
    assert "| `name` | text | **required** |" in page
    assert "[RolloutPolicy](#rolloutpolicy)" in page and "## RolloutPolicy" in page


def test_the_json_schemas_accept_the_demo_documents_and_refuse_a_typo():
    spec_schema = jsonschema_rs.validator_for(json.loads((REPO / "docs/reference/spec.schema.json").read_text()))
    spec = yaml.safe_load(DEMO_SPEC.read_text())
    assert spec_schema.is_valid(spec)
    assert not spec_schema.is_valid({**spec, "timout_ms": 300})

    metadata_schema = jsonschema_rs.validator_for(
        json.loads((REPO / "docs/reference/metadata.schema.json").read_text()))
    # JSON Schema knows no dates: the file's date is compared as the text it is written as.
    metadata = json.loads(json.dumps(yaml.safe_load(demo_training()[0].metadata_path.read_text()), default=str))
    assert metadata_schema.is_valid(metadata), [e.message for e in metadata_schema.iter_errors(metadata)]
    assert not metadata_schema.is_valid({**metadata, "autor": "x"})
