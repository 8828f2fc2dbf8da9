"""What a new user gets wrong, and the one clear line that says so (exit 1; usage errors exit 2)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from relevo.demo import SERVICE_NAME as S

# Messages are decided above the store, the same on both engines.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_misspelt_service_is_named_not_an_empty_table(cli, demo_settings):
    for command in (["rollout", "history", "licence-prefiter"], ["audit", "--service", "licence-prefiter"],
                    ["incident", "list", "--service", "licence-prefiter"]):
        refused = cli(*command, ok=False)
        assert refused.exit_code == 1 and "unknown service 'licence-prefiter'" in refused.stderr, command
        assert S in refused.stderr  # the known ones are listed
    assert cli("audit", "--service", S, "--json").exit_code == 0


def test_what_is_missing_comes_before_what_is_malformed(cli, demo_settings):
    refused = cli("incident", "document", "99", "--cause", "?", "--remediation", "?", ok=False)
    assert "no incident 99" in refused.stderr
    # An unknown environment is named, rather than a command suggested that would refuse it.
    assert "unknown environment 'prod'; environments are" in cli("route", S, "--env", "prod", ok=False).stderr
    assert cli("fallback", S, "maybe", ok=False).exit_code == 2  # a usage error


@pytest.mark.parametrize(("text", "said"), [
    ("", "is empty"),
    ("- a list\n", "must hold a mapping of fields (name: value), not a list"),
    ("name: x\n  owner: [1\n", "is not valid YAML/JSON at line 2, column 8"),
])
def test_a_broken_spec_file_is_named_with_where_it_breaks(cli, demo_settings, tmp_path: Path, text, said):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    refused = cli("service", "apply", path, ok=False)
    assert f"service spec file {path} {said}" in refused.stderr and "unicode string" not in refused.stderr


def test_rows_the_gateway_would_refuse_are_refused_by_predict(cli, demo_settings, tmp_path: Path):
    rows = tmp_path / "rows.json"
    rows.write_text('{"licence_type": "terrace", "district": "mars"}')
    refused = cli("predict", S, "v1", rows, ok=False).stderr
    assert "row 0 is refused as the gateway would refuse it" in refused and "district" in refused
    assert "blobs" not in refused


def test_a_port_in_use_is_one_line(cli, demo_settings):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = cli("serve", "--port", port, ok=False)
    assert refused.exit_code == 1
    assert f"cannot listen on http://127.0.0.1:{port}: it is in use; choose another --port" in refused.stderr
