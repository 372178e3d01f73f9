"""The alias table (solver/scenario/aliases.py) and its documentation agree.

docs/scenario-format.md lists every Chinese heading and value by hand ("The alias table"); these
tests fail when an alias is added to aliases.py and not to the page, and check that each listed
alias reads back as its code through ``column_code`` and ``value_code``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dingdian.scenario.aliases import (
    BOOLEANS,
    COLUMNS,
    SHEETS,
    TABLES,
    VALUES,
    column_code,
    value_code,
)

DOC = (Path(__file__).resolve().parents[1] / "docs" / "scenario-format.md").read_text(
    encoding="utf-8")
HEADINGS = [(code, name) for code, names in COLUMNS.items() for name in names]
VALUE_ALIASES = [(col, value, code) for col, table in VALUES.items()
                 for value, code in table.items()]


def _section(title: str) -> str:
    """The text of one ``##``/``###`` section of the page."""
    start = DOC.index(title)
    end = DOC.find("\n## ", start + len(title))
    return DOC[start:end if end > 0 else None]


@pytest.mark.parametrize(("code", "name"), HEADINGS, ids=[n for _, n in HEADINGS])
def test_every_heading_is_documented_and_maps_to_its_code(code, name):
    assert f"`{name}`" in _section("## The alias table"), f"{name} ({code}) not in the page"
    assert f"`{code}`" in DOC
    assert column_code(name) == code


@pytest.mark.parametrize(("column", "value", "code"), VALUE_ALIASES,
                         ids=[f"{c}:{v}" for c, v, _ in VALUE_ALIASES])
def test_every_value_is_documented_and_maps_to_its_code(column, value, code):
    table = _section("### Values of the coded columns")
    row = next((line for line in table.splitlines()
                if line.startswith(f"| `{column}` | `{code}` |")), None)
    assert row is not None, f"no row for {column} = {code} in the page"
    assert f"`{value}`" in row, f"{value} ({column} → {code}) not in its row"
    assert value_code(column, value) == code


def test_every_code_reads_as_itself():
    for code in COLUMNS:
        assert column_code(code) == code
    for column, table in VALUES.items():
        for code in set(table.values()):
            assert value_code(column, code) == code


def test_yes_no_spellings_and_sheets_are_documented():
    yes_no = _section("### Yes and no")
    for spelling, value in BOOLEANS.items():
        if spelling:
            row = next(line for line in yes_no.splitlines()
                       if line.startswith("| yes |" if value else "| no |"))
            assert f"`{spelling}`" in row, spelling
    sheets = _section("### Sheet names")
    for key, sheet in SHEETS.items():
        assert f"| `{key}` | `{sheet}` |" in sheets


def test_every_table_column_has_a_heading_and_is_documented():
    data = _section("## Data tables")
    for key, (required, optional) in TABLES.items():
        assert key in SHEETS
        for code in (*required, *optional):
            assert code in COLUMNS, f"{key}: {code} has no Chinese heading"
            assert f"`{code}`" in data or code in ("county", "kind", "year"), (key, code)


@pytest.mark.parametrize(("heading", "code"), [
    ("2024年现有", "existing_2024"), ("2024年存量", "existing_2024"), ("2024现有", "existing_2024"),
    ("2028年目标", "target_2028"), ("2028年规划", "target_2028"), ("2028年规划数", "target_2028"),
    ("机构编码 facility_id", "facility_id"), ("人口（人）", "population"), ("县（区）", "county"),
])
def test_year_bilingual_and_unit_headings(heading, code):
    assert column_code(heading) == code
    if heading[:4].isdigit():
        assert f"`{heading}`" in _section("## The alias table")
