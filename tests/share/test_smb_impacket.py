"""A second SMB implementation: impacket's smbserver, whose READ responses carry padding after the data (allowed:
the reader honours DataOffset and the message length, MS-SMB2 2.2.20)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.cli.app import app
from share.connect import Access, open_backend, parse_location
from share.smb import SmbBackend, _SmbSource
from tests.lib.servers import SMB_PASSWORD, ImpacketServer
from tests.lib.treebuilder import ImageCache, PointSpec, write_tree

pytestmark = pytest.mark.servers

runner = CliRunner()


@pytest.fixture(scope="module")
def impacket(tmp_path_factory: pytest.TempPathFactory, images: ImageCache) -> Iterator[ImpacketServer]:
    base = tmp_path_factory.mktemp("impacket")
    folder = base / "share"
    write_tree(folder, {"DC01": PointSpec(pad_mb=3)}, images)
    (folder / "ragged.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 123))  # a tail that is not 8-byte aligned
    server = ImpacketServer(base / "state", folder).start()
    yield server
    server.stop()


def test_padded_read_responses_are_read_through_the_bulk_channel(impacket: ImpacketServer, smb_access: Access) -> None:
    expected = (impacket.folder / "ragged.bin").read_bytes()
    with open_backend(parse_location(impacket.url()), smb_access) as backend:
        assert isinstance(backend, SmbBackend) and backend.facts().dialect == "2.0.2"
        source = backend.open_source("ragged.bin")
        assert isinstance(source, _SmbSource)  # the fast reader, not the fallback
        try:
            got = b"".join(bytes(chunk) for chunk in source.chunks())
        finally:
            source.close()
        assert got == expected


def test_a_point_stages_from_impacket(impacket: ImpacketServer, password_env: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["stage", impacket.url(), str(tmp_path / "copy"), "--json", "--password-env", password_env]
    )
    assert SMB_PASSWORD not in result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["verified"] is True, data
