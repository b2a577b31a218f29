"""Lay a runbook out as Markdown, plain text or a self-contained printable HTML page; the PDF is winre.pdf.

Every format carries the same content: a FAIL banner first when the runbook was made despite blocking
preflight failures, then sections with tick boxes, the values with their sources, the generation time and the
tool version, and the references. Printed forms fold command lines only at spaces, marking each fold with
cmd.exe's ``^`` (winre.cmdwrap), and carry the server name, the version identifier and "page N of M" on every
sheet. Pure functions: they return text and write nothing.
"""

from __future__ import annotations

import enum
import html
import re
import textwrap
from collections.abc import Callable

from winre.cmdwrap import wrap_command
from winre.runbook import RunbookInput, Section, build_runbook, path_for
from winre.text import banner_lines, running_head, stamp, title

HTML_CODE_COLUMNS = 82  # fits 8.5pt monospace in the 180 mm text column of A4 and Letter, checkbox indent included


def render_markdown(inp: RunbookInput, sections: tuple[Section, ...] | None = None) -> str:
    sections = sections or build_runbook(inp)
    out: list[str] = []
    if inp.blocking:
        head, *lines = banner_lines(inp)
        out += [f"> **{head}**", ">", *(f"> - {line}" for line in lines), ""]
    out += [f"# {title(inp)}", "", f"_{stamp(inp)}_", ""]
    for section in sections:
        out += [f"## {section.title}", ""]
        if section.intro:
            out += [section.intro, ""]
        if section.facts:
            out += [f"- **{label}:** {value}" for label, value in section.facts] + [""]
        for step in section.steps:
            out.append(f"- [ ] {step.text}")
            if step.code:  # whole lines: Markdown is read on screen and copied from
                out += ["", "  ```bat", *(f"  {line}" for line in step.code), "  ```", ""]
            if step.note:
                out.append(f"  > {step.note}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_text(inp: RunbookInput, sections: tuple[Section, ...] | None = None, width: int = 96) -> str:
    sections = sections or build_runbook(inp)
    wrap = textwrap.TextWrapper(width=width, subsequent_indent="      ", break_long_words=False,
                                break_on_hyphens=False)  # fmt: skip
    out: list[str] = []
    if inp.blocking:
        out += ["!" * width]
        for line in banner_lines(inp):
            out += textwrap.wrap(line, width - 3, initial_indent="!! ", subsequent_indent="!!   ",
                                 break_long_words=False, break_on_hyphens=False)  # fmt: skip
        out += ["!" * width, ""]
    out += [title(inp).upper(), "=" * min(width, len(title(inp))), *textwrap.wrap(stamp(inp), width), ""]
    for section in sections:
        out += [section.title, "-" * len(section.title)]
        if section.intro:
            out += wrap.wrap(f"  {section.intro}")
        for label, value in section.facts:
            out += wrap.wrap(f"  {label}: {value}")
        for step in section.steps:
            out += wrap.wrap(f"  [ ] {step.text}")
            out += [f"        {part}" for line in step.code for part in wrap_command(line, width - 8)]
            if step.note:
                out += wrap.wrap(f"      ! {step.note}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _css_string(text: str) -> str:
    """A CSS string literal (for the page margin boxes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _css(inp: RunbookInput) -> str:
    # Chromium draws @page margin boxes (since version 131): the running head and "page N of M" on every sheet.
    return f"""
@page {{ margin: 16mm 14mm 16mm 14mm;
  @top-left {{ content: {_css_string(running_head(inp))}; font: 8pt "DejaVu Sans", Arial, sans-serif; color: #333; }}
  @top-right {{ content: {_css_string(title(inp))}; font: 8pt "DejaVu Sans", Arial, sans-serif; color: #333; }}
  @bottom-left {{ content: {_css_string(f"bmr {inp.tool_version}, {inp.generated_at:%Y-%m-%d %H:%M} UTC")};
                 font: 8pt "DejaVu Sans", Arial, sans-serif; color: #555; }}
  @bottom-right {{ content: "page " counter(page) " of " counter(pages);
                  font: 8pt "DejaVu Sans", Arial, sans-serif; color: #333; }} }}
* {{ box-sizing: border-box; }}
body {{ font: 9.5pt/1.35 "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: #111; margin: 0 auto; max-width: 180mm;
       hyphens: none; }}
h1 {{ font-size: 14pt; margin: 0 0 1.5mm; }}
.stamp {{ color: #444; font-size: 8.5pt; margin: 0 0 3mm; }}
.fail {{ border: 1mm solid #b00000; background: #ffe9e9; color: #7a0000; padding: 2mm 3mm; margin: 0 0 4mm; }}
.fail strong {{ font-size: 12pt; }} .fail ul {{ margin: 1mm 0 0 5mm; padding: 0; list-style: disc; }}
h2 {{ font-size: 11.5pt; border-bottom: 1px solid #999; padding-bottom: 0.5mm; margin: 4mm 0 2mm;
      break-after: avoid; page-break-after: avoid; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 0.5mm 4mm; font-size: 8.5pt; margin: 0 0 2mm; }}
dt {{ font-weight: bold; }} dd {{ margin: 0; }}
ul {{ list-style: none; padding: 0; margin: 0; }}
li {{ margin: 0 0 1.8mm; break-inside: avoid; page-break-inside: avoid; display: flex; gap: 2.5mm; }}
li input {{ width: 3.6mm; height: 3.6mm; margin-top: 0.6mm; flex: none; }}
pre {{ background: #f2f2f2; padding: 1.2mm 2mm; margin: 1mm 0 0;
      font: 8.5pt/1.3 "DejaVu Sans Mono", Consolas, monospace;
      white-space: pre; hyphens: none; word-break: keep-all; overflow-wrap: normal; }}
.t {{ white-space: nowrap; hyphens: none; }}
.note {{ color: #8a1c00; font-weight: bold; font-size: 8.5pt; margin-top: 1mm; }}
@media screen {{ body {{ padding: 8mm; }} }}
"""


_COMMANDISH = re.compile(r"(?<![^\s(])([^\s<]*[-\\][^\s<]*)")


def _prose(text: str) -> str:
    """Escaped prose in which switches, paths and identifiers (-backupTarget, \\\\ip\\share, 10/04/2020-17:48)
    never break across lines: a hyphen or backslash is no place to fold a word someone has to type."""
    return _COMMANDISH.sub(lambda m: f'<span class="t">{m.group(1)}</span>', html.escape(text))


def _code_line(line: str) -> str:
    """One printed command line; a token too long for the column is set smaller rather than cut or broken."""
    if len(line) <= HTML_CODE_COLUMNS:
        return html.escape(line)
    size = max(5.5, round(8.5 * HTML_CODE_COLUMNS / len(line), 1))
    return f'<span style="font-size: {size}pt">{html.escape(line)}</span>'


def render_html(inp: RunbookInput, sections: tuple[Section, ...] | None = None) -> str:
    sections = sections or build_runbook(inp)
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title(inp))}</title><style>{_css(inp)}</style></head><body>",
    ]
    if inp.blocking:
        head, *lines = banner_lines(inp)
        parts.append(
            f'<div class="fail" role="alert"><strong>{e(head)}</strong><ul>'
            + "".join(f"<li>{_prose(line)}</li>" for line in lines)
            + "</ul></div>"
        )
    parts += [f"<h1>{e(title(inp))}</h1>", f'<p class="stamp">{_prose(stamp(inp))}</p>']
    for number, section in enumerate(sections):
        parts.append(f'<section id="s{number + 1}"><h2>{e(section.title)}</h2>')
        if section.intro:
            parts.append(f"<p>{_prose(section.intro)}</p>")
        if section.facts:
            parts.append(
                "<dl>" + "".join(f"<dt>{_prose(k)}</dt><dd>{_prose(v)}</dd>" for k, v in section.facts) + "</dl>"
            )
        if section.steps:
            parts.append("<ul>")
        for index, step in enumerate(section.steps):
            box = f"s{number + 1}-{index + 1}"
            body = f'<label for="{box}">{_prose(step.text)}</label>'
            if step.code:
                folded = [part for line in step.code for part in wrap_command(line, HTML_CODE_COLUMNS)]
                body += "<pre>" + "\n".join(_code_line(part) for part in folded) + "</pre>"
            if step.note:
                body += f'<div class="note">{_prose(step.note)}</div>'
            parts.append(f'<li><input type="checkbox" id="{box}"><div>{body}</div></li>')
        parts.append(("</ul>" if section.steps else "") + "</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


NOT_READY = "FAIL: the preflight found problems that stop this restore; no runbook can be made until they are fixed."


def not_ready_markdown(name: str, location: str, blocking: tuple[str, ...]) -> str:
    """The checklist of a server whose restore cannot be planned (unreachable share, no usable point): the FAIL
    banner and the failing checks, each with its fix."""
    lines = [f"> **{NOT_READY}**", ">", *(f"> - {line}" for line in blocking), ""]
    return "\n".join([*lines, f"# Restore of {name} from {location}: not ready", ""])


def not_ready_html(name: str, location: str, blocking: tuple[str, ...]) -> str:
    """:func:`not_ready_markdown` as a page."""
    e = html.escape
    head = f"Restore of {name} from {location}: not ready"
    items = "".join(f"<li>{_prose(line)}</li>" for line in blocking)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(head)}</title></head><body>\n'
        f'<div class="fail" role="alert"><strong>{e(NOT_READY)}</strong><ul>{items}</ul></div>\n'
        f"<h1>{e(head)}</h1>\n</body></html>\n"
    )


__all__ = [
    "RENDERERS", "Format", "not_ready_html", "not_ready_markdown", "path_for", "render", "render_html",
    "render_markdown", "render_pdf", "render_text",
]  # fmt: skip


class Format(enum.StrEnum):
    """The runbook's output formats; each has one renderer in :data:`RENDERERS`."""

    md = "md"
    html = "html"
    pdf = "pdf"
    txt = "txt"


def render_pdf(inp: RunbookInput, sections: tuple[Section, ...] | None = None, paper: str = "A4") -> bytes:
    """The runbook as a PDF (winre.pdf; fpdf2 is imported only when a PDF is asked for)."""
    from winre.pdf import render_pdf as pdf

    return pdf(inp, sections, paper)


RENDERERS: dict[Format, Callable[[RunbookInput], str | bytes]] = {
    Format.md: render_markdown,
    Format.html: render_html,
    Format.pdf: render_pdf,
    Format.txt: render_text,
}


def render(fmt: Format, inp: RunbookInput) -> str | bytes:
    """The runbook in ``fmt``: text, or bytes for a PDF."""
    return RENDERERS[fmt](inp)
