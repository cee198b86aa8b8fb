"""The budget reports: xlsx sheets, pdf pages, CSV tables, and docs/budget.md is current."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from _budget_helpers import small_comparison

from model.budget import analyse_budget
from model.costs import DOCS_END, DOCS_FILE, DOCS_START, unit_costs_markdown
from model.reports import XLSX_SHEETS, pdf_figures, write_csv, write_pdf, write_xlsx


def _pages(path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", path.read_bytes()))


def test_xlsx_opens_and_has_its_sheets(tmp_path):
    from openpyxl import load_workbook

    path = write_xlsx(analyse_budget(small_comparison()), tmp_path / "budget.xlsx")
    book = load_workbook(path, read_only=True)
    assert tuple(book.sheetnames) == XLSX_SHEETS
    values = [c for row in book["summary"].iter_rows(values_only=True) for c in row if c]
    assert "Net present value of net savings" in values
    sources = [c for row in book["assumptions and sources"].iter_rows(values_only=True)
               for c in row if isinstance(c, str)]
    assert any("PSSRU" in s for s in sources)
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_pdf_has_its_pages(tmp_path):
    budget = analyse_budget(small_comparison())
    expected = len(pdf_figures(budget))
    assert expected == 8  # headline, 3 charts, 2 tables per scenario, 2 of unit costs
    path = write_pdf(budget, tmp_path / "budget.pdf")
    assert _pages(path) == expected


def test_csv_tables(tmp_path):
    paths = write_csv(analyse_budget(small_comparison()), tmp_path / "csv")
    names = {p.stem for p in paths}
    assert {"summary", "spend_by_agency_year", "who_pays_who_saves", "unit_costs",
            "figures_and_sources"} <= names
    summary = pd.read_csv(tmp_path / "csv" / "summary.csv")
    assert {"Wales", "Gwent"} <= set(summary["area"])


def test_docs_budget_md_is_current():
    text = DOCS_FILE.read_text(encoding="utf-8")
    start, end = text.index(DOCS_START), text.index(DOCS_END) + len(DOCS_END) + 1
    assert text[start:end] == unit_costs_markdown(), "run: python -m model.costs"


def test_money_words_read_well_for_losses_and_one_year():
    from model.reports import ratio_text, years_text

    assert ratio_text(-0.14) == "-£0.14" and ratio_text(0.43) == "£0.43"
    assert years_text(1) == "1 year" and years_text(10) == "10 years"


def _stub_analysis(npv: tuple[float, float, float]):
    from types import SimpleNamespace

    headline = {"npv": npv, "programme_cost": (80.2e6, 78e6, 83e6),
                "gross_savings": (65.0e6, 40e6, 75e6), "break_even_year": (np.inf,),
                "share_breaking_even": 0.0, "return_per_pound": (0.8, 0.5, 0.9),
                "cashable_savings": (30e6, 20e6, 35e6), "non_cashable_savings": (35e6, 20e6, 40e6)}
    return SimpleNamespace(headline=lambda scenario, area="Wales": headline, years=10,
                           baseline="symptoms")


@pytest.mark.parametrize(("npv", "expected"), [
    ((-19.9e6, -40.4e6, -6.1e6), "a net cost of £19.9m (10-90 % band £6.1m to £40.4m)"),
    ((12.0e6, -3.0e6, 30.0e6), "a net saving of £12.0m (10-90 % band -£3.0m to £30.0m)"),
    ((-5.0e6, -20.0e6, 8.0e6), "a net cost of £5.0m (10-90 % band -£8.0m to £20.0m)"),
])
def test_headline_sentence_gives_the_band_in_the_direction_of_the_net_figure(npv, expected):
    from model.reports import headline_sentence

    assert expected in headline_sentence(_stub_analysis(npv), "systems")


def test_officer_time_line_gives_its_band_in_the_direction_of_its_verb():
    from model.cli import _officer_time

    line = _officer_time(small_comparison()).splitlines()[-1]
    match = re.search(r": ([\d,]+) officer-hours a month (freed|used) in year 2 "
                      r"\(10-90 % band (-?[\d,]+) to (-?[\d,]+)\)", line)
    assert match, line
    mid, low, high = (float(match.group(k).replace(",", "")) for k in (1, 3, 4))
    assert low <= mid <= high


@pytest.mark.parametrize(("change", "expected"), [
    ((-7581.0, -6254.0, -4910.0), ("freed", 4910.0, 7581.0)),
    ((749.0, 1482.0, 1949.0), ("used", 749.0, 1949.0)),
    ((-900.0, -300.0, 200.0), ("freed", -200.0, 900.0)),  # a band crossing zero
    ((-200.0, 100.0, 600.0), ("used", -200.0, 600.0)),
])
def test_officer_time_bands_follow_the_verb(change, expected):
    from model.cli import freed_or_used

    verb, low, high = freed_or_used(*change)
    assert (verb, low, high) == expected
    assert low <= abs(change[1]) <= high
