"""Running bmr's command line in-process for tests against the real servers."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from restore.cli.app import app
from tests.lib.servers import SMB_PASSWORD

runner = CliRunner()


def cli_json(*args: str) -> tuple[int, dict[str, Any]]:
    """Exit code and JSON of ``bmr ARGS --json`` with the test password from its variable; the password must not
    appear in anything printed."""
    result = runner.invoke(app, [*args, "--json", "--password-env", "BMR_TEST_PASSWORD"])
    assert SMB_PASSWORD not in result.stdout + result.stderr
    try:
        return result.exit_code, json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(result.stdout + result.stderr) from None
