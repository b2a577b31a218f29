"""Staging can never destroy data (fast tier, local folders): source and target the same, nested or overlapping in
any spelling are refused before anything is touched, whatever the flags; --force changes nothing outside the one
computer being staged; every staged point keeps its proofs; verify checks them all; bmr's own staged trees are not
"copies"; the dry run is the real planner with writing switched off."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from restore.checks import shareroot
from restore.demo.sample import PointSpec, write_machine
from restore.staging.names import partial_name
from restore.tree.find import inspect_location
from share.connect import Access, open_backend, parse_location
from tests.staging.stagesafe_lib import NEW, OLD, bmr, bmr_json, force_keeps_everything_else, hashes, two_computers

SAME = [
    ("\\\\Files01\\Restore\\mabs", "smb://files01/restore/mabs/"),
    ("\\\\files01\\restore", "smb://FILES01/Restore/"),
    ("smb://CORP;svc@10.0.0.5/restore/x", "\\\\10.0.0.5\\RESTORE\\X\\"),
    ("smb://10.0.0.5:445/restore", "\\\\10.0.0.5\\restore"),
    ("smb://[::1]/restore", "smb://[0:0::1]/RESTORE/"),
    ("sftp://backup@host.example/srv/mabs", "sftp://other@HOST.example:22/srv/mabs/"),
]
NESTED = [
    ("\\\\files01\\restore", "smb://files01/restore/sub"),
    ("smb://files01/restore/a/b", "\\\\FILES01\\restore\\A"),
    ("sftp://u@h/srv", "sftp://u@h/srv/mabs/x"),
]
APART = [
    ("\\\\files01\\restore\\a", "\\\\files01\\restore\\ab"),
    ("\\\\files01\\restore", "\\\\files01\\other"),
    ("\\\\files01\\restore", "\\\\files02\\restore"),
    ("smb://files01:4455/restore", "smb://files01/restore"),
    ("sftp://u@h/srv/a", "sftp://u@h/srv/b"),
    ("sftp://u@h/srv/a", "smb://h/srv/a"),
]


@pytest.mark.parametrize(("source", "target"), SAME + NESTED + [(t, s) for s, t in NESTED])
def test_every_spelling_of_one_place_overlaps(source: str, target: str) -> None:
    from restore.staging.overlap import relation  # here, so that the other tests also run against older code

    assert relation(parse_location(source), parse_location(target)) is not None


@pytest.mark.parametrize(("source", "target"), APART)
def test_places_apart_do_not_overlap(source: str, target: str) -> None:
    from restore.staging.overlap import relation

    assert relation(parse_location(source), parse_location(target)) is None


def _local_spellings(root: Path) -> list[tuple[str, str, str]]:
    """(case, source, target) with the source tree at root/src and a symlink root/alias -> root/src."""
    src = root / "src"
    return [
        ("same", str(src), str(src)),
        ("trailing-slash", str(src), str(src) + "/"),
        ("dot-dot", str(src), str(src / ".." / "src")),
        ("symlink", str(src), str(root / "alias")),
        ("symlink-source", str(root / "alias"), str(src)),
        ("target-inside", str(src), str(src / "staged")),
        ("target-inside-tree", str(src), str(src / "WindowsImageBackup")),
        ("target-inside-via-symlink", str(root / "alias"), str(src / "x" / ".." / "staged")),
        ("source-inside", str(src / "WindowsImageBackup" / "DC01"), str(src)),
        ("source-inside-via-symlink", str(src / "WindowsImageBackup"), str(root / "alias")),
    ]


@pytest.mark.parametrize("flags", [("--force",), (), ("--force", "--dry-run"), ("--force", "--no-verify")])
def test_local_overlap_refused_before_anything_is_touched(tmp_path: Path, flags: tuple[str, ...]) -> None:
    two_computers(tmp_path / "src")
    (tmp_path / "alias").symlink_to(tmp_path / "src")
    before = hashes(tmp_path)
    for case, source, target in _local_spellings(tmp_path):
        for machine in ("DC01", "FS01"):
            code, data = bmr_json("stage", source, target, "--machine", machine, *flags)
            error = data.get("error")
            assert code == 2 and isinstance(error, dict), (case, data)
            assert source.rstrip("/") in error["message"] and target.rstrip("/") in error["message"], case
            assert error["type"] == "SameOrOverlapping", (case, error)
        assert hashes(tmp_path) == before, case  # nothing removed, changed or created (not even the target)


def test_force_changes_nothing_outside_the_staged_computer(tmp_path: Path) -> None:
    """A target holding another computer (staged earlier), a folder of the user's and an older point of DC01:
    --force replaces that point and nothing else; the source is never written."""
    source = two_computers(tmp_path / "src", points=(NEW,))
    target = tmp_path / "dst"
    target.mkdir()
    force_keeps_everything_else(source, str(target), target)


def test_each_computer_keeps_its_proofs_and_verify_checks_every_point(tmp_path: Path) -> None:
    source = two_computers(tmp_path / "src", points=(NEW,))
    target = tmp_path / "dst"
    target.mkdir()
    for machine in ("DC01", "FS01"):
        code, out = bmr("stage", str(source), str(target), "--machine", machine)
        assert code == 0, out
    manifest = json.loads((target / "bmr-manifest.json").read_text())
    assert sorted(p["machine"] for p in manifest["points"]) == ["DC01", "FS01"]
    code, data = bmr_json("verify", str(target))
    assert code == 0, data
    assert data["extra"] == [] and data["points"] == ["DC01 01/01/2021-00:00", "FS01 10/04/2020-17:48"]
    # Damage FS01: verify of the share names it; verify of DC01 alone passes and never reads FS01.
    victim = next((target / "WindowsImageBackup" / "FS01").rglob("*.vhdx"))
    victim.write_bytes(victim.read_bytes()[:-1] + b"\x01")
    code, data = bmr_json("verify", str(target))
    assert code == 1 and [d["path"] for d in data["differing"]] == [str(victim.relative_to(target))]
    code, data = bmr_json("verify", str(target), "--machine", "DC01")
    assert code == 0 and data["points"] == ["DC01 01/01/2021-00:00"], data
    code, data = bmr_json("verify", str(target), "--machine", "DC01", "--version", "10/04/2020-17:48")
    assert code == 1 and "FS01 10/04/2020-17:48" in data["error"]["message"]  # type: ignore[index]
    # Restaging DC01 rewrites only DC01's entries.
    fs01 = [line for line in (target / "SHA256SUMS").read_text().splitlines() if "/FS01/" in line]
    code, out = bmr("stage", str(source), str(target), "--machine", "DC01")
    assert code == 0, out
    assert [line for line in (target / "SHA256SUMS").read_text().splitlines() if "/FS01/" in line] == fs01


def test_a_computer_nobody_staged_is_not_extra(tmp_path: Path) -> None:
    source = two_computers(tmp_path / "src", points=(NEW,))
    target = tmp_path / "dst"
    target.mkdir()
    assert bmr("stage", str(source), str(target), "--machine", "DC01")[0] == 0
    write_machine(target / "WindowsImageBackup", "WEB01", PointSpec(when=OLD))  # copied by hand, no proofs
    code, data = bmr_json("verify", str(target))
    assert code == 0 and data["extra"] == [] and data["unmanaged"] == ["WindowsImageBackup/WEB01"], data


def test_verify_of_a_missing_folder_says_so(tmp_path: Path) -> None:
    code, out = bmr("verify", str(tmp_path / "nowhere"))
    assert code == 3 and "does not exist" in out, out


def _share_root(folder: Path) -> shareroot.ShareRoot:
    location = parse_location("smb://127.0.0.1/share")  # the folder as the share's root
    with open_backend(parse_location(str(folder)), Access()) as backend:
        inspection = inspect_location(backend)
    return shareroot.analyse(location, inspection, "127.0.0.1", staging=False)


def test_trees_bmr_staged_are_not_copies(tmp_path: Path) -> None:
    source = two_computers(tmp_path / "src", points=(NEW,))
    share = tmp_path / "share"
    for machine, folder in (("DC01", "dc01"), ("FS01", "fs01")):
        (share / folder).mkdir(parents=True)
        assert bmr("stage", str(source), str(share / folder), "--machine", machine)[0] == 0
    root = _share_root(share)
    assert "cop" not in root.check.message + (root.check.fix or ""), root.check
    assert "dc01" in root.check.message and "fs01" in root.check.message
    # A tree at the share root with bmr-staged trees in sub-folders: the root one is the share's, and it passes.
    assert bmr("stage", str(source), str(share), "--machine", "DC01")[0] == 0
    root = _share_root(share)
    assert root.check.status.value == "pass", root.check
    assert root.backup_target == "\\\\127.0.0.1\\share"


@pytest.mark.parametrize("copy", ["WindowsImageBackup - Copy", "old/WindowsImageBackup"])
def test_a_real_copy_beside_a_staged_tree_is_still_refused(tmp_path: Path, copy: str) -> None:
    source = two_computers(tmp_path / "src", points=(NEW,))
    share = tmp_path / "share"
    share.mkdir()
    assert bmr("stage", str(source), str(share), "--machine", "DC01")[0] == 0
    write_machine(share / copy, "DC01", PointSpec(when=OLD))  # a hand-made copy: no manifest names it
    root = _share_root(share)
    assert root.check.status.value == "fail" and "cop" in (root.check.fix or ""), root.check


def _long_name_point(root: Path) -> Path:
    """A DC01 point with one file whose partial name would pass 255 characters (partial_name() shortens it)."""
    point = two_computers(root, points=(NEW,)) / "WindowsImageBackup" / "DC01" / "Backup 2021-01-01 000000"
    (point / ("L" * 246 + ".xml")).write_bytes(os.urandom(300_000))
    return root


def _agree(source: Path, target: Path, *extra: str, exact: bool = True) -> tuple[dict[str, object], dict[str, object]]:
    """Dry run, then the real run, on the same case: the same exit code, the same refusal, the same files."""
    code_plan, plan = bmr_json("stage", str(source), str(target), "--machine", "DC01", "--dry-run", *extra)
    code_run, run = bmr_json("stage", str(source), str(target), "--machine", "DC01", *extra)
    assert code_plan == code_run, (plan, run)
    if code_run != 0:
        refusals = plan.get("refusals") or [plan["error"]["message"]]  # type: ignore[index]
        assert refusals[0] == run["error"]["message"], (plan, run)  # type: ignore[index]
    else:
        assert not plan["refusals"] and plan["replaced"] == run["replaced"]
        files: list[dict[str, object]] = plan["files"]  # type: ignore[assignment]
        assert len(files) == run["files"] and plan["bytes_total"] == run["bytes_total"]
        held = sum(int(f["held"]) for f in files if f["action"] == "resume")  # type: ignore[call-overload]
        compared = sum(int(f["size"]) for f in files if f["action"] == "compare")  # type: ignore[call-overload]
        # "compare" reuses a file only when it is equal: exact unless a same-size file differs (exact=False).
        assert run["bytes_reused"] == held + compared if exact else run["bytes_reused"] <= held + compared, (plan, run)
    return plan, run


def test_dry_run_of_a_new_target_knows_the_free_space(tmp_path: Path) -> None:
    """A target that does not exist yet: the free space of the folder that will hold it, not "unknown"; and the
    real run creates it, as the dry run said."""
    source = two_computers(tmp_path / "src", points=(NEW,))
    plan, _run = _agree(source, tmp_path / "new" / "dst")
    assert isinstance(plan["free"], int) and plan["target_exists"] is False


def test_dry_run_resumes_a_long_name_as_the_run_does(tmp_path: Path) -> None:
    """A partial copy of a file whose partial name would pass 255 characters sits under partial_name(): the dry run
    says "resume" with the bytes held, the run resumes it."""
    source = _long_name_point(tmp_path / "src")
    target = tmp_path / "dst"
    target.mkdir()
    assert bmr("stage", str(source), str(target), "--machine", "DC01")[0] == 0
    long = next(p for p in (target / "WindowsImageBackup" / "DC01").rglob("L*.xml"))
    data = long.read_bytes()
    rel = str(long.relative_to(target))
    long.unlink()
    partial = target / partial_name(rel)
    assert len(partial.name) <= 255
    partial.write_bytes(data[:100_000])
    plan, _run = _agree(source, target)
    actions = {f["path"]: (f["action"], f["held"]) for f in plan["files"]}  # type: ignore[attr-defined, index]
    assert actions[rel] == ("resume", 100_000)
    assert {a for p, (a, _h) in actions.items() if p != rel} == {"compare"}


def test_dry_run_refuses_names_no_share_can_hold(tmp_path: Path) -> None:
    """The old dry run skipped this refusal and said 0."""
    source = two_computers(tmp_path / "src", points=(NEW,))
    (source / "WindowsImageBackup" / "DC01" / "Backup 2021-01-01 000000" / "a:b.xml").write_bytes(b"x")
    (tmp_path / "dst").mkdir()
    plan, _run = _agree(source, tmp_path / "dst")
    assert plan["refusals"], plan


def test_dry_run_and_run_agree_on_every_other_refusal(tmp_path: Path) -> None:
    source = two_computers(tmp_path / "src", points=(NEW,))
    target = tmp_path / "dst"
    target.mkdir()
    write_machine(target / "WindowsImageBackup", "DC01", PointSpec(when=OLD))
    _agree(source, target)  # a different point of DC01 there: both refuse without --force (exit 1)
    _agree(source, target, "--force", exact=False)  # both replace it; its Catalog and MediaId differ: copied again
    next((source / "WindowsImageBackup" / "DC01").rglob("BackupSpecs.xml")).unlink()
    (tmp_path / "fresh").mkdir()
    _agree(source, tmp_path / "fresh")  # an incomplete point: both refuse
    _agree(source, source / "inside")  # source and target overlapping: both exit 2


def test_two_unnamed_memory_stores_are_apart_and_one_store_is_not() -> None:
    """The memory backend of the fast tier: stores without a name are never taken for one another; one store
    named twice, or one folder reached twice, is caught by the probe file."""
    from restore.staging.overlap import SameOrOverlapping, refuse_alias, relation
    from share.memory import MemoryBackend, MemoryStore

    a, b = MemoryBackend(), MemoryBackend()
    assert relation(a.location, b.location) is None
    refuse_alias(a, b)
    store = MemoryStore()
    with pytest.raises(SameOrOverlapping):
        refuse_alias(MemoryBackend(store), MemoryBackend(store))
    assert not MemoryBackend(store).list("")  # the probe file is gone
