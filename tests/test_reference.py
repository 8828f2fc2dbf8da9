"""The spec and metadata references (docs/reference/) document every field and are what the models say today."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel, Field

from tests.conftest import script_module

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "reference"


def _reference_tool():
    """scripts/reference as a module."""
    return script_module(SCRIPT)


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


def test_the_json_schemas_refuse_unknown_keys_at_every_level():
    """Editors flag a typo where Relevo would refuse it: every section of the schema forbids unknown keys."""
    for name in ("spec.schema.json", "metadata.schema.json", "suite.schema.json"):
        schema = json.loads((REPO / "docs" / "reference" / name).read_text())
        sections = [schema, *schema["$defs"].values()]
        objects = [s for s in sections if s.get("type") == "object"]
        assert objects and all(s.get("additionalProperties") is False for s in objects), name
    assert "timeout_ms" in json.loads((REPO / "docs/reference/spec.schema.json").read_text())["properties"]


def _validator(name: str):
    import jsonschema_rs

    return jsonschema_rs.validator_for(json.loads((REPO / "docs" / "reference" / name).read_text(encoding="utf-8")))


def test_the_documents_relevo_ships_match_the_json_schemas_editors_get():
    """An editor checking a file against the published schema agrees with Relevo on the files Relevo
    itself ships: the demo's spec and metadata, and the guide's spec."""
    import re

    import yaml

    from relevo.demo import spec_resource
    from tests.conftest import demo_training

    spec, metadata = _validator("spec.schema.json"), _validator("metadata.schema.json")
    guide = (REPO / "docs" / "your-own-model.md").read_text(encoding="utf-8")
    [guide_spec] = re.findall(r"```yaml file=bulky-pickup.yaml\n(.*?)```", guide, re.S)
    for name, body in (("demo spec", spec_resource().read_text()), ("guide's spec", guide_spec)):
        errors = [e.message for e in spec.iter_errors(yaml.safe_load(body))]
        assert errors == [], (name, errors)
    from relevo.demo import suite_resource

    errors = [e.message for e in _validator("suite.schema.json").iter_errors(yaml.safe_load(suite_resource().read_text()))]
    assert errors == [], ("demo suite", errors)
    for version in demo_training():
        document = yaml.safe_load(version.metadata_path.read_text())
        errors = [e.message for e in metadata.iter_errors(json.loads(json.dumps(document, default=str)))]
        assert errors == [], (version.name, errors)


def test_the_json_schema_refuses_what_relevo_refuses():
    import yaml

    from relevo.demo import spec_resource

    spec = _validator("spec.schema.json")
    body = yaml.safe_load(spec_resource().read_text())
    body["reveiw"] = {"labels": ["rejected"]}  # a typo in a section's name
    body["timeout_ms"] = -5
    body["review"] = {"probability_bands": [{"label": "rejected", "low": 0.2, "high": 1.5}]}
    messages = " | ".join(e.message for e in spec.iter_errors(body))
    assert "reveiw" in messages and "-5" in messages and "1.5" in messages, messages
