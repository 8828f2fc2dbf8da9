"""The CLI through a remote server (RELEVO_URL + RELEVO_TOKEN): the same commands, the same output,
the acting identity the token's, every refusal the server's, on both engines."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from relevo import audit
from relevo.cli.main import app
from relevo.demo import SERVICE_NAME, spec_resource
from relevo.demo.setup import demo_suite
from relevo.services import load_spec
from relevo.rollouts import rollout_history
from tests.api.conftest import Served, demo_inputs, token_for
from tests.conftest import clear_checklist, demo_training

S = SERVICE_NAME


class RemoteCli:
    """relevo with RELEVO_URL set, acting as one token (no local store anywhere in reach)."""

    def __init__(self, url: str, token: str, home: Path) -> None:
        self.env: dict[str, str | None] = {"RELEVO_URL": url, "RELEVO_TOKEN": token, "RELEVO_HOME": str(home), "RELEVO_DATABASE_URL": None,
                    "RELEVO_ACTOR": None, "COLUMNS": "200"}
        self.runner = CliRunner()

    def __call__(self, *args: object, ok: bool = True):
        result = self.runner.invoke(app, [str(a) for a in args], env=self.env, catch_exceptions=False)
        assert "Traceback" not in result.output
        if ok:
            assert result.exit_code == 0, f"relevo {' '.join(map(str, args))} failed:\n{result.output}"
        else:
            assert result.exit_code == 1, result.output
        return result


@pytest.fixture
def remote(served: Served, tmp_path: Path):
    def as_(name: str, *roles: str) -> RemoteCli:
        return RemoteCli(served.url, token_for(served.ctx, name, *roles), tmp_path / "no-store-here")

    return as_


def test_a_remote_session_runs_the_same_commands_as_the_token(served: Served, remote, cli, tmp_path: Path):
    publisher, operator = remote("pia", "publisher"), remote("olga", "operator")
    approver, auditor, admin = remote("abel", "approver"), remote("aud", "auditor"), remote("ada", "admin")
    # Reads print exactly what they print on the local store.
    for command in (["versions", S], ["show", S, "v2"], ["route", S], ["rollout", "history", S]):
        assert operator(*command).stdout == cli(*command).stdout, command
    assert auditor("user", "list").stdout == cli("user", "list").stdout
    assert "auditor or admin role" in operator("token", "list", ok=False).output
    assert json.loads(operator("versions", S, "--json").stdout) == json.loads(cli("versions", S, "--json").stdout)
    assert not (tmp_path / "no-store-here").exists()  # nothing local was opened

    # Registration uploads the files; the server's temporary folder never shows in a message.
    trained = demo_training()[1]
    conflict = publisher("register", S, trained.artifact_dir, "-m", trained.metadata_path, ok=False)
    assert "identical content is already registered as" in conflict.output and "relevo-upload" not in conflict.output
    changed = tmp_path / "artifact"
    shutil.copytree(trained.artifact_dir, changed)
    (changed / "NOTES.txt").write_text("retrained with the November data\n")
    registered = json.loads(publisher("register", S, changed, "-m", trained.metadata_path, "--reference-data",
                                      trained.reference_data_path, "--tag", "candidate", "--json").stdout)
    assert registered["version"] == "v4" and registered["file_count"] == len(list(changed.iterdir()))
    assert "registered" in publisher("show", S, "v4").stdout
    assert publisher("register", S, changed, "-m", tmp_path / "missing.yaml", ok=False).output.count("missing.yaml")
    answered = json.loads(publisher("predict", S, "v4", _rows(tmp_path), "--json").stdout)
    assert answered[0]["decision"] in ("admissible", "rejected", "needs_review")

    # Its checklist, through the server: shown, an item attested, one waived, the rest closed here.
    listed = operator("checklist", S, "--version", "v4", "--plan", "canary-only", ok=False)
    assert listed.exit_code == 1 and "runbook" in listed.stdout and "the rollout cannot start" in listed.stdout
    assert "confirmed by olga" in operator("runbook", "confirm", S).stdout
    assert "olga does not hold the approver role" in operator(
        "waive", S, "shadow", "--version", "v4", "--plan", "canary-only", "--reason", "the canary suffices",
        ok=False).output
    assert "shadow waived" in approver("waive", S, "shadow", "--version", "v4", "--plan", "canary-only",
                                       "--reason", "a 5% canary, agreed with the board").stdout
    clear_checklist(served.ctx, "v4", plan="canary-only")
    # A rollout started, paused and resumed by the operator; four eyes hold across the wire.
    started = operator("rollout", "start", S, "v4", "--plan", "canary-only").stdout
    rollout_id = int(started.split()[1])
    assert "paused" in operator("rollout", "pause", rollout_id, "--reason", "checking the dashboards").stdout
    assert "olga does not hold the approver role" in operator("rollout", "promote", rollout_id, ok=False).output
    assert "step 1 (canary) has not passed" in approver("rollout", "promote", rollout_id, ok=False).output
    operator("rollout", "resume", rollout_id)
    status = json.loads(operator("rollout", "status", S, "--json").stdout)
    assert status["id"] == rollout_id and status["started_by"] == "olga"
    rolled = operator("rollout", "rollback", rollout_id, "--reason", "rejections up in north").stdout
    incident = int(rolled.rsplit("incident ", 1)[1].split()[0])
    assert "Incident" in operator("incident", "document", incident, "--cause", "a feature shifted in north",
                                  "--remediation", "retrain with the November data").stdout
    [latest, *_] = rollout_history(served.ctx, S)
    assert (latest.id, latest.state, latest.started_by) == (rollout_id, "rolled_back", "olga")
    # Retried once documented; whoever started it cannot approve it, whatever roles they hold.
    both = remote("otto", "operator", "approver")
    again = int(both("rollout", "start", S, "v4", "--plan", "canary-only").stdout.split()[1])
    override = ("--override", "the city council accepted the risk in writing")
    assert "otto started rollout 2 and cannot also approve" in both("rollout", "promote", again, *override, ok=False).output
    assert "promoted" in approver("rollout", "promote", again, *override).stdout

    # The kill switch, and a spec applied from a local file.
    assert "fallback forced" in operator("fallback", S, "on").stdout
    assert "fallback released" in operator("fallback", S, "off").stdout
    assert "unchanged" in operator("service", "apply", _spec(tmp_path)).stdout

    # Identities and tokens, by the admin; the new token works at once.
    admin("user", "add", "carla", "--role", f"operator:{S}")
    made = admin("token", "create", "carla").stdout
    carla = RemoteCli(served.url, made.strip().splitlines()[-1], tmp_path / "no-store-here")
    assert "paused" not in carla("route", S).stdout
    assert "needs the admin role" in carla("user", "add", "eve", ok=False).output

    # The audit log: read, verified and exported by the auditor, then checked offline.
    events = json.loads(auditor("audit", "--service", S, "--json").stdout)
    assert {"olga", "pia"} <= {e["actor"] for e in events}
    assert "ok" in auditor("audit", "verify").stdout
    bundle = tmp_path / "bundle.json"
    auditor("audit", "export", bundle)
    key = auditor("audit", "key").stdout.strip()
    assert key == audit.public_key(served.ctx)
    assert "ok" in cli("audit", "verify", "--bundle", bundle, "--key", key).stdout  # offline: no server at all
    proof = tmp_path / "proof.json"
    auditor("audit", "prove", "--event", events[0]["id"], "--out", proof)
    assert "ok" in cli("audit", "verify", "--proof", proof, "--key", key).stdout


def test_environments_test_runs_and_replays_run_through_the_server(served: Served, remote, cli, tmp_path: Path):
    operator, publisher = remote("olga", "operator"), remote("pia", "publisher")
    assert operator("env", "list").stdout == cli("env", "list").stdout
    operator("env", "add", "preproduction", "--description", "the council's rehearsal copy")
    assert "the council's rehearsal copy" in " ".join(cli("env", "list").stdout.split())
    assert "already exists" in operator("env", "add", "preproduction", ok=False).output
    assert "does not hold the operator role for every service" in publisher("env", "add", "qa", ok=False).output
    assert "unknown environment 'qa'" in operator("test", S, "v2", "--env", "qa", ok=False).output

    # The suite runs on the server, in the environment named; the run is the server's record.
    run = json.loads(operator("test", S, "v2", "--env", "preproduction", "--json").stdout)
    assert (run["environment"], run["outcome"], run["ran_by"]) == ("preproduction", "passed", "olga")
    assert str(run["id"]) in operator("test-runs", S).stdout
    assert "no full test run of v2 in staging" in " ".join(operator("env", "validation", S, "v2", ok=False).stdout.split())
    assert "has no fingerprint yet" in " ".join(operator("env", "diff", "staging", "production", ok=False).output.split())
    assert "works only on a local store" in operator("env", "fingerprint", ok=False).output

    # A replay of production's recorded cases to v3 in the new environment.
    for i in range(5):
        assert served.decide(demo_inputs(), case_id=f"replayed-{i}").status_code == 200
    replayed = " ".join(operator("replay", S, "--to", "preproduction", "--version", "v3", "--limit", "3").stdout.split())
    assert "3 recorded production cases of licence-prefilter, 3 replayed to v3 in preproduction" in replayed
    assert "limit" in operator("replay", S, "--version", "v3", "--limit", "100001", ok=False).output


def test_remote_refusals_are_the_servers_and_say_what_is_wrong(served: Served, remote, tmp_path: Path):
    operator, client = remote("olga", "operator"), remote("portal", "client")
    assert "unknown service 'no-such-service'" in operator("versions", "no-such-service", ok=False).output
    assert "does not hold the publisher role" in client("annotate", S, "v1", "a note", ok=False).output
    assert "auditor or operator or dpo or admin" in client("audit", ok=False).output
    # Commands of this machine, and settings that would contradict the server, are refused plainly.
    for command in (["init"], ["demo"], ["serve"], ["controller", "--once"]):
        assert "unset it to run it here" in operator(*command, ok=False).output
    wrong = RemoteCli(served.url, "rlv_not-a-token", tmp_path)
    assert "refused the token" in wrong("route", S, ok=False).output
    plain = RemoteCli("http://relevo.example.org", "rlv_x", tmp_path)
    assert "unencrypted" in plain("route", S, ok=False).output
    nobody = RemoteCli("http://127.0.0.1:9", "rlv_x", tmp_path)
    assert "cannot reach http://127.0.0.1:9" in nobody("route", S, ok=False).output
    actor = RemoteCli(served.url, "rlv_x", tmp_path)
    actor.env["RELEVO_ACTOR"] = "someone-else"
    assert "drop --actor" in actor("route", S, ok=False).output


def _rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([demo_inputs()]))
    return path


def _spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(spec_resource().read_text(encoding="utf-8"))
    demo_suite(tmp_path, load_spec(path))  # the suite the spec names, beside it
    return path


def test_an_upload_is_unpacked_inside_its_folder_or_refused(served: Served, tmp_path: Path):
    publisher = {"Authorization": f"Bearer {token_for(served.ctx, 'pia', 'publisher')}"}
    url = f"{served.url}/v1/services/{S}/versions"

    def archive(name: str) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:") as tar:
            info = tarfile.TarInfo(name)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
        return buffer.getvalue()

    tar = {"Content-Type": "application/x-tar"}
    names = {"artifact": "model", "metadata": "metadata.yaml"}
    escaped = httpx.post(url, params=names, content=archive("../outside.txt"), headers=publisher | tar)
    assert escaped.status_code == 422 and "not a readable tar archive" in escaped.json()["error"]["message"]
    assert httpx.post(url, params=names, content=b"{}", headers=publisher | {
        "Content-Type": "application/json"}).status_code == 415
    assert httpx.post(url, params=names | {"metadata": ".."}, content=archive("x"),
                      headers=publisher | tar).status_code == 422
    assert httpx.post(url, params=names, content=archive("x"), headers=tar).status_code == 401  # no token
    # Another role is refused before its body is read (it could otherwise fill the server's disk).
    portal = {"Authorization": f"Bearer {token_for(served.ctx, 'portal', 'client')}"}
    assert httpx.post(url, params=names, content=archive("x"), headers=portal | tar).status_code == 403
    served.app.state.max_upload_bytes = 1024
    too_large = httpx.post(url, params=names, content=archive("x") * 2, headers=publisher | tar)
    assert too_large.status_code == 413 and "RELEVO_API_MAX_UPLOAD_MB" in too_large.json()["error"]["message"]

