"""Fold a long command line for paper: break only at spaces, mark each break with cmd.exe's ``^``.

A printed line that ends in `` ^`` continues on the next one; typed (or pasted) into cmd.exe that way, the
caret joins the lines back into one command. A ``REM`` line folds into more ``REM`` lines instead (a caret
would join the next line into the comment). No token is ever split: a token longer than the width stays
whole on a line of its own.
"""

from __future__ import annotations

CONTINUATION = "^"
INDENT = "  "


def wrap_command(line: str, width: int) -> list[str]:
    """The printed lines for one command line of at most ``width`` characters each where the tokens allow."""
    if len(line) <= width:
        return [line]
    if line.upper().startswith("REM "):
        return _wrap_remark(line, width)
    out: list[str] = []
    current = ""
    for token in _tokens(line):
        prefix = INDENT if out else ""
        candidate = f"{current} {token}" if current else prefix + token
        # keep room for " ^" on every line that is followed by another
        if current and len(candidate) + 2 > width:
            out.append(f"{current} {CONTINUATION}")
            current = INDENT + token
        else:
            current = candidate
    out.append(current)
    return out


def _wrap_remark(line: str, width: int) -> list[str]:
    out: list[str] = []
    current = ""
    for token in line.split():
        candidate = f"{current} {token}" if current else token
        if current and len(candidate) > width:
            out.append(current)
            current = f"REM {INDENT}{token}"
        else:
            current = candidate
    out.append(current)
    return out


def _tokens(line: str) -> list[str]:
    """Split at spaces outside double quotes: a quoted path with spaces is one token."""
    tokens: list[str] = []
    current = ""
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        if char == " " and not quoted:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
    if current:
        tokens.append(current)
    return tokens
