"""Issue 13, nothing lost and nothing misleading under faults (the fast tier: local folders and the memory
backend, no servers): a source rewritten in place during the copy, sub-folders in a point, two stages at once,
huge folders, names a target cannot hold, durability, and bad input."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from restore.cli import exitcodes
from restore.demo.sample import PointSpec, VolumeSpec, write_tree
from restore.staging.stage import run_stage
from restore.staging.transfer import PARTIAL_SUFFIX, FileJob, SourceChanged, Transfer
from share import errors, paths, writetest
from share.base import Entry, Sink
from share.connect import parse_location
from share.local import LocalBackend
from share.memory import MemoryBackend

MiB = 1024 * 1024
DC = "WindowsImageBackup/DC01"


def _no_sleep(_seconds: float) -> None:
    pass


def _tree(root: Path) -> Path:
    spec = PointSpec(volumes=[VolumeSpec("", "EFI", virtual_mb=16), VolumeSpec("C:", "System", virtual_mb=32)])
    spec.pad_mb = 3
    write_tree(root, {"DC01": spec})
    return root


def _biggest(root: Path) -> Path:
    return max(root.rglob("*.vhdx"), key=lambda p: p.stat().st_size)


class _RewriteAfterCopy(Transfer):
    """Overwrite 1 MiB of the biggest source image in place, same size, once it has been copied (before the
    read-back): what a backup job or an antivirus rewriting the point does on a bad day."""

    def __init__(self, *args: object, victim: Path, keep_times: bool = False, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.victim = victim
        self.keep_times = keep_times

    def _verify(self, job: FileJob, partial: str, expected: str) -> str:
        if job.source_path.endswith(self.victim.name):
            st = self.victim.stat()
            with open(self.victim, "r+b") as f:
                f.seek(0)
                f.write(os.urandom(MiB))
            if self.keep_times:  # a writer that puts the old times back: only ctime (or the content) tells
                os.utime(self.victim, ns=(st.st_atime_ns, st.st_mtime_ns))
        return super()._verify(job, partial, expected)


@pytest.mark.parametrize("keep_times", [False, True])
def test_a_source_rewritten_during_the_copy_is_not_certified(tmp_path: Path, keep_times: bool) -> None:
    source_root = _tree(tmp_path / "src")
    victim = _biggest(source_root)
    old = time.time() - 3600  # written long ago: the stamps alone are trusted
    for path in source_root.rglob("*"):
        os.utime(path, (old, old))
    (tmp_path / "dst").mkdir()
    src = LocalBackend(parse_location(str(source_root)))
    dst = LocalBackend(parse_location(str(tmp_path / "dst")))
    engine = _RewriteAfterCopy(src, dst, victim=victim, keep_times=keep_times, sleep=_no_sleep)
    with pytest.raises(SourceChanged) as caught:
        run_stage(src, dst, transfer=engine)
    assert victim.name in str(caught.value) and exitcodes.for_error(caught.value) == exitcodes.FAILED
    placed = tmp_path / "dst" / victim.relative_to(source_root)
    assert not placed.exists()  # not renamed into place
    assert not (tmp_path / "dst" / "SHA256SUMS").exists() and not (tmp_path / "dst" / "bmr-manifest.json").exists()
    assert not (tmp_path / "dst" / "bmr-stage.lock").exists()  # released on the error too


def test_a_memory_source_rewritten_in_place_is_read_again_and_caught() -> None:
    """The memory backend declares no trustworthy stamps (like SMB and SFTP): the source is hashed again."""
    data = os.urandom(3 * MiB)
    source = MemoryBackend()
    with source.open_write("image.vhdx") as stream:
        stream.write(data)
    target = MemoryBackend()

    class Rewrite(Transfer):
        def _verify(self, job: FileJob, partial: str, expected: str) -> str:
            source.store.files["image.vhdx"][MiB : 2 * MiB] = os.urandom(MiB)  # same size, times untouched
            return super()._verify(job, partial, expected)

    with pytest.raises(SourceChanged, match=r"image\.vhdx"):
        Rewrite(source, target, sleep=_no_sleep).copy(FileJob("image.vhdx", "out.vhdx", len(data)))
    assert "out.vhdx" not in target.store.files and "out.vhdx" + PARTIAL_SUFFIX in target.store.files


def test_an_unchanged_source_is_copied_and_certified(tmp_path: Path) -> None:
    source_root = _tree(tmp_path / "src")
    (tmp_path / "dst").mkdir()
    src = LocalBackend(parse_location(str(source_root)))
    dst = LocalBackend(parse_location(str(tmp_path / "dst")))
    result = run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep))
    assert result.ok and (tmp_path / "dst" / "SHA256SUMS").exists()


# -- 4. sub-folders in a point ------------------------------------------------------------------------------------


def _point(root: Path) -> Path:
    return next((root / DC).glob("Backup *"))


@pytest.mark.parametrize("inside_point", [False, True])
def test_sub_folders_of_a_point_keep_their_names_and_paths(tmp_path: Path, inside_point: bool) -> None:
    source_root = _tree(tmp_path / "src")
    point = _point(source_root)
    (point / "Logs" / "Deeper").mkdir(parents=True)
    (point / "Logs" / "Backup.log").write_bytes(b"log one\n")
    (point / "Logs" / "Deeper" / "Trace.ETL").write_bytes(b"trace\n")
    (tmp_path / "dst").mkdir()
    src = LocalBackend(parse_location(str(point if inside_point else source_root)))
    dst = LocalBackend(parse_location(str(tmp_path / "dst")))
    result = run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep))
    assert result.ok or inside_point  # from inside the point, Catalog and MediaId are out of reach
    copied = tmp_path / "dst" / DC / point.name / "Logs"
    assert (copied / "Backup.log").read_bytes() == b"log one\n"
    assert (copied / "Deeper" / "Trace.ETL").read_bytes() == b"trace\n"
    sums = (tmp_path / "dst" / "SHA256SUMS").read_text()
    assert f"{DC}/{point.name}/Logs/Deeper/Trace.ETL" in sums


# -- 6. listings are never silently cut -----------------------------------------------------------------------------


def test_a_point_with_more_than_20000_entries_is_read_whole(tmp_path: Path) -> None:
    from restore.tree.find import inspect_location

    source_root = _tree(tmp_path / "src")
    point = _point(source_root)
    for i in range(20_050):
        (point / f"extra-{i:05d}.dat").touch()
    inspection = inspect_location(LocalBackend(parse_location(str(source_root))))
    found = inspection.trees[0].machines[0].recovery_points[0]
    names = {path.rsplit("/", 1)[-1] for path, _ in found.files}
    assert {f"extra-{i:05d}.dat" for i in range(20_050)} <= names
    assert {p.name for p in point.glob("*.vhdx")} <= names and found.volumes and all(v.image for v in found.volumes)


def test_a_bound_that_is_hit_is_an_error_not_a_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from restore.tree import points
    from restore.tree.find import inspect_location

    source_root = _tree(tmp_path / "src")
    for i in range(30):
        (source_root / DC / f"stray-{i}").touch()
    monkeypatch.setattr(points, "MAX_LISTED", 10)
    monkeypatch.setattr(points.read_folder, "__defaults__", (10,))
    with pytest.raises(points.TooManyEntries, match="DC01 holds 3"):
        inspect_location(LocalBackend(parse_location(str(source_root))))


# -- 3. a file held by a dead session; a server restarting (the real-server cases are in test_faults_servers) -------


class _Held(MemoryBackend):
    """A target whose partial file another (dead) connection holds for ``held`` tries, and that refuses
    connections for ``down`` reconnects (a server restarting)."""

    def __init__(self, held: int, down: int = 0) -> None:
        super().__init__()
        self.held, self.down = held, down

    def open_sink(self, path: str, offset: int = 0, *, streams: int = 1) -> Sink:
        if self.held > 0:
            self.held -= 1
            raise errors.InUse(f"{self.describe(path)}: being used by another process")
        return super().open_sink(path, offset, streams=streams)

    def reconnect(self) -> None:
        if self.down > 0:
            self.down -= 1
            raise errors.CannotConnect("connection refused")
        super().reconnect()


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _held_copy(target: _Held, clock: _Clock, data: bytes) -> Transfer:
    source = MemoryBackend()
    with source.open_write("image.vhdx") as stream:
        stream.write(data)
    return Transfer(source, target, sleep=clock.sleep, clock=clock, patience=60)


def test_a_held_file_is_waited_for_and_a_restarting_server_too() -> None:
    data = os.urandom(MiB)
    clock, target = _Clock(), _Held(held=6, down=4)
    _held_copy(target, clock, data).copy(FileJob("image.vhdx", "out.vhdx", len(data)))
    assert bytes(target.store.files["out.vhdx"]) == data and target.held == 0 and target.down == 0
    assert clock.now < 60


def test_a_file_held_for_good_is_a_clear_error_within_the_budget() -> None:
    data = os.urandom(MiB)
    clock, target = _Clock(), _Held(held=10**6)
    with pytest.raises(errors.InUse, match="earlier connection") as caught:
        _held_copy(target, clock, data).copy(FileJob("image.vhdx", "out.vhdx", len(data)))
    assert 60 <= clock.now < 80 and caught.value.retryable
    assert exitcodes.for_error(caught.value) == exitcodes.ENVIRONMENT and "permission" not in caught.value.hint.lower()


# -- 9. bad input -------------------------------------------------------------------------------------------------


def _cli(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from restore.cli.app import app

    result = CliRunner().invoke(app, list(args), env={"BMR_PASSWORD": ""})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "0"])
def test_numeric_options_are_bounded(tmp_path: Path, value: str) -> None:
    for args in (["stage", str(tmp_path), str(tmp_path / "t"), "--margin", value], ["inspect", str(tmp_path),
                 "--depth", value], ["probe", str(tmp_path), "--timeout", value]):  # fmt: skip
        code, _out, err = _cli(*args)
        assert code == 2 and "Traceback" not in err, (args, err)


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e9", "true"])
def test_a_drill_timeout_is_bounded(tmp_path: Path, value: str) -> None:
    from restore.drill.inventory import InventoryError, load_inventory

    path = tmp_path / "inventory.toml"
    path.write_text(
        f'[[server]]\nname = "A"\nlocation = "smb://u@h/r"\npurpose = "bmr"\npassword_env = "P"\ntimeout = {value}\n'
    )
    with pytest.raises(InventoryError, match="line 6: 'timeout' must be"):
        load_inventory(path)


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"\xff\xfep\x00w\x00", "not UTF-8"), (b"", "empty"), (b"\n", "empty"), (b"\r\nsecret\n", "empty")],
)
def test_a_bad_password_file_is_a_clear_usage_error(tmp_path: Path, content: bytes, words: str) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_bytes(content)
    secret_file.chmod(0o600)
    code, _out, err = _cli("probe", "smb://CORP;u@127.0.0.1:1/share", "--password-file", str(secret_file))
    assert code == 2 and words in err and "Traceback" not in err, err


def test_a_world_readable_password_file_draws_a_warning(tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_bytes("pässword\n".encode())
    secret_file.chmod(0o644)
    _code, out, err = _cli("probe", "smb://CORP;u@127.0.0.1:1/share", "--password-file", str(secret_file), "--json")
    assert "can be read by every user" in err and "pässword" not in out + err


@pytest.mark.parametrize("url", ["smb://u:Zq9/x7Kv@host/share", "smb://CORP;u:Jy4@ss/w0rd@host/share/x"])
def test_a_password_in_a_url_is_never_printed_back(url: str) -> None:
    secret = url.split(":", 2)[2].rsplit("@", 1)[0]
    for args in (["probe", url], ["probe", url, "--json"], ["inspect", url, "--json"], ["stage", "/nonexistent", url,
                 "--json"], ["stage", url, "/nonexistent", "--json"]):  # fmt: skip
        code, out, err = _cli(*args)
        assert code == 2 and "password" in err, err
        assert secret not in out + err and secret.split("/")[0] not in out + err, (args, out, err)


# -- 5. one stage at a time per target -------------------------------------------------------------------------------


def test_a_second_stage_into_the_same_folder_is_refused_while_the_first_copies(tmp_path: Path) -> None:
    from restore.staging.lock import LOCK_NAME, StageLocked

    source_root = _tree(tmp_path / "src")
    (tmp_path / "dst").mkdir()
    src = LocalBackend(parse_location(str(source_root)))
    dst = LocalBackend(parse_location(str(tmp_path / "dst")))
    seen: list[BaseException] = []

    class SecondStarts(Transfer):
        def _verify(self, job: FileJob, partial: str, expected: str) -> str:
            if not seen:
                lock = (tmp_path / "dst" / LOCK_NAME).read_text()
                assert '"pid"' in lock and '"host"' in lock
                with pytest.raises(StageLocked, match="another bmr stage is copying here since") as caught:
                    run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep))
                seen.append(caught.value)
            return super()._verify(job, partial, expected)

    result = run_stage(src, dst, transfer=SecondStarts(src, dst, sleep=_no_sleep))
    assert seen and result.ok and not (tmp_path / "dst" / LOCK_NAME).exists()
    _same = [p for p in source_root.rglob("*") if p.is_file()]
    for path in _same:
        assert (tmp_path / "dst" / path.relative_to(source_root)).read_bytes() == path.read_bytes()


def test_the_lock_goes_on_errors_and_a_stale_or_orphaned_lock_is_taken_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from restore.staging import lock as lock_module

    monkeypatch.setattr(lock_module, "TAKEOVER_PAUSE", 0.0)
    source_root = _tree(tmp_path / "src")
    target = tmp_path / "dst"
    target.mkdir()
    src = LocalBackend(parse_location(str(source_root)))
    dst = LocalBackend(parse_location(str(target)))
    lock = target / lock_module.LOCK_NAME
    holder = {"token": "x", "host": "elsewhere", "pid": 1, "started": "2026-01-01T00:00:00+00:00",
              "refreshed": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    lock.write_text(json.dumps(holder))  # another host's, fresh: refused
    with pytest.raises(lock_module.StageLocked, match="host elsewhere"):
        run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep))
    assert not list(target.rglob("*" + PARTIAL_SUFFIX))
    old = time.time() - lock_module.STALE_AFTER - 60
    os.utime(lock, (old, old))  # not refreshed for too long: taken over
    assert run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep)).ok and not lock.exists()
    import socket
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    lock.write_text(json.dumps({**holder, "host": socket.gethostname(), "pid": gone.pid}))  # Ctrl-C'd run here
    assert run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep)).ok and not lock.exists()


# -- 8. durability ----------------------------------------------------------------------------------------------------


class _Recording(MemoryBackend):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, str]] = []

    def sync(self, path: str, *, folder: bool = False) -> None:
        self.events.append(("sync-folder" if folder else "sync", path))

    def rename(self, src: str, dst: str, *, replace: bool = False) -> None:
        self.events.append(("rename", src))
        super().rename(src, dst, replace=replace)


def test_every_file_is_synced_before_its_rename_and_its_folder_before_the_proofs(tmp_path: Path) -> None:
    source_root = _tree(tmp_path / "src")
    src = LocalBackend(parse_location(str(source_root)))
    target = _Recording()
    run_stage(src, target, transfer=Transfer(src, target, sleep=_no_sleep))
    renames = [i for i, (what, _p) in enumerate(target.events) if what == "rename"]
    assert len(renames) >= len([p for p in source_root.rglob("*") if p.is_file()]) + 2  # + the two manifests
    proofs = target.events.index(("rename", "SHA256SUMS" + PARTIAL_SUFFIX))
    for i in renames:
        moved = target.events[i][1]
        if moved.startswith(("bmr-stage.lock", "SHA256SUMS", "bmr-manifest")) or paths.name(moved).startswith(
            writetest.STEM
        ):
            continue  # the lock, the proofs (checked below) and the write test's throwaway files are not data
        assert ("sync", moved) in target.events[:i], moved  # flushed before its rename (small ones in batches)
        # Its folder is synced after this rename and before SHA256SUMS certifies the file.
        assert ("sync-folder", paths.parent(moved)) in target.events[i + 1 : proofs], moved
    assert target.events[proofs - 1] == ("sync", "SHA256SUMS" + PARTIAL_SUFFIX)
    assert target.events[proofs + 1] == ("sync-folder", "")


def _many_small_files(tmp_path: Path, count: int, per_folder: int) -> tuple[LocalBackend, LocalBackend]:
    """A local source whose point holds ``count`` 100-byte files, ``per_folder`` to a folder, and an empty local
    target."""
    source_root = _tree(tmp_path / "src")
    point = _point(source_root)
    for index in range(count):
        folder = point / f"many{index // per_folder}"
        folder.mkdir(exist_ok=True)
        (folder / f"f{index:03d}.xml").write_bytes(b"x" * 100)
    (tmp_path / "dst").mkdir()
    return LocalBackend(parse_location(str(source_root))), LocalBackend(parse_location(str(tmp_path / "dst")))


def test_many_small_files_sync_each_folder_once_not_once_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file's data is flushed (one fsync per file), but a folder is synced once after all its renames."""
    src, dst = _many_small_files(tmp_path, 300, 100)
    synced = {"file": 0, "folder": 0}
    real = os.fsync

    def counting(fd: int) -> None:
        synced["folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"] += 1
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    result = run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep))
    assert result.ok and len(result.files) > 300
    folders = {paths.parent(f.path) for f in result.files}
    assert synced["file"] >= len(result.files)
    assert synced["folder"] <= len(folders) + 4, synced  # + the root, for the proofs and the lock


def test_small_files_are_flushed_together_and_a_failing_one_leaves_the_rest_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, dst = _many_small_files(tmp_path, 150, 150)
    batches: list[int] = []
    real = LocalBackend.sync_files

    def recording(self: LocalBackend, files: list[str]) -> None:
        batches.append(len(files))
        real(self, files)

    monkeypatch.setattr(LocalBackend, "sync_files", recording)
    assert run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep)).ok
    assert max(batches) > 1 and sum(batches) > 150

    class _ChangesOne(Transfer):
        def _source_before(self, job: FileJob) -> tuple[Entry, float]:
            if job.source_path.endswith("f010.xml"):
                raise SourceChanged("changed")
            return super()._source_before(job)

    fresh = tmp_path / "dst2"
    fresh.mkdir()
    dst2 = LocalBackend(parse_location(str(fresh)))
    with pytest.raises(SourceChanged):
        run_stage(src, dst2, transfer=_ChangesOne(src, dst2, sleep=_no_sleep))
    many = next(fresh.rglob("many0"))
    assert (many / "f009.xml").read_bytes() == b"x" * 100  # copied before the failure: renamed into place
    assert not list(fresh.rglob("*" + PARTIAL_SUFFIX))


def test_a_many_file_stage_reports_progress_while_it_copies(tmp_path: Path) -> None:
    from restore.cli.progress import Tracker
    from restore.staging.names import partial_name

    src, dst = _many_small_files(tmp_path, 200, 200)
    ticks = iter(range(1_000_000))
    tracker = Tracker(terminal=False, quiet=False, clock=lambda: float(next(ticks)), defer_interrupts=False)
    lines: list[str] = []
    tracker.say = lines.append  # type: ignore[method-assign]
    current: list[str] = []
    behind: list[str] = []

    def on_file(path: str, size: int) -> None:
        current[:] = [path]
        tracker.on_file(path, size)

    def progress(phase: str, count: int) -> None:
        # The file named as being copied is the one whose bytes are arriving (not one queued further ahead).
        if phase == "copy" and not (tmp_path / "dst" / partial_name(current[0])).exists():
            behind.append(current[0])
        tracker.progress(phase, count)

    engine = Transfer(src, dst, sleep=_no_sleep, progress=progress)
    run_stage(src, dst, transfer=engine, on_file=on_file, on_plan=tracker.on_plan)
    shown = [int(line.split(" file ")[1].split("/")[0]) for line in lines]
    assert len(shown) > 10 and shown == sorted(shown) and shown[-1] > 150, lines[:3]
    assert not behind, behind[:3]


def test_local_sync_is_a_real_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    backend = LocalBackend(parse_location(str(tmp_path)))
    (tmp_path / "f").write_bytes(b"1")
    backend.sync("f")
    backend.sync("", folder=True)
    assert len(synced) == 2 and backend.features.durable_sync


# -- 7. file names --------------------------------------------------------------------------------------------------


def test_a_name_that_is_not_utf8_is_refused_before_copying_and_shown_escaped(tmp_path: Path) -> None:
    from restore.staging.stage import StageRefused

    source_root = _tree(tmp_path / "src")
    point = _point(source_root)
    with open(os.fsencode(point) + b"/caf\xe9.log", "wb") as f:
        f.write(b"latin-1 named log\n")
    (tmp_path / "dst").mkdir()
    src = LocalBackend(parse_location(str(source_root)))
    dst = LocalBackend(parse_location(str(tmp_path / "dst")))
    with pytest.raises(StageRefused, match=r"caf\\xe9\.log.*not valid UTF-8") as caught:
        run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep))
    str(caught.value).encode("utf-8")  # printable as it is: no lone surrogate in the message
    assert not (tmp_path / "dst" / "WindowsImageBackup").exists()


@pytest.mark.parametrize("name", ["a:b.log", 'q"uote.log', "ask?.log", "ctl\x01.log", "trail.", "trail ", "NUL.txt"])
def test_a_name_windows_cannot_hold_is_refused_before_copying(tmp_path: Path, name: str) -> None:
    from restore.staging.stage import StageRefused

    source_root = _tree(tmp_path / "src")
    (_point(source_root) / name).write_bytes(b"x")
    (tmp_path / "dst").mkdir()
    src = LocalBackend(parse_location(str(source_root)))
    dst = LocalBackend(parse_location(str(tmp_path / "dst")))
    with pytest.raises(StageRefused, match="nothing was copied"):
        run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep))
    assert not (tmp_path / "dst" / "WindowsImageBackup").exists()


def test_names_longer_than_255_are_unfit() -> None:
    """No local file system here holds them, so the rule is checked on the pure function."""
    from restore.staging.names import unfit_paths, why_unfit

    assert why_unfit("x" * 255) is None and why_unfit("x" * 256) == "longer than 255 characters"
    assert why_unfit("é" * 200) == "longer than 255 characters"  # 200 UTF-16 units, 400 bytes: Samba on Linux cannot
    assert unfit_paths(["a/" + "x" * 300 + "/b"]) and not unfit_paths(["WindowsImageBackup/DC01/Logs/x.log"])


def test_a_long_name_gets_a_short_temporary_name(tmp_path: Path) -> None:
    """245 characters is a valid name; with '.bmr-partial' it would pass the 255 limit (ENAMETOOLONG here)."""
    source_root = _tree(tmp_path / "src")
    long_name = "L" * 241 + ".log"
    (_point(source_root) / long_name).write_bytes(b"long\n")
    (tmp_path / "dst").mkdir()
    src = LocalBackend(parse_location(str(source_root)))
    dst = LocalBackend(parse_location(str(tmp_path / "dst")))
    assert run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep)).ok
    assert next((tmp_path / "dst").rglob(long_name)).read_bytes() == b"long\n"


def test_sha256sums_escapes_names_as_gnu_sha256sum_does(tmp_path: Path) -> None:
    import hashlib
    import subprocess

    from restore.staging.manifest import render_sums
    from restore.staging.transfer import FileOutcome

    names = ["plain.txt", "back\\slash.txt", "new\nline.txt"]
    outcomes = []
    for name in names:
        (tmp_path / name).write_bytes(name.encode())
        digest = hashlib.sha256(name.encode()).hexdigest()
        outcomes.append(FileOutcome(name, len(name), digest, "", 0, 0, True))
    sums = render_sums(outcomes)
    assert sums.count("\n") == 3 and "\\new\\nline.txt" not in sums.splitlines()[0]
    (tmp_path / "SHA256SUMS").write_text(sums)
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    ours = subprocess.run(["sha256sum", *names], cwd=tmp_path, capture_output=True, text=True).stdout
    assert sorted(ours.splitlines()) == sorted(sums.splitlines())
