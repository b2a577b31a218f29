"""Each mapping is one table, and each table is complete: error class -> exit code, outcome -> exit code,
scheme -> backend, output format -> renderer, command name -> command."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

import restore
from restore.cli import exitcodes
from restore.cli.app import COMMANDS, app
from restore.outcome import Outcome
from share import errors
from share.connect import SCHEMES, parse_location
from winre.formats import RENDERERS, Format
from winre.runbook import Disk, RunbookInput, Value
from winre.terms import Purpose, Scenario


def _all_error_classes() -> list[type[errors.BmrError]]:
    for module in pkgutil.walk_packages(restore.__path__, "restore."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: list[type[errors.BmrError]] = []
    todo: list[type[errors.BmrError]] = [errors.BmrError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


EXPECTED = {
    "UsageError": 2, "InvalidLocation": 2, "Unsupported": 2, "InventoryError": 3, "ShareError": 3,
    "AuthenticationFailed": 3, "DiskFull": 3, "StageRefused": 1, "VerificationFailed": 1, "SourceChanged": 1,
    "NotInTree": 1, "NotRestorable": 1, "NotReady": 1, "InsideTheTree": 1, "Unusable": 3,
}  # fmt: skip


@pytest.mark.parametrize("cls", _all_error_classes(), ids=lambda c: c.__name__)
def test_every_error_class_has_one_exit_code(cls: type[errors.BmrError]) -> None:
    code = exitcodes.for_error(cls("x"))
    assert code in (exitcodes.FAILED, exitcodes.USAGE, exitcodes.ENVIRONMENT)
    assert code == EXPECTED.get(cls.__name__, code)
    assert cls.__doc__, "the docstring is the hint a user reads"
    assert "--debug" not in (cls.__doc__ or "")  # no hint promises an option that does not exist


def test_the_expected_classes_exist() -> None:
    assert set(EXPECTED) <= {c.__name__ for c in _all_error_classes()}


def test_every_outcome_has_an_exit_code() -> None:
    assert {exitcodes.for_outcome(o) for o in Outcome} == {0, 1, 3}
    assert exitcodes.for_error(KeyboardInterrupt()) == 130


@pytest.mark.parametrize(
    ("text", "scheme"),
    [("smb://u@10.0.0.5/share/x", "smb"), ("sftp://u@10.0.0.9/srv", "sftp"), ("memory://m/x", "memory"),
     ("\\\\10.0.0.5\\share", "smb"), ("/srv/restore", "local")],
)  # fmt: skip
def test_every_scheme_parses_its_own_form(text: str, scheme: str) -> None:
    assert parse_location(text).scheme == scheme
    assert scheme in SCHEMES and SCHEMES[scheme].open is not None


def test_negotiation_is_declared_only_where_it_exists() -> None:
    assert [name for name, s in SCHEMES.items() if s.negotiate is not None] == ["smb"]


def test_every_format_has_a_renderer() -> None:
    assert set(RENDERERS) == set(Format)
    when = datetime(2020, 10, 4, 17, 48, 38, tzinfo=UTC)
    inp = RunbookInput(
        location="smb://CORP;u@10.0.0.5/r", machine=Value("DC01", "t"), version=Value("10/04/2020-17:48", "t"),
        backup_time_utc=when, can_recover=("Bare Metal Recovery",), roles=(), purpose=Purpose.BMR,
        scenario=Scenario.OS_DAMAGED, backup_target=Value("\\\\10.0.0.5\\r", "t"), share_folder=Value(".", "t"),
        account=Value("CORP\\u", "t"), disks=(Disk("C:", 2**30),), generated_at=when, tool_version="t",
    )  # fmt: skip
    for fmt, render in RENDERERS.items():
        out = render(inp)
        assert out and (isinstance(out, bytes) == (fmt is Format.pdf))


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help_with_json_and_examples(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0 and "--json" in result.stdout
    if name not in ("drill", "demo"):
        assert "Example" in result.stdout
