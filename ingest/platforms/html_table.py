"""The table of a terminal's HTML report page, as the cells a reader sees."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass(frozen=True)
class HtmlCell:
    """A visible <td> or <th> of a report page: its text (ends trimmed, no-break spaces as
    spaces), its `title` (where MT4 keeps a trade's comment) and how many columns it spans."""

    text: str
    title: str = ""
    span: int = 1


# No report spans more columns than this; a larger colspan is damage, not a layout to honour.
MAX_SPAN = 100


class _HtmlTable(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[HtmlCell]] = []
        self.title = ""
        self._cell: list[str] | None = None
        self._attrs: dict[str, str | None] = {}
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows and "hidden" not in (found.get("class") or ""):
            self._cell, self._attrs = [], found
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).replace("\xa0", " ").strip()
            span = self._attrs.get("colspan") or "1"
            columns = min(int(span), MAX_SPAN) if span.isdigit() else 1
            cell = HtmlCell(text, self._attrs.get("title") or "", columns)
            self.rows[-1].append(cell)
            self._cell = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._in_title:
            self.title += data


def html_table(page: str) -> tuple[list[list[HtmlCell]], str]:
    """Every <tr> of a terminal's report page as its visible cells, and the page's <title>.
    Cells the page hides (`class="hidden"`, MT5's drill-down columns) are left out."""
    parser = _HtmlTable()
    parser.feed(page)
    parser.close()
    return parser.rows, parser.title.strip()
