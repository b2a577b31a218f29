"""Relative paths inside a backend: '/'-separated, never absolute, never climbing out with '..'."""

from __future__ import annotations

from share.errors import UsageError


def split(path: str) -> list[str]:
    """The components of a backend-relative path; refuses '..' and NUL so nothing escapes the root."""
    parts = [p for p in path.replace("\\", "/").split("/") if p and p != "."]
    for part in parts:
        if part == ".." or "\x00" in part:
            raise UsageError(f"refusing a path that climbs out of the location: {path!r}")
    return parts


def join(*paths: str) -> str:
    """Join backend-relative paths into one normalized relative path."""
    out: list[str] = []
    for path in paths:
        out.extend(split(path))
    return "/".join(out)


def parent(path: str) -> str:
    parts = split(path)
    return "/".join(parts[:-1])


def name(path: str) -> str:
    parts = split(path)
    return parts[-1] if parts else ""
