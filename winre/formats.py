"""Lay a runbook out as Markdown, plain text, a self-contained printable HTML page, or a PDF (fpdf2, in-process).

Every format carries the same content: sections with tick boxes, the values with their sources, the
generation time and the tool version. Pure functions: they return text or bytes and write nothing.
"""

from __future__ import annotations

import enum
import html
import textwrap
from collections.abc import Callable

from fpdf import FPDF

from winre.runbook import RunbookInput, Section, build_runbook, path_for


def _title(inp: RunbookInput) -> str:
    return f"Restore runbook: {inp.machine.text}, {path_for(inp).split(',')[0].lower()}"


def _stamp(inp: RunbookInput) -> str:
    return (
        f"Generated {inp.generated_at:%Y-%m-%d %H:%M} UTC by bmr {inp.tool_version} from {inp.location}. "
        "No password is stored here: fill in blanks by hand."
    )


def render_markdown(inp: RunbookInput, sections: tuple[Section, ...] | None = None) -> str:
    sections = sections or build_runbook(inp)
    out = [f"# {_title(inp)}", "", f"_{_stamp(inp)}_", ""]
    for section in sections:
        out += [f"## {section.title}", ""]
        if section.facts:
            out += [f"- **{label}:** {value}" for label, value in section.facts] + [""]
        for step in section.steps:
            out.append(f"- [ ] {step.text}")
            if step.code:
                out += ["", "  ```bat", *(f"  {line}" for line in step.code), "  ```", ""]
            if step.note:
                out.append(f"  > {step.note}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_text(inp: RunbookInput, sections: tuple[Section, ...] | None = None, width: int = 96) -> str:
    sections = sections or build_runbook(inp)
    wrap = textwrap.TextWrapper(width=width, subsequent_indent="      ", break_long_words=False)
    out = [_title(inp).upper(), "=" * min(width, len(_title(inp))), *textwrap.wrap(_stamp(inp), width), ""]
    for section in sections:
        out += [section.title, "-" * len(section.title)]
        out += [f"  {label}: {value}" for label, value in section.facts]
        for step in section.steps:
            out += wrap.wrap(f"  [ ] {step.text}")
            out += [f"        {line}" for line in step.code]
            if step.note:
                out += wrap.wrap(f"      ! {step.note}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


_CSS = """
@page { margin: 14mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.4 "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: #111; margin: 0 auto; max-width: 180mm; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
.stamp { color: #444; font-size: 9pt; margin-bottom: 4mm; }
section { break-before: page; }
section:first-of-type { break-before: auto; }
h2 { font-size: 13pt; border-bottom: 1px solid #999; padding-bottom: 1mm; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 1mm 4mm; font-size: 9.5pt; }
dt { font-weight: bold; } dd { margin: 0; overflow-wrap: anywhere; }
ul { list-style: none; padding: 0; }
li { margin: 0 0 2.5mm; break-inside: avoid; display: flex; gap: 2.5mm; }
li input { width: 4mm; height: 4mm; margin-top: 0.8mm; flex: none; }
pre { background: #f2f2f2; padding: 1.5mm 2mm; margin: 1mm 0 0; font: 9pt/1.35 "DejaVu Sans Mono", Consolas, monospace;
      white-space: pre-wrap; overflow-wrap: anywhere; }
.note { color: #8a1c00; font-weight: bold; font-size: 9.5pt; margin-top: 1mm; }
@media screen { body { padding: 8mm; } }
"""


def render_html(inp: RunbookInput, sections: tuple[Section, ...] | None = None) -> str:
    sections = sections or build_runbook(inp)
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(_title(inp))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(_title(inp))}</h1>",
        f'<p class="stamp">{e(_stamp(inp))}</p>',
    ]
    for number, section in enumerate(sections):
        parts.append(f'<section id="s{number + 1}"><h2>{e(section.title)}</h2>')
        if section.intro:
            parts.append(f"<p>{e(section.intro)}</p>")
        if section.facts:
            parts.append("<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in section.facts) + "</dl>")
        parts.append("<ul>")
        for index, step in enumerate(section.steps):
            box = f"s{number + 1}-{index + 1}"
            body = f'<label for="{box}">{e(step.text)}</label>'
            if step.code:
                body += "<pre>" + e("\n".join(step.code)) + "</pre>"
            if step.note:
                body += f'<div class="note">{e(step.note)}</div>'
            parts.append(f'<li><input type="checkbox" id="{box}"><div>{body}</div></li>')
        parts.append("</ul></section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


_ASCII = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2026": "...", "\u2192": "->", "\u00a0": " "})  # fmt: skip


def _latin1(text: str) -> str:
    """The PDF's core fonts speak Latin-1; nothing else may reach them."""
    return text.translate(_ASCII).encode("latin-1", "replace").decode("latin-1")


def render_pdf(inp: RunbookInput, sections: tuple[Section, ...] | None = None, paper: str = "A4") -> bytes:
    sections = sections or build_runbook(inp)
    pdf = FPDF(format=paper)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(15, 15, 15)
    pdf.set_title(_latin1(_title(inp)))
    pdf.set_creator(_latin1(f"bmr {inp.tool_version}"))
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for number, section in enumerate(sections):
        pdf.add_page()
        if number == 0:
            pdf.set_font("Helvetica", "B", 15)
            pdf.multi_cell(width, 7, _latin1(_title(inp)), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 8.5)
            pdf.multi_cell(width, 4.5, _latin1(_stamp(inp)), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12.5)
        pdf.multi_cell(width, 7, _latin1(section.title), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        for label, value in section.facts:
            pdf.set_font("Helvetica", "B", 9)
            pdf.multi_cell(width, 4.8, _latin1(f"{label}: ") + _latin1(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        for step in section.steps:
            _pdf_step(pdf, step.text, step.code, step.note, width)
    return bytes(pdf.output())


def _pdf_step(pdf: FPDF, text: str, code: tuple[str, ...], note: str | None, width: float) -> None:
    if pdf.will_page_break(12):
        pdf.add_page()
    y = pdf.get_y()
    pdf.rect(pdf.l_margin, y + 1, 3.6, 3.6)  # the tick box
    pdf.set_x(pdf.l_margin + 6)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(width - 6, 5.2, _latin1(text), new_x="LMARGIN", new_y="NEXT", align="L")
    for line in code:
        pdf.set_x(pdf.l_margin + 8)
        pdf.set_font("Courier", "", 8.5)
        pdf.multi_cell(width - 8, 4.4, _latin1(line), new_x="LMARGIN", new_y="NEXT", align="L")
    if note:
        pdf.set_x(pdf.l_margin + 8)
        pdf.set_font("Helvetica", "B", 8.5)
        pdf.multi_cell(width - 8, 4.4, _latin1(note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.6)


class Format(enum.StrEnum):
    """The runbook's output formats; each has one renderer in :data:`RENDERERS`."""

    md = "md"
    html = "html"
    pdf = "pdf"
    txt = "txt"


RENDERERS: dict[Format, Callable[[RunbookInput], str | bytes]] = {
    Format.md: render_markdown,
    Format.html: render_html,
    Format.pdf: render_pdf,
    Format.txt: render_text,
}


def render(fmt: Format, inp: RunbookInput) -> str | bytes:
    """The runbook in ``fmt``: text, or bytes for a PDF."""
    return RENDERERS[fmt](inp)
