"""The runbook as a PDF (fpdf2, in-process): sections flow from page to page, a step is never split, every
sheet carries the server, the version identifier and "page N of M", and command lines fold only at spaces
with cmd.exe's ``^`` at the end of each folded line. Pure: returns bytes, writes nothing.
"""

from __future__ import annotations

from fpdf import FPDF

from winre.cmdwrap import wrap_command
from winre.runbook import RunbookInput, Section, Step, build_runbook
from winre.text import banner_lines, running_head, stamp, title

_ASCII = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2026": "...", "\u2192": "->", "\u00a0": " "})  # fmt: skip
CODE_SIZE = 8.5
CODE_LINE = 4.2
TEXT_LINE = 4.8
MARGIN = 15.0


def _latin1(text: str) -> str:
    """The PDF's core fonts speak Latin-1; nothing else may reach them."""
    return text.translate(_ASCII).encode("latin-1", "replace").decode("latin-1")


class _Sheets(FPDF):
    """A4/Letter pages with the running head at the top and "page N of M" at the foot of every sheet."""

    def __init__(self, head: str, name: str, foot: str, paper: str) -> None:
        super().__init__(format=paper)
        self._head, self._name, self._foot = _latin1(head), _latin1(name), _latin1(foot)

    def header(self) -> None:
        self.set_font("Helvetica", "", 7.5)
        self.set_text_color(60, 60, 60)
        self.set_xy(self.l_margin, 7)
        half = (self.w - self.l_margin - self.r_margin) / 2
        self.cell(half, 4, self._head, align="L")
        self.cell(half, 4, self._name, align="R")
        self.set_text_color(0, 0, 0)
        self.set_y(self.t_margin)

    def footer(self) -> None:
        self.set_font("Helvetica", "", 7.5)
        self.set_text_color(60, 60, 60)
        self.set_xy(self.l_margin, -11)
        half = (self.w - self.l_margin - self.r_margin) / 2
        self.cell(half, 4, self._foot, align="L")
        self.cell(half, 4, f"page {self.page_no()} of {self.str_alias_nb_pages}", align="R")
        self.set_text_color(0, 0, 0)


def render_pdf(inp: RunbookInput, sections: tuple[Section, ...] | None = None, paper: str = "A4") -> bytes:
    sections = sections or build_runbook(inp)
    pdf = _Sheets(running_head(inp), title(inp), f"bmr {inp.tool_version}, {inp.generated_at:%Y-%m-%d %H:%M} UTC",
                  paper)  # fmt: skip
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.set_margins(MARGIN, 13, MARGIN)
    pdf.set_title(_latin1(title(inp)))
    pdf.set_creator(_latin1(f"bmr {inp.tool_version}"))
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.add_page()
    if inp.blocking:
        _banner(pdf, banner_lines(inp), width)
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(width, 6.5, _latin1(title(inp)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8.5)
    pdf.multi_cell(width, 4.2, _latin1(stamp(inp)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for section in sections:
        first = _step_height(pdf, section.steps[0], width) if section.steps else 12.0
        if pdf.will_page_break(9 + first if first < 120 else 20):  # the heading stays with what follows it
            pdf.add_page()
        pdf.set_font("Helvetica", "B", 11.5)
        pdf.multi_cell(width, 6.5, _latin1(section.title), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(0.5)
        if section.intro:
            pdf.set_font("Helvetica", "", 8.5)
            pdf.multi_cell(width, 4.2, _latin1(section.intro), new_x="LMARGIN", new_y="NEXT")
        for label, value in section.facts:
            _fact(pdf, label, value, width)
        if section.facts:
            pdf.ln(1)
        for step in section.steps:
            _step(pdf, step, width)
        pdf.ln(1.5)
    return bytes(pdf.output())


def _banner(pdf: FPDF, lines: list[str], width: float) -> None:
    pdf.set_draw_color(176, 0, 0)
    pdf.set_fill_color(255, 233, 233)
    pdf.set_text_color(122, 0, 0)
    pdf.set_line_width(0.8)
    top = pdf.get_y()
    pdf.set_xy(pdf.l_margin + 3, top + 2.5)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(width - 6, 5.2, _latin1(lines[0]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for line in lines[1:]:
        pdf.set_x(pdf.l_margin + 3)
        pdf.multi_cell(width - 6, 4.6, _latin1(f"- {line}"), new_x="LMARGIN", new_y="NEXT")
    bottom = pdf.get_y() + 2.5
    # draw the frame behind the text already placed: a fill would cover it, so only the border is drawn
    pdf.rect(pdf.l_margin, top, width, bottom - top, style="D")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.set_y(bottom + 3)


def _fact(pdf: FPDF, label: str, value: str, width: float) -> None:
    pdf.set_font("Helvetica", "B", 8.5)
    head = _latin1(f"{label}: ")
    label_width = min(pdf.get_string_width(head) + 1, width / 3)
    pdf.cell(label_width, 4.3, head)
    pdf.set_font("Helvetica", "", 8.5)
    pdf.multi_cell(width - label_width, 4.3, _latin1(value), new_x="LMARGIN", new_y="NEXT", align="L")


def _code_lines(pdf: FPDF, code: tuple[str, ...], width: float) -> list[str]:
    pdf.set_font("Courier", "", CODE_SIZE)
    columns = int(width / pdf.get_string_width("M"))
    return [part for line in code for part in wrap_command(_latin1(line), columns)]


def _line_count(pdf: FPDF, width: float, height: float, text: str) -> int:
    lines = pdf.multi_cell(width, height, text, dry_run=True, output="LINES")
    assert isinstance(lines, list)  # output="LINES" returns the list of lines
    return len(lines)


def _step_height(pdf: FPDF, step: Step, width: float) -> float:
    pdf.set_font("Helvetica", "", 9.5)
    height = _line_count(pdf, width - 6, TEXT_LINE, _latin1(step.text)) * TEXT_LINE + 2
    if step.code:
        height += len(_code_lines(pdf, step.code, width - 10)) * CODE_LINE + 2
    if step.note:
        pdf.set_font("Helvetica", "B", 8.5)
        height += _line_count(pdf, width - 8, 4.2, _latin1(step.note)) * 4.2
    return float(height)


def _step(pdf: FPDF, step: Step, width: float) -> None:
    height = _step_height(pdf, step, width)
    if height < pdf.h - 40 and pdf.will_page_break(height):  # a step is never split across sheets
        pdf.add_page()
    y = pdf.get_y()
    pdf.rect(pdf.l_margin, y + 0.8, 3.4, 3.4)  # the tick box
    pdf.set_x(pdf.l_margin + 6)
    pdf.set_font("Helvetica", "", 9.5)
    pdf.multi_cell(width - 6, TEXT_LINE, _latin1(step.text), new_x="LMARGIN", new_y="NEXT", align="L")
    if step.code:
        code_width = width - 10
        lines = _code_lines(pdf, step.code, code_width)
        pdf.set_fill_color(242, 242, 242)
        pdf.rect(pdf.l_margin + 6, pdf.get_y() + 0.5, width - 6, len(lines) * CODE_LINE + 1, style="F")
        pdf.ln(1)
        for line in lines:
            size = CODE_SIZE
            pdf.set_font("Courier", "", size)
            while pdf.get_string_width(line) > code_width and size > 6:  # one token wider than the column
                size -= 0.5
                pdf.set_font("Courier", "", size)
            pdf.set_x(pdf.l_margin + 8)
            pdf.cell(code_width, CODE_LINE, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    if step.note:
        pdf.set_x(pdf.l_margin + 6)
        pdf.set_font("Helvetica", "B", 8.5)
        pdf.set_text_color(138, 28, 0)
        pdf.multi_cell(width - 8, 4.2, _latin1(step.note), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(1.2)
