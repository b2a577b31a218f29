"""IPv6 hosts and ports in the forms people type and the one Windows parses (fast tier: parsing only)."""

from __future__ import annotations

import pytest

from share import errors
from share.connect import parse_location
from share.location import host_from_windows, windows_host


@pytest.mark.parametrize(
    ("text", "host", "port", "unc"),
    [
        ("\\\\[::1]\\share\\x", "::1", 445, "\\\\--1.ipv6-literal.net\\share\\x"),
        ("\\\\--1.ipv6-literal.net\\share", "::1", 445, "\\\\--1.ipv6-literal.net\\share"),
        ("\\\\FE80--1s4.IPV6-LITERAL.NET\\s", "fe80::1%4", 445, "\\\\fe80--1s4.ipv6-literal.net\\s"),
        ("smb://u@[::1]/share", "::1", 445, "\\\\--1.ipv6-literal.net\\share"),
        ("smb://u@[2001:db8::5]:4455/share/a", "2001:db8::5", 4455, "\\\\2001-db8--5.ipv6-literal.net\\share\\a"),
        ("smb://u@[fe80::1%254]/share", "fe80::1%4", 445, "\\\\fe80--1s4.ipv6-literal.net\\share"),
        ("smb://u@--1.ipv6-literal.net/share", "::1", 445, "\\\\--1.ipv6-literal.net\\share"),
        ("smb://u@10.0.0.5:4455/share", "10.0.0.5", 4455, "\\\\10.0.0.5\\share"),
    ],
)
def test_every_form_is_read_and_rendered_the_windows_way(text: str, host: str, port: int, unc: str) -> None:
    location = parse_location(text, windows=False)
    assert (location.host, location.port, location.unc()) == (host, port, unc)
    assert "\\\\::" not in location.unc()
    again = parse_location(location.display(), windows=False)
    assert (again.host, again.port, again.share) == (location.host, location.port, location.share)


def test_the_windows_name_round_trips() -> None:
    for address in ("::1", "fe80::1%4", "2001:db8::5", "10.0.0.5", "fs01"):
        assert (host_from_windows(windows_host(address)) or address) == address


@pytest.mark.parametrize("text", ["\\\\[zz]\\s", "\\\\x-y.ipv6-literal.net\\s"])
def test_a_malformed_ipv6_host_is_refused(text: str) -> None:
    with pytest.raises(errors.InvalidLocation, match="IPv6"):
        parse_location(text, windows=False)


def test_a_unc_path_has_no_port_and_says_where_one_goes() -> None:
    with pytest.raises(errors.InvalidLocation, match=r"no port.*smb://user@fs01:4455/share"):
        parse_location("\\\\fs01:4455\\share", windows=False)
