"""The HTML report: self-contained, every section present, and the table faithful to the plan."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import pytest

from fake_plan import FAILING_NOTE, make_plan

from chip2chat.report.html import SECTIONS, TABLE_COLUMNS, TEXT_COLUMNS, write_report


class _Page(HTMLParser):
    """Collects script tags, element ids and the plan table's cells."""

    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []  # {"attrs": ..., "text": ...}
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (tag, url) for every src/href attribute
        self.rows: list[dict] = []  # plan-table rows: {"attrs": ..., "cells": [(attrs, text)]}
        self._in_script = self._in_plan_table = False
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        self.links += [(tag, attrs[a]) for a in ("src", "href") if attrs.get(a)]
        if tag == "script":
            self.scripts.append({"attrs": attrs, "text": ""})
            self._in_script = True
        elif tag == "table":
            self._in_plan_table = attrs.get("id") == "plan-table"
        elif tag == "tr" and self._in_plan_table and "data-option" in attrs:
            self.rows.append({"attrs": attrs, "cells": []})
        elif tag == "td" and self._in_plan_table:
            self._cell = [attrs, ""]

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        elif tag == "table":
            self._in_plan_table = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1]["cells"].append(tuple(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1]["text"] += data
        elif self._cell is not None:
            self._cell[1] += data


def _parse(path) -> tuple[str, _Page]:
    text = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    return text, page


def test_report_is_self_contained_with_plotlyjs_embedded_once(report_path):
    text, page = _parse(report_path)
    assert [s["attrs"]["src"] for s in page.scripts if "src" in s["attrs"]] == []
    assert [link for link in page.links if re.match(r"(https?:)?//", link[1])] == []
    assert "<link" not in text.split("<script", 1)[0]  # no stylesheet fetched either
    bundles = [s for s in page.scripts if "plotly.js v" in s["text"][:200]]
    assert len(bundles) == 1 and len(bundles[0]["text"]) > 1_000_000
    assert text.count("* plotly.js v") == 1


def test_every_section_and_figure_has_its_id(report_path):
    _, page = _parse(report_path)
    for section in SECTIONS:
        assert {f"section-{section}", f"fig-{section}"} <= page.ids
    assert {"section-table", "plan-table", "section-voice", "fig-voice", "voice-table", "cheapest", "never-meet"} <= page.ids


def test_option_that_never_meets_the_slo_is_listed_with_its_note(report_path):
    text, page = _parse(report_path)
    failing = [r for r in page.rows if r["attrs"]["data-option"] == "edge-npu"]
    assert [r["attrs"]["data-year"] for r in failing] == ["2026", "2027", "2028"]
    for row in failing:
        assert "misses" in row["attrs"]["class"]
        assert FAILING_NOTE in [text for _, text in row["cells"]]
    assert "No latency samples for: edge-npu (" + FAILING_NOTE + ")" in text
    header = text.split("</header>", 1)[0]
    assert f"<li><strong>edge-npu</strong>: {FAILING_NOTE}</li>" in header


def _close(shown: str, value: float) -> bool:
    """The shown text, read back, is the value to within its printed precision."""
    number = float(shown.replace(",", ""))
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return abs(number - value) <= 0.5 * 10 ** -decimals + 1e-9 * abs(value)


def test_table_numbers_match_the_dataframe(plan, report_path):
    _, page = _parse(report_path)
    assert len(page.rows) == len(plan.table)
    columns = [c for c, _, _ in TABLE_COLUMNS]
    for row in page.rows:
        expected = plan.table[(plan.table["option"] == row["attrs"]["data-option"])
                              & (plan.table["year"] == int(row["attrs"]["data-year"]))].iloc[0]
        for column, (attrs, shown) in zip(columns, row["cells"], strict=True):
            value = expected[column]
            if column in TEXT_COLUMNS:
                assert shown == value
            elif column in ("meets_slo", "deployable", "cheapest"):
                assert attrs["data-value"] == str(bool(value))
            elif isinstance(value, float) and math.isnan(value):
                assert (attrs["data-value"], shown) == ("", "—")
            else:
                assert float(attrs["data-value"]) == pytest.approx(float(value), rel=1e-12)
                # money and daily users are shown in millions
                scale = 1e6 if column.endswith("_usd") or column == "daily_users" else 1.0
                assert _close(shown, float(value) / scale), (column, shown, value)


def test_header_names_the_cheapest_option_each_year_and_the_slos(report_path):
    text, _ = _parse(report_path)
    header = text.split("</header>", 1)[0]
    assert "Voice assistant &lt;2026&gt;" in header and "A fake plan &amp; its table" in header
    assert "500 ms" in header and "50 ms" in header
    # consecutive years with the same answer are one line, not one line per year (issue 16)
    assert "<li>2026–2028: <strong>h200-tp8</strong></li>" in header


def test_same_plan_gives_the_same_bytes(plan, tmp_path):
    a = write_report(plan, tmp_path / "a.html").read_bytes()
    b = write_report(make_plan(), tmp_path / "b.html").read_bytes()
    assert a == b


def test_voice_section_is_skipped_without_voice_data_and_a_directory_gets_report_html(tmp_path):
    path = write_report(make_plan(with_voice=False), tmp_path)
    assert path == tmp_path / "report.html"
    _, page = _parse(path)
    assert "section-voice" not in page.ids and "fig-voice" not in page.ids
    assert {f"fig-{s}" for s in SECTIONS} <= page.ids
