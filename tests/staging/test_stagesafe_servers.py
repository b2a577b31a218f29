"""Staging can never destroy data, against the real smbd and sshd: source and target the same or nested in every
SMB and SFTP spelling (and under two names: a host alias, the server's own disk path) are refused with exit 2, with
--force too, and every file of both trees hashes the same afterwards; two computers staged onto one share keep
both proofs; verify of a missing folder says so (exit 3); the dry run refuses for space exactly as the run does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.lib.servers import SambaServer, SshServer
from tests.staging.stagesafe_lib import NEW, bmr, bmr_json, force_keeps_everything_else, hashes, two_computers

FLAGS = [("--force",), (), ("--force", "--dry-run")]


def _smb_spellings(samba: SambaServer, name: str) -> list[tuple[str, str, str]]:
    """(case, source, target) for a tree in the 'data' share's folder ``name``."""
    port = samba.port
    base = samba.url("data", name)
    return [
        ("same", base, base),
        ("trailing-slash", base, base + "/"),
        ("share-and-path-case", base, f"smb://127.0.0.1:{port}/DATA/{name.upper()}/"),
        ("other-user-spelling", base, samba.url("data", name, user="someone")),
        ("target-inside", base, base + "/staged"),
        ("target-inside-tree", base, base + "/WindowsImageBackup"),
        ("source-inside", base + "/WindowsImageBackup/DC01", base),
        ("share-root-holds-source", base, samba.url("data")),
        # Spellings no rule can match: the probe file created in the target shows up in the source.
        ("host-alias", base, base.replace("@127.0.0.1:", "@localhost:")),
    ]


@pytest.mark.parametrize("flags", FLAGS)
def test_smb_overlap_refused_and_nothing_changes(
    smb_folder: tuple[str, Path], samba: SambaServer, password_env: str, flags: tuple[str, ...]
) -> None:
    _url, disk = smb_folder
    two_computers(disk)
    before = hashes(disk)
    cases = [*_smb_spellings(samba, disk.name), ("local-path-of-the-share", str(disk), _url)]
    for case, source, target in cases:
        for machine in ("DC01", "FS01"):
            code, data = bmr_json("stage", source, target, "--machine", machine, "--password-env", password_env, *flags)
            error = data.get("error")
            assert code == 2 and isinstance(error, dict), (case, machine, data)
            assert error["type"] == "SameOrOverlapping", (case, error)
        assert hashes(disk) == before, case


@pytest.mark.parametrize("flags", FLAGS)
def test_sftp_overlap_refused_and_nothing_changes(tmp_path: Path, sshd: SshServer, flags: tuple[str, ...]) -> None:
    src = two_computers(tmp_path / "src")
    before = hashes(tmp_path)
    ssh = ["--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key)]
    cases = [
        ("same", sshd.url(str(src)), sshd.url(str(src)) + "/"),
        ("target-inside", sshd.url(str(src)), sshd.url(str(src / "staged"))),
        ("source-inside", sshd.url(str(src / "WindowsImageBackup")), sshd.url(str(src))),
        ("local-and-sftp", str(src), sshd.url(str(src))),  # one folder, two protocols: the probe sees it
    ]
    for case, source, target in cases:
        for machine in ("DC01", "FS01"):
            code, data = bmr_json("stage", source, target, "--machine", machine, *ssh, *flags)
            error = data.get("error")
            assert code == 2 and isinstance(error, dict), (case, machine, data)
        assert hashes(tmp_path) == before, case


def test_two_computers_on_one_share_keep_their_proofs(
    tmp_path: Path, smb_folder: tuple[str, Path], password_env: str
) -> None:
    url, disk = smb_folder
    source = two_computers(tmp_path / "src", points=(NEW,))
    for machine in ("DC01", "FS01"):
        code, out = bmr("stage", str(source), url, "--machine", machine, "--password-env", password_env)
        assert code == 0, out
    sums = (disk / "SHA256SUMS").read_text()
    assert "/DC01/" in sums and "/FS01/" in sums
    code, data = bmr_json("verify", url, "--password-env", password_env)
    assert code == 0 and data["extra"] == [] and len(data["points"]) == 2, data  # type: ignore[arg-type]
    code, data = bmr_json("verify", url, "--machine", "FS01", "--password-env", password_env)
    assert code == 0 and data["points"] == ["FS01 10/04/2020-17:48"], data


def test_force_over_smb_changes_nothing_outside_the_staged_computer(
    tmp_path: Path, smb_folder: tuple[str, Path], password_env: str
) -> None:
    url, disk = smb_folder
    source = two_computers(tmp_path / "src", points=(NEW,))
    force_keeps_everything_else(source, url, disk, "--password-env", password_env)


def test_force_over_sftp_changes_nothing_outside_the_staged_computer(tmp_path: Path, sshd: SshServer) -> None:
    source = two_computers(tmp_path / "src", points=(NEW,))
    disk = tmp_path / "dst"
    disk.mkdir()
    ssh = ("--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key))
    force_keeps_everything_else(source, sshd.url(str(disk)), disk, *ssh)


def test_verify_of_a_missing_smb_folder_says_so(samba: SambaServer, password_env: str) -> None:
    code, out = bmr("verify", samba.url("data", "no-such-folder"), "--password-env", password_env)
    assert code == 3 and "does not exist" in out, out


def test_dry_run_refuses_for_space_like_the_run(tmp_path: Path, samba: SambaServer, password_env: str) -> None:
    """A new folder on a share too small for the point: the old dry run said "free: unknown" and 0."""
    from restore.demo.sample import PointSpec, write_tree

    source = tmp_path / "src"
    write_tree(source, {"DC01": PointSpec(pad_mb=12)})
    target = samba.url("small", "new-folder")
    args = ("stage", str(source), target, "--password-env", password_env)
    code_plan, plan = bmr_json(*args, "--dry-run")
    code_run, run = bmr_json(*args)
    assert code_plan == code_run == 1, (plan, run)
    assert plan["refusals"][0] == run["error"]["message"], (plan, run)  # type: ignore[index]
    assert isinstance(plan["free"], int)
    shutil.rmtree(samba.shares["small"].path / "new-folder")  # made by the run before it refused; other tests share it
