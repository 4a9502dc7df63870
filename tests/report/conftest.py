"""Fixtures for the report tests: the fake plan and the report written from it."""

from __future__ import annotations

import pytest

from fake_plan import FakePlan, make_plan

from chip2chat.report.html import write_report


@pytest.fixture
def plan() -> FakePlan:
    return make_plan()


@pytest.fixture
def report_path(plan, tmp_path):
    return write_report(plan, tmp_path / "report.html")
