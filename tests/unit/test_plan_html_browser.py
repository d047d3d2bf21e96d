"""plan.html in a real browser: headless Chromium parses and draws it.

The DOM Chromium builds (``--dump-dom``) must hold the matrix (one row per app, one cell
per Region) and no element a hostile label could have created; the screenshot must show
the state colours, which also proves the Content-Security-Policy hash lets the page's own
stylesheet apply while an injected one stays inert.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from agent.render_html import render_html
from tests.browser_support import chromium, dump_dom, screenshot
from tests.html_parse import find, parse
from tests.html_support import COLUMNS, EXPECTED_STATES, HOSTILE_LABELS, sample_case
from tests.unit.test_render_html import SECTIONS, matrix_rows

SIZE = (1280, 1000)
# Cell backgrounds from agent/render_html.py's stylesheet.
COLOURS = {
    "trusted": (0xDC, 0xFC, 0xE7),
    "to_add": (0xDB, 0xEA, 0xFE),
    "blocked": (0xFE, 0xE2, 0xE2),
    "needs_person": (0xFE, 0xF3, 0xC7),
}
INJECTED = (0xFF, 0x00, 0xFF)


@dataclasses.dataclass
class Rendered:
    page: Path
    dom: str
    shot: Path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    chromium()  # skip or fail before doing any work
    work = tmp_path_factory.mktemp("browser")
    plan, d = sample_case(HOSTILE_LABELS)
    page = work / "plan.html"
    page.write_text(render_html(plan, d), encoding="utf-8")
    dom = dump_dom(page, work / "profile")
    shot = screenshot(page, work / "profile", work / "plan.png", SIZE)
    yield Rendered(page, dom, shot)


class Pixels(Counter[tuple[int, int, int]]):
    """Pixel counts by colour; ``near(c)`` also counts colours within 3 of ``c`` per channel
    (a browser's colour management may move a fill by a step or two)."""

    def near(self, colour: tuple[int, int, int], slack: int = 3) -> int:
        return sum(
            n
            for c, n in self.items()
            if all(abs(a - b) <= slack for a, b in zip(c, colour, strict=True))
        )


def pixel_counts(path: Path) -> Pixels:
    with Image.open(path) as img:
        rgb = img.convert("RGB")
        assert rgb.size == SIZE
        colours = rgb.getcolors(maxcolors=SIZE[0] * SIZE[1]) or []
        return Pixels({colour: n for n, colour in colours})  # type: ignore[misc]


def test_chromium_builds_the_matrix_rows_and_cells(rendered: Rendered) -> None:
    elements = parse(rendered.dom)
    rows = matrix_rows(elements)
    assert len(rows) == len(EXPECTED_STATES)
    got = sorted(
        [(c.attrs.get("class") or "").removeprefix("s-") for c in row.children if c.tag == "td"]
        for row in rows
    )
    assert got == sorted(EXPECTED_STATES.values())
    assert all(len(states) == len(COLUMNS) + 1 for states in got)


def test_hostile_labels_are_text_in_the_browser_dom(rendered: Rendered) -> None:
    elements = parse(rendered.dom)
    assert not {e.tag for e in elements} & {"script", "img", "iframe", "a"}
    assert [h.text for h in find(elements, "h2")] == SECTIONS
    assert not any(name.startswith("on") for e in elements for name in e.attrs)
    text = "".join(r.text for r in matrix_rows(elements))
    for label in HOSTILE_LABELS:
        assert label in text, label
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.dom


def test_the_screenshot_shows_every_state_colour(rendered: Rendered) -> None:
    counts = pixel_counts(rendered.shot)
    cell = 2000  # a matrix cell is ~130 x 40 px
    for state, colour in COLOURS.items():
        drawn = counts.near(colour)
        assert drawn > cell, f"no {state} cells drawn ({drawn} px)"
    # The stale Region's column: five "needs a person" cells, more than any other state.
    assert counts.near(COLOURS["needs_person"]) > counts.near(COLOURS["to_add"])
    white = counts[(0xFF, 0xFF, 0xFF)]
    assert white < 0.9 * SIZE[0] * SIZE[1], "the page is mostly blank"


def test_the_csp_keeps_an_injected_style_inert(rendered: Rendered, tmp_path: Path) -> None:
    """Defence in depth: were a label ever to escape, injected CSS would not apply."""
    html = rendered.page.read_text(encoding="utf-8")
    evil = html.replace("</head>", "<style>body,td{background:#ff00ff !important}</style></head>")
    evil = evil.replace('<td class="s-trusted"', '<td style="background:#ff00ff" class="s-trusted"')
    page = tmp_path / "evil.html"
    page.write_text(evil, encoding="utf-8")
    counts = pixel_counts(screenshot(page, tmp_path / "profile", tmp_path / "evil.png", SIZE))
    assert counts.near(INJECTED, slack=40) == 0, "an injected stylesheet applied"
    assert counts.near(COLOURS["trusted"]) > 2000, "the page's own stylesheet stopped applying"
