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


def _stub_analysis(npv: tuple[float, float, float], cashable: float = 30e6,
                   lines: tuple[tuple[str, float], ...] = (("Prison places", -30e6),
                                                          ("Care placements", 0.0))):
    """A stand-in for a BudgetAnalysis: its headline and its cashable cost lines."""
    from types import SimpleNamespace

    headline = {"npv": npv, "programme_cost": (80.2e6, 78e6, 83e6),
                "gross_savings": (65.0e6, 40e6, 75e6), "break_even_year": (np.inf,),
                "share_breaking_even": 0.0, "return_per_pound": (0.8, 0.5, 0.9),
                "cashable_savings": (cashable, cashable - 10e6, cashable + 5e6),
                "non_cashable_savings": (35e6, 20e6, 40e6)}
    by_line = pd.DataFrame([{"scenario": "systems", "area": "Wales", "label": label,
                             "cashable": "yes", "programme": "no", "change_median": change}
                            for label, change in lines])
    return SimpleNamespace(headline=lambda scenario, area="Wales": headline, years=10,
                           baseline="symptoms", by_cost_line=lambda area="Wales": by_line)


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


# --- the words on page one: each cashable line and each outcome in its own direction ---------

def test_cashable_savings_name_only_the_lines_that_saved_as_savings():
    from model.reports import headline_sentence

    stub = _stub_analysis((-54.2e6, -67.5e6, -40.8e6), cashable=24.6e6,
                          lines=(("Prison places", -59.5e6), ("Care placements", 34.9e6)))
    text = headline_sentence(stub, "systems")
    assert ("Cashable savings come to £24.6m (prison places save £59.5m; care placements "
            "cost £34.9m more).") in text
    assert "(prison places, care placements)" not in text


def test_cashable_spending_that_rises_is_said_to_rise():
    from model.reports import headline_sentence

    stub = _stub_analysis((-54.2e6, -67.5e6, -40.8e6), cashable=-5.0e6,
                          lines=(("Prison places", -10.0e6), ("Care placements", 15.0e6)))
    text = headline_sentence(stub, "systems")
    assert ("Cashable spending rises by £5.0m (care placements cost £15.0m more; prison places "
            "save £10.0m).") in text
    assert "is cashable" not in text


@pytest.mark.parametrize(("mid", "cost", "expected"), [
    (23_400.0, 3287.0, "23,400 police incidents averted (£3,287 of programme cost each)"),
    (-400.0, np.nan, "400 more police incidents"),
    (0.0, np.nan, "no change in police incidents"),
])
def test_outcomes_are_said_in_the_direction_they_went(mid, cost, expected):
    from model.reports import outcome_text

    assert outcome_text(mid, "police incidents", cost) == expected


def _texts(fig) -> list[str]:
    """Every piece of text drawn on a figure (titles, labels, annotations, table cells)."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_page_one_never_averts_a_negative_number():
    import matplotlib.pyplot as plt

    from model.reports import pdf_figures

    budget = analyse_budget(small_comparison())
    headline = budget.headline

    def more_children_in_care(scenario, area="Wales"):  # as in the reviewer's 3-year run
        return {**headline(scenario, area), "looked_after_averted": (-400.0, -720.0, -80.0)}

    budget.headline = more_children_in_care
    figures = pdf_figures(budget)
    try:
        text = " ".join(" ".join(_texts(figures[0])).split())
    finally:
        for fig in figures:
            plt.close(fig)
    assert "Outcomes:" in text
    assert not re.search(r"-[\d,]+ [^;.]*averted", text), text
    assert "400 more looked-after children (at the end)" in text


# --- the charts: the chosen force area, labels clear of the axis -----------------------------

def test_the_app_s_charts_are_for_the_force_area_chosen():
    import matplotlib.pyplot as plt

    from model.budget import band
    from model.reports import cumulative_figure, money, spend_figure, who_pays_figure

    budget = analyse_budget(small_comparison())
    fig = who_pays_figure(budget, "Gwent")
    try:
        assert "Gwent" in fig.axes[0].get_title() and "Wales" not in fig.axes[0].get_title()
        who = budget.who_pays("Gwent")
        total = who[who["part"] == "total"]
        labels = " ".join(t.get_text() for t in fig.axes[0].texts)
        for value in total["change_median"]:
            assert money(value, True) in labels
        widths = sorted(p.get_width() for p in fig.axes[0].patches)
        np.testing.assert_allclose(widths, sorted(total["change_median"] / 1e6))
    finally:
        plt.close(fig)
    fig = cumulative_figure(budget, "Gwent")
    try:
        assert "Gwent" in fig.axes[0].get_title()
        mid, _, _ = band(budget.cumulative_net_saving("systems", "Gwent") / 1e6)
        line = next(line for line in fig.axes[0].lines if "median" in line.get_label())
        np.testing.assert_allclose(line.get_ydata()[1:], mid)
    finally:
        plt.close(fig)
    fig = spend_figure(budget, "Gwent")
    try:
        assert all("Gwent" in ax.get_title() for ax in fig.axes)
        spend = budget.spend_by_agency_year()
        first = spend[(spend["area"] == "Gwent") & (spend["scenario"] == "symptoms")
                      & (spend["year"] == 1)]
        heights = [p.get_height() for p in fig.axes[0].patches]
        for value in first["spend_median"] / 1e6:
            assert np.isclose(heights, value).any()
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="Atlantis"):
        who_pays_figure(budget, "Atlantis")


@pytest.mark.parametrize("area", ["Wales", "Gwent", "South Wales"])
def test_who_pays_labels_stay_inside_the_chart(area):
    import matplotlib.pyplot as plt

    from model.reports import who_pays_figure

    fig = who_pays_figure(analyse_budget(small_comparison()), area)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        box = ax.get_window_extent(renderer)
        ticks = [t.get_window_extent(renderer) for t in ax.get_yticklabels() if t.get_text()]
        assert ax.texts
        for text in ax.texts:
            extent = text.get_window_extent(renderer)
            assert box.x0 <= extent.x0 and extent.x1 <= box.x1, text.get_text()
            assert not any(extent.overlaps(tick) for tick in ticks), text.get_text()
    finally:
        plt.close(fig)


def test_every_table_cell_of_the_pdf_holds_its_text():
    import matplotlib.pyplot as plt
    from matplotlib.table import Table

    from model.reports import pdf_figures

    budget = analyse_budget(small_comparison())
    summary = budget.summary()
    money = summary["unit"] == "GBP"  # the longest figures a 10-year run gives
    summary.loc[money, ["median", "p10", "p90"]] = [-159.7e6, -194.5e6, -124.8e6]
    breaking = summary["measure"] == "break_even_year"
    summary.loc[breaking, ["median", "p10", "p90"]] = [10.0, 10.0, np.inf]
    budget.summary = lambda: summary
    figures = pdf_figures(budget)
    try:
        tables = 0
        for fig in figures:
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            for table in fig.findobj(Table):
                tables += 1
                for cell in table.get_celld().values():
                    box = cell.get_window_extent(renderer)
                    text = cell.get_text().get_window_extent(renderer)
                    label = cell.get_text().get_text()
                    assert box.x0 <= text.x0 and text.x1 <= box.x1, label
                    assert box.y0 <= text.y0 and text.y1 <= box.y1, label
        assert tables == 4  # Wales, by force area, unit costs, sources
    finally:
        for fig in figures:
            plt.close(fig)


# --- no inf in the files; the app's settings in every report ---------------------------------

def test_figures_that_do_not_exist_are_empty_cells_not_inf(tmp_path):
    from openpyxl import load_workbook

    from model.experiment import Comparison

    c = small_comparison()
    same = Comparison(baseline="symptoms", results={"symptoms": c.results["symptoms"],
                                                    "copy": c.results["symptoms"]},
                      scale=c.scale, years=c.years, seeds=c.seeds)
    budget = analyse_budget(same)
    summary = budget.summary()
    assert np.isinf(summary["median"]).any()  # no break-even: inf in the analysis itself
    write_csv(budget, tmp_path / "csv")
    for path in (tmp_path / "csv").glob("*.csv"):
        assert not re.search(r"(^|,)-?inf(,|$)", path.read_text(), re.MULTILINE), path.name
    table = pd.read_csv(tmp_path / "csv" / "summary.csv")
    breaking = table[table["measure"] == "break_even_year"]
    assert breaking[["median", "p10", "p90"]].isna().all().all()
    assert (breaking["share_of_replicates_breaking_even"] == 0).all()
    book = load_workbook(write_xlsx(budget, tmp_path / "b.xlsx"), read_only=True)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            assert not any(isinstance(v, float) and np.isinf(v) for v in row), sheet.title
            assert not any(isinstance(v, str) and v.strip().lower() in ("inf", "-inf")
                           for v in row), sheet.title


LEVERS = ("systems (levers set) against symptoms: 2 paired replicates, 2 years, scale 1:400, "
          "seed 3; levers moved: Officers trained in ACE-informed practice 35 %")


def test_the_app_s_description_of_the_comparison_is_in_every_report(tmp_path):
    import matplotlib.pyplot as plt
    from openpyxl import load_workbook

    from model.reports import APP_SETTING

    budget = analyse_budget(small_comparison())
    figures = pdf_figures(budget, LEVERS)
    try:
        page_one = " ".join(" ".join(_texts(figures[0])).split())
    finally:
        for fig in figures:
            plt.close(fig)
    assert LEVERS in page_one
    book = load_workbook(write_xlsx(budget, tmp_path / "b.xlsx", LEVERS), read_only=True)
    rows = list(book["summary"].iter_rows(values_only=True))
    assert (APP_SETTING, LEVERS) in [tuple(r[:2]) for r in rows]
    write_csv(budget, tmp_path / "csv", LEVERS)
    settings = pd.read_csv(tmp_path / "csv" / "settings.csv")
    assert settings.iloc[0].tolist() == [APP_SETTING, LEVERS]
    assert write_pdf(budget, tmp_path / "b.pdf", LEVERS).read_bytes().startswith(b"%PDF")
    # the command line's reports have no such row
    write_csv(budget, tmp_path / "cli", None)
    assert APP_SETTING not in pd.read_csv(tmp_path / "cli" / "settings.csv")["setting"].tolist()


def test_the_pdf_text_holds_the_app_s_description(tmp_path):
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (the figure text is checked above)")
    path = write_pdf(analyse_budget(small_comparison()), tmp_path / "b.pdf", LEVERS)
    text = subprocess.run(["pdftotext", "-l", "1", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Officers trained in ACE-informed practice 35 %" in " ".join(text.split())
