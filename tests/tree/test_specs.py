"""BackupSpecs.xml parsing: the real shape in its real encodings, and everything malformed."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restore.tree.specs import SpecsError, parse_specs
from tests.lib.treebuilder import VolumeSpec, bmr_dc, specs_xml, system_state_only

REAL = """<BackupSpecs Version="3">
<FileSpecs>
<Volume Name="\\\\?\\Volume{6B2A3C58-1B66-4C24-9D55-1F7E3E4B2A10}\\" AccessPath="" OriginalAccessPath=""
 Label="" OriginalLabel=""/>
<Volume Name="\\\\?\\Volume{0AF2C0E4-A3E1-11E3-80B4-806E6F6E6963}\\" AccessPath="C:" OriginalAccessPath="C:"
 Label="" OriginalLabel=""><FileSpec FilePath="C:\\" FileName="*" IsRecursive="true" IsInclude="true"/></Volume>
</FileSpecs>
<SystemState IsPresent="true"/>
<AllCritical IsPresent="true"/>
</BackupSpecs>"""


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: "\ufeff".encode("utf-16-le") + s.encode("utf-16-le"),
        lambda s: s.encode("utf-16-le"),
        lambda s: b"\xef\xbb\xbf" + s.encode(),
        lambda s: s.encode(),
        lambda s: ('<?xml version="1.0" encoding="UTF-16"?>' + s).encode("utf-16"),
    ],
    ids=["utf16-bom", "utf16-nobom", "utf8-bom", "utf8", "utf16-declared"],
)
def test_encodings(encode: object) -> None:
    specs = parse_specs(encode(REAL))  # type: ignore[operator]
    assert specs.version == "3" and specs.system_state and specs.all_critical
    assert [v.guid for v in specs.volumes] == [
        "6b2a3c58-1b66-4c24-9d55-1f7e3e4b2a10",
        "0af2c0e4-a3e1-11e3-80b4-806e6f6e6963",
    ]
    assert [v.access_path for v in specs.volumes] == ["", "C:"]


def test_builder_output_round_trips() -> None:
    spec = bmr_dc()
    parsed = parse_specs(specs_xml(spec))
    assert [v.guid for v in parsed.volumes] == [v.guid for v in spec.volumes]
    assert set(parsed.component_writers) == set(spec.writers)
    only = parse_specs(specs_xml(system_state_only()))
    assert only.system_state and not only.all_critical


def test_missing_flags_mean_false() -> None:
    specs = parse_specs(
        b'<BackupSpecs><FileSpecs><Volume Name="\\\\?\\Volume{'
        + b"1" * 8
        + b"-1111-1111-1111-"
        + b"1" * 12
        + b'}\\"/></FileSpecs></BackupSpecs>'
    )
    assert not specs.system_state and not specs.all_critical and specs.version is None


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (REAL.encode()[:200], "not well-formed"),
        (b"<Other/>", "root element"),
        (b"\xff\xfe<\x00", "not well-formed"),
        (b"\xff\xfe\x00\xd8", "not valid"),
        (b'<BackupSpecs><FileSpecs><Volume Name="C:"/></FileSpecs></BackupSpecs>', "no volume GUID"),
        (
            b'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><BackupSpecs>&b;'
            b"</BackupSpecs>",
            "XML",
        ),
        (b"<BackupSpecs>" * 100_000, "XML"),
        (b"\x00" * (5 * 1024 * 1024), "more than"),
    ],
)
def test_malformed(data: bytes, words: str) -> None:
    with pytest.raises(SpecsError, match=words):
        parse_specs(data)


def test_duplicate_volumes_are_listed_once() -> None:
    vol = VolumeSpec("C:")
    spec = bmr_dc()
    spec.volumes = [vol, vol]
    assert len(parse_specs(specs_xml(spec)).volumes) == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_only_raise_specs_error(data: bytes) -> None:
    with contextlib.suppress(SpecsError):
        parse_specs(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_only_raises_specs_error(text: str) -> None:
    for encoded in (
        text.encode("utf-8", "surrogatepass"),
        "\ufeff".encode("utf-16-le") + text.encode("utf-16-le", "surrogatepass"),
    ):
        with contextlib.suppress(SpecsError):
            parse_specs(encoded)
