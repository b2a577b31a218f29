"""The drill ledger: a hash chain of drill records in a folder. Every way of tampering with it (an entry edited,
deleted, reordered, cut off, re-signed with another key) is detected and named; two drills append at once without
breaking it. Local folders through the backend contract; no server."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from restore.cli.app import app
from restore.drill.ledger import GENESIS, KeyUnusable, append_record, load_private_key, record_hash, verify_chain
from share.connect import Access, open_backend, parse_location

runner = CliRunner()


def _ledger(folder: Path, count: int = 4, key: Ed25519PrivateKey | None = None) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)  # bmr opens only a folder that exists
    hashes = []
    with open_backend(parse_location(str(folder)), Access()) as backend:
        for n in range(count):
            hashes.append(append_record(backend, {"drill": n, "servers": [{"name": f"DC0{n}"}]}, key).sha256)
    return hashes


def _verify(folder: Path, *more: str) -> tuple[int, str, dict[str, object]]:
    result = runner.invoke(app, ["drill", "verify-ledger", str(folder), *more])
    as_json = runner.invoke(app, ["drill", "verify-ledger", str(folder), "--json", *more])
    return result.exit_code, result.stdout + result.stderr, json.loads(as_json.stdout)


def _edit(path: Path, **changes: object) -> None:
    record = json.loads(path.read_text())
    record.update(changes)
    path.write_text(json.dumps(record, indent=2))


def test_an_intact_chain_verifies(tmp_path: Path) -> None:
    hashes = _ledger(tmp_path / "ledger")
    code, out, data = _verify(tmp_path / "ledger")
    assert code == 0, out
    assert "Chain intact." in out and "4 entries" in out
    assert data["intact"] is True and data["head_sha256"] == hashes[-1]
    first = json.loads((tmp_path / "ledger" / "000001.json").read_text())
    assert first["previous_sha256"] == GENESIS and first["position"] == 1
    second = json.loads((tmp_path / "ledger" / "000002.json").read_text())
    assert second["previous_sha256"] == record_hash(first) == hashes[0]


def test_an_edited_entry_is_named(tmp_path: Path) -> None:
    _ledger(tmp_path / "ledger")
    _edit(tmp_path / "ledger" / "000002.json", servers=[{"name": "DC01", "result": "pass"}])
    code, out, data = _verify(tmp_path / "ledger")
    assert code == 1
    assert "BROKEN: entry 3 (000003.json): does not follow entry 2" in out
    assert data["intact"] is False and [b["position"] for b in data["breaks"]] == [3]  # type: ignore[union-attr]


def test_even_whitespace_is_no_edit(tmp_path: Path) -> None:
    """The hash is over canonical JSON: a record re-indented by an editor still verifies."""
    _ledger(tmp_path / "ledger")
    path = tmp_path / "ledger" / "000002.json"
    path.write_text(json.dumps(json.loads(path.read_text()), indent=8))
    assert _verify(tmp_path / "ledger")[0] == 0


def test_a_deleted_entry_is_named(tmp_path: Path) -> None:
    _ledger(tmp_path / "ledger")
    (tmp_path / "ledger" / "000002.json").unlink()
    code, out, _data = _verify(tmp_path / "ledger")
    assert code == 1
    assert "entry 3 (000003.json): comes after a gap: entry 2 is missing" in out
    assert "does not follow entry 2" in out


def test_a_deleted_entry_with_the_rest_renumbered_is_named(tmp_path: Path) -> None:
    _ledger(tmp_path / "ledger")
    folder = tmp_path / "ledger"
    (folder / "000002.json").unlink()
    (folder / "000003.json").rename(folder / "000002.json")
    (folder / "000004.json").rename(folder / "000003.json")
    code, out, _data = _verify(folder)
    assert code == 1 and "entry 2 (000002.json): holds the record of position 3" in out


def test_reordered_entries_are_named(tmp_path: Path) -> None:
    _ledger(tmp_path / "ledger")
    folder = tmp_path / "ledger"
    one, two = (folder / "000001.json").read_text(), (folder / "000002.json").read_text()
    (folder / "000001.json").write_text(two)
    (folder / "000002.json").write_text(one)
    code, out, _data = _verify(folder)
    assert code == 1
    assert "entry 1 (000001.json): holds the record of position 2" in out
    assert "entry 1 (000001.json): does not follow the start of the ledger" in out


def test_the_newest_entry_cut_off_or_rewritten_is_caught_against_the_report(tmp_path: Path) -> None:
    hashes = _ledger(tmp_path / "ledger")
    folder = tmp_path / "ledger"
    with open_backend(parse_location(str(folder)), Access()) as backend:
        assert verify_chain(backend, expect=(4, hashes[3])).intact
        _edit(folder / "000004.json", drill="rewritten")
        assert verify_chain(backend).intact  # nothing after it holds its hash: the chain alone cannot see it
        assert "differs from what the report recorded" in verify_chain(backend, expect=(4, hashes[3])).status()
        (folder / "000004.json").unlink()
        assert "is gone" in verify_chain(backend, expect=(4, hashes[3])).status()


def _keys(tmp_path: Path, name: str) -> tuple[Ed25519PrivateKey, Path, Path]:
    key = Ed25519PrivateKey.generate()
    private = tmp_path / name
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                          serialization.NoEncryption()))  # fmt: skip
    public = tmp_path / f"{name}.pub"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                     serialization.PublicFormat.OpenSSH))  # fmt: skip
    return key, private, public


def test_signed_entries_verify_and_a_wrong_key_or_an_edit_does_not(tmp_path: Path) -> None:
    _key, private, public = _keys(tmp_path, "ledger-key")
    _other, _private2, other_public = _keys(tmp_path, "other-key")
    key = load_private_key(private.read_bytes())  # the OpenSSH form, as ssh-keygen -t ed25519 writes it
    _ledger(tmp_path / "ledger", 3, key)
    code, out, data = _verify(tmp_path / "ledger", "--public-key", str(public))
    assert code == 0 and "3 of 3" in out and data["signed"] == 3, out
    code, out, _data = _verify(tmp_path / "ledger", "--public-key", str(other_public))
    assert code == 1 and "entry 1 (000001.json): is signed by another key" in out
    # The newest entry edited: no later entry holds its hash, but its signature no longer matches.
    _edit(tmp_path / "ledger" / "000003.json", note="edited")
    code, out, _data = _verify(tmp_path / "ledger", "--public-key", str(public))
    assert code == 1 and "entry 3 (000003.json): does not match its signature" in out
    code, out, _data = _verify(tmp_path / "ledger")  # without the key: checked against the key the entry names
    assert code == 1 and "entry 3 (000003.json): does not match its signature" in out


def test_an_unsigned_entry_fails_when_a_key_is_pinned(tmp_path: Path) -> None:
    _key, _private, public = _keys(tmp_path, "k")
    _ledger(tmp_path / "ledger", 2)
    code, out, _data = _verify(tmp_path / "ledger", "--public-key", str(public))
    assert code == 1 and "entry 1 (000001.json): is not signed" in out


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyUnusable, match="not Ed25519"):
        load_private_key(pem)
    with pytest.raises(KeyUnusable):
        load_private_key(b"not a key")


def test_two_drills_appending_at_once_keep_one_chain(tmp_path: Path) -> None:
    folder = tmp_path / "ledger"
    folder.mkdir()

    def drill(worker: int) -> None:
        with open_backend(parse_location(str(folder)), Access()) as backend:
            for n in range(8):
                append_record(backend, {"worker": worker, "n": n})

    threads = [threading.Thread(target=drill, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with open_backend(parse_location(str(folder)), Access()) as backend:
        chain = verify_chain(backend)
    assert chain.intact and chain.entries == 32, chain.status()
    assert sorted((r["worker"], r["n"]) for r in chain.records) == [(w, n) for w in range(4) for n in range(8)]
    assert not list(folder.glob("*.partial"))


def test_a_crashed_append_leaves_nothing_that_counts(tmp_path: Path) -> None:
    _ledger(tmp_path / "ledger", 2)
    (tmp_path / "ledger" / "000003.json.0123456789ab.partial").write_text("{half")
    assert _verify(tmp_path / "ledger")[0] == 0
    _ledger(tmp_path / "ledger", 1)  # the next drill takes number 3
    assert _verify(tmp_path / "ledger")[0] == 0 and (tmp_path / "ledger" / "000003.json").exists()


def test_a_missing_ledger_folder_is_an_access_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["drill", "verify-ledger", str(tmp_path / "nope")])
    assert result.exit_code == 3


def test_verify_ledger_holds_the_newest_entry_against_a_report(tmp_path: Path) -> None:
    hashes = _ledger(tmp_path / "ledger", 3)
    report = tmp_path / "report"
    report.mkdir()
    (report / "drill.json").write_text(json.dumps({"ledger": {"position": 3, "sha256": hashes[2]}}))
    code, out, _data = _verify(tmp_path / "ledger", "--report", str(report))
    assert code == 0, out
    (tmp_path / "ledger" / "000003.json").unlink()
    assert _verify(tmp_path / "ledger")[0] == 0  # the chain alone cannot see it
    code, out, _data = _verify(tmp_path / "ledger", "--report", str(report))
    assert code == 1 and "entry 3 (000003.json): is gone: a report recorded it" in out
    (report / "drill.json").write_text("{}")
    result = runner.invoke(app, ["drill", "verify-ledger", str(tmp_path / "ledger"), "--report", str(report)])
    assert result.exit_code == 3 and "no ledger entry recorded" in result.stderr
