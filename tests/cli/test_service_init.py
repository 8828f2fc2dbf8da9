"""`relevo service init` writes two files to start from, and never over a user's own."""

from __future__ import annotations

import pytest

from tests.registry.test_draft import pickups  # noqa: F401  (fixture)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_init_writes_both_files_and_does_not_overwrite(cli, pickups, tmp_path):  # noqa: F811
    args = ["service", "init", "bulky-pickup", "--model", pickups / "pickup.skops", "--data",
            pickups / "pickups.csv", "--label", "outcome", "--out", tmp_path]
    assert "marked personal until you review them" in cli(*args).stdout
    assert (tmp_path / "bulky-pickup.yaml").is_file() and (tmp_path / "bulky-pickup.metadata.yaml").is_file()
    refused = cli(*args, ok=False)
    assert refused.exit_code == 1 and "give --force to overwrite" in refused.stderr
    assert cli(*args, "--force").exit_code == 0
    applied = cli("service", "apply", tmp_path / "bulky-pickup.yaml", ok=False)
    assert applied.exit_code == 1 and "still has TODO in description, owner" in applied.stderr
