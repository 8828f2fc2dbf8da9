"""Running the CLI: in-process through typer's runner, or as the installed `relevo` program."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from relevo.cli.main import app

from tests.api.conftest import served  # noqa: F401  (fixtures)
from tests.registry.conftest import artifact, reference_csv  # noqa: F401


class Cli:
    """Invoke relevo with the test store's environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True):
        result = self.runner.invoke(app, [str(a) for a in args], env=self.env, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, f"relevo {' '.join(map(str, args))} failed:\n{result.output}"
        return result

    def init(self, *args: str):
        """`relevo init`, then act with the first admin's token it shows once (as its user would)."""
        result = self("init", *args)
        tokens = [line for line in result.stdout.splitlines() if line.startswith("rlv_")]
        if tokens:
            self.env["RELEVO_TOKEN"] = tokens[0]
        return result

    def json(self, *args: str):
        return json.loads(self(*args, "--json").stdout)

    def process(self, *args: str) -> subprocess.CompletedProcess:
        """Run the real program in a child process."""
        return subprocess.run([sys.executable, "-m", "relevo", *map(str, args)], env=self.env,
                              capture_output=True, text=True, timeout=120)


@pytest.fixture
def cli(cli_env) -> Cli:
    return Cli(cli_env)


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("name: licence-prefilter\ndescription: pre-filter of licence applications\nowner: Urbanism\n")
    return path
