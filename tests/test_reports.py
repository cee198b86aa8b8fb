"""The budget reports: xlsx sheets, pdf pages, CSV tables, and docs/budget.md is current."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from _budget_helpers import small_comparison, synthetic_analysis

from model.budget import analyse_budget
from model.costs import DOCS_END, DOCS_FILE, DOCS_START, unit_costs_markdown
from model.reports import XLSX_SHEETS, pdf_figures, report_tables, write_csv, write_pdf, write_xlsx


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
    import matplotlib.pyplot as plt

    budget = analyse_budget(small_comparison())
    figures = pdf_figures(budget)
    expected = len(figures)
    for fig in figures:
        plt.close(fig)
    assert expected == 9  # headline, 3 charts, 2 tables per scenario, 3 of unit costs
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


def _one_year(npv_by_replicate: list[float], programme: list[float] | None = None,
              **lines: list[float]):
    """A one-year synthetic analysis (no discounting): NPVs through the prison line, or lines.

    Args:
        npv_by_replicate: each replicate's net present value, made by a change in prison
            places (ignored where other lines are given).
        programme: each replicate's extra programme spend (early help).
        **lines: cost line name -> each replicate's change in spend.
    """
    changes = {name: [[v] for v in values] for name, values in lines.items()}
    if not lines:
        changes["prison_places"] = [[-v] for v in npv_by_replicate]
    if programme is not None:
        changes["programme_early_help"] = [[v] for v in programme]
    return synthetic_analysis({"systems": changes})


@pytest.mark.parametrize(("npvs", "expected"), [
    ([-40e6, -30e6, -19.9e6, -10e6, -6e6],
     "a net cost of £19.9m, the median over replicates (10-90 % band £7.6m to £36.0m)"),
    # a band crossing zero names both ends (review: "band -£2.5m to £98.5m" for a net cost)
    ([-5e6, 2e6, 12e6, 20e6, 30e6],
     "a net saving of £12.0m, the median over replicates (10-90 % band from a net cost of "
     "£2.2m to a net saving of £26.0m)"),
    ([-20e6, -10e6, -5e6, 4e6, 8e6],
     "a net cost of £5.0m, the median over replicates (10-90 % band from a net saving of "
     "£6.4m to a net cost of £16.0m)"),
])
def test_headline_sentence_gives_the_band_in_the_direction_of_the_net_figure(npvs, expected):
    from model.reports import headline_sentence

    assert expected in headline_sentence(_one_year(npvs), "systems")


def test_the_headline_s_cost_savings_and_net_figure_add_up():
    """Review: "costs £172.9m and saves other agencies £107.6m, a net cost of £54.6m" - three
    separate medians, which do not add up. They now come from one replicate."""
    from model.reports import headline_sentence

    # replicates' net present values: -50, 200, -200, 200, -300 (£m); the middle one is the
    # first: it costs 100 and saves 50. The medians would say: costs 300, saves 200.
    budget = _one_year([], programme=[100e6, 200e6, 300e6, 400e6, 500e6],
                       prison_places=[-50e6, -400e6, -100e6, -600e6, -200e6])
    text = " ".join(headline_sentence(budget, "systems").split())
    assert ("In the middle one of the 5 replicates ranked by net present value, it costs "
            "£100.0m (discounted) and saves other agencies £50.0m: a net cost of £50.0m, the "
            "median over replicates") in text
    assert "costs £300.0m" not in text and "saves other agencies £200.0m" not in text
    # the cashable lines are the same replicate's, so they add up to its savings
    assert "In that replicate, cashable savings come to £50.0m (prison places save £50.0m)" in text


def test_an_even_number_of_replicates_names_the_replicate_and_the_median():
    from model.reports import headline_sentence

    budget = _one_year([-40e6, -30e6, -20e6, -10e6])
    text = " ".join(headline_sentence(budget, "systems").split())
    assert ("In the lower of the middle two of the 4 replicates ranked by net present value, "
            "the programme costs the same and adds £30.0m to other agencies' spending: a net "
            "cost of £30.0m.") in text
    assert "The median over replicates is a net cost of £25.0m (10-90 % band" in text


@pytest.mark.parametrize(("lines", "expected"), [
    ([("prison places", -59.5e6), ("care placements", 34.9e6)],
     "cashable savings come to £24.6m (prison places save £59.5m; care placements cost £34.9m "
     "more)"),
    ([("prison places", -10.0e6), ("care placements", 15.0e6)],
     "cashable spending rises by £5.0m (care placements cost £15.0m more; prison places save "
     "£10.0m)"),
    ([("a", -100e6), ("b", -50e6), ("c", 30e6), ("d", 2e6), ("e", 1e6)],
     "cashable savings come to £117.0m (a save £100.0m; b save £50.0m; c cost £30.0m more; "
     "other cashable lines cost £3.0m more)"),
    ([("prison places", 0.0), ("care placements", 1e-9)], "none of the savings is cashable"),
])
def test_cashable_lines_are_named_in_their_own_direction_and_add_up(lines, expected):
    """Review: "£106.3m (prison places save £152.2m; care placements save £34.9m)" did not
    add up; the lines named (and the rest, summed) now add up to the total."""
    from model.reports import cashable_text

    assert cashable_text(lines) == expected


def test_early_help_places_are_not_called_staff_time():
    """Review: "£7.7m of the savings is staff time" was all the council's early-help places."""
    from model.reports import headline_sentence, non_cashable_text

    budget = _one_year([], programme=[8e6, 8e6, 8e6], early_help_places=[-7.7e6] * 3)
    text = " ".join(headline_sentence(budget, "systems").split())
    assert "not cashable: early-help places (local authority) save £7.7m." in text
    assert "staff time" not in text and "social-worker time" not in text
    assert non_cashable_text(-3.1e6, [("early-help places (local authority)", 2e6)]) == (
        "not cashable: £3.1m of officer, court, youth-justice and social-worker time is freed; "
        "early-help places (local authority) cost £2.0m more")
    assert non_cashable_text(1.2e6, []) == (
        "not cashable: officer, court, youth-justice and social-worker time costs £1.2m more, "
        "net of time freed")
    assert non_cashable_text(0.0, [("x", 0.1)]) == ""


def test_return_per_pound_without_investment_says_why():
    from model.reports import headline_boxes, headline_sentence, missing_figure_notes

    budget = _one_year([], programme=[10e6, -5e6, -3e6, 2e6, -1e6],
                       prison_places=[-15e6, 6e6, -2e6, -0.5e6, -4e6])
    text = " ".join(headline_sentence(budget, "systems").split())
    assert ("Return per pound: n/a \N{EM DASH} the programme costs less than under 'symptoms' in "
            "3 of 5 replicates, so there is no investment to return on.") in text
    assert "Every pound invested" not in text
    ratio = headline_boxes(budget, "systems")[1]
    assert ratio[1:3] == ("n/a", "no investment in 3 of 5 replicates")
    notes = missing_figure_notes(budget, "systems", "Wales")
    assert notes[0].startswith("Return per pound invested: n/a \N{EM DASH} the programme costs")


def test_a_copy_of_the_baseline_makes_no_difference():
    from model.reports import headline_boxes, headline_sentence

    budget = _one_year([1e-9, -1e-9])
    text = headline_sentence(budget, "systems")
    assert text == ("Over 1 year, 'systems' makes no difference in spend compared with "
                    "'symptoms': in every replicate, every agency spends the same (to within £1) "
                    "every year.")
    assert headline_boxes(budget, "systems")[0][1] == "£0"


def test_a_programme_that_spends_less_is_said_to_spend_less():
    """Review: the reverse comparison printed "It costs -£172.9m"."""
    from model.reports import headline_sentence

    budget = _one_year([], programme=[-172.9e6] * 3, prison_places=[107.6e6] * 3)
    text = " ".join(headline_sentence(budget, "systems").split())
    assert ("it spends £172.9m less on the programme (discounted) and adds £107.6m to other "
            "agencies' spending: a net saving of £65.3m") in text
    assert "-£" not in text.split("band")[0]


def test_tiny_amounts_have_no_sign():
    from model.reports import count_text, money, ratio_text

    assert money(-1e-9) == "£0" and money(4e-7, signed=True) == "£0"
    assert money(-0.49) == "£0" and money(-0.6) == "-£1" and money(3.0, True) == "+£3"
    assert ratio_text(-0.001) == "£0.00" and count_text(-0.2) == "0"
    assert count_text(-400.0) == "-400"


def test_the_green_book_is_named_only_at_its_own_rate():
    """Review: --discount-rate 0.2 was called the Green Book rate."""

    from model.reports import discount_words

    assert discount_words(0.035) == "3.5% (HM Treasury Green Book)"
    assert discount_words(0.2) == "20.0% (a sensitivity rate; the Green Book's is 3.5%)"
    budget = synthetic_analysis({"systems": {"prison_places": [[-1e6], [-2e6]]}},
                                discount_rate=0.2)
    page_one = _page_one_text(budget)
    assert "discounted at 20.0% (a sensitivity rate; the Green Book's is 3.5%)" in page_one
    assert "20.0% (HM Treasury Green Book)" not in page_one


def test_page_one_gives_the_root_seed_that_makes_the_report_again():
    """docs/budget.md: every report's settings give the root seed; the pdf had none."""
    import dataclasses


    budget = synthetic_analysis({"systems": {"prison_places": [[-1e6], [-2e6]]}})
    for analysis, text in ((dataclasses.replace(budget, root_seed=12345), "root seed 12345"),
                           (dataclasses.replace(budget, root_seed=None),
                            "root seed not recorded")):
        page_one = _page_one_text(analysis)
        assert f"(simulated at 1:{analysis.scale}, {text})" in page_one


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

@pytest.mark.parametrize(("mid", "cost", "expected"), [
    (23_400.0, 3287.0, "23,400 police incidents averted (£3,287 of programme cost each)"),
    (-400.0, np.nan, "400 more police incidents"),
    (0.0, np.nan, "no change in police incidents"),
])
def test_outcomes_are_said_in_the_direction_they_went(mid, cost, expected):
    from model.reports import outcome_text

    assert outcome_text(mid, "police incidents", cost) == expected


def _page_one_text(analysis, *args) -> str:
    """Every text of the pdf's first page, in one line (the figures are closed).

    ``args`` go to :func:`model.reports.pdf_figures` after the analysis (e.g. a description).
    """
    import matplotlib.pyplot as plt

    from model.reports import pdf_figures

    figures = pdf_figures(analysis, *args)
    try:
        return " ".join(" ".join(_texts(figures[0])).split())
    finally:
        for fig in figures:
            plt.close(fig)


def _texts(fig) -> list[str]:
    """Every piece of text drawn on a figure (titles, labels, annotations, table cells)."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_page_one_never_averts_a_negative_number():


    budget = analyse_budget(small_comparison())
    headline = budget.headline

    def more_children_in_care(scenario, area="Wales"):  # as in the reviewer's 3-year run
        return {**headline(scenario, area), "looked_after_averted": (-400.0, -720.0, -80.0)}

    budget.headline = more_children_in_care
    text = _page_one_text(budget)
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


@pytest.mark.parametrize("cost_uncertainty", [False, True])
def test_every_table_cell_of_the_pdf_holds_its_text(cost_uncertainty):
    import matplotlib.pyplot as plt
    from matplotlib.table import Table

    from model.reports import pdf_figures

    budget = analyse_budget(small_comparison(), cost_uncertainty=cost_uncertainty)
    summary = budget.summary()
    money = summary["unit"].str.startswith("GBP,") | summary["unit"].str.startswith(
        "GBP per ")  # the longest figures a 10-year run gives
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
        assert tables == 5  # Wales, by force area, unit costs, programme unit costs, sources
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
    from openpyxl import load_workbook

    from model.reports import APP_SETTING

    budget = analyse_budget(small_comparison())
    page_one = _page_one_text(budget, LEVERS)
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
    from pypdf import PdfReader

    path = write_pdf(analyse_budget(small_comparison()), tmp_path / "b.pdf", LEVERS)
    text = PdfReader(path).pages[0].extract_text()
    assert "Officers trained in ACE-informed practice 35 %" in " ".join(text.split())


# --- three or more scenarios in the pdf ------------------------------------------------------

def _two_compared():
    """Two scenarios compared with one baseline, each changing different lines."""
    return synthetic_analysis({
        "systems": {"programme_early_help": [[5e6, 5e6]] * 3,
                    "prison_places": [[-1e6, -4e6], [-2e6, -5e6], [-3e6, -6e6]]},
        "lever_early_help": {"programme_early_help": [[2e6, 2e6]] * 3,
                             "early_help_places": [[-2e6, -2e6]] * 3}})


def test_the_pdf_has_a_who_pays_page_for_every_compared_scenario():
    """Review: with three scenarios the who-pays page showed the first compared one only."""
    import matplotlib.pyplot as plt

    budget = _two_compared()
    figures = pdf_figures(budget)
    try:
        titles = [ax.get_title() for fig in figures for ax in fig.axes
                  if ax.get_title().startswith("Who pays")]
        assert len(titles) == 2
        assert "systems against symptoms" in titles[0]
        assert "lever_early_help against symptoms" in titles[1]
        assert len(figures) == 2 + 1 + 2 + 1 + 2 * 2 + 3
    finally:
        for fig in figures:
            plt.close(fig)


def test_the_spend_page_tells_the_scenarios_apart():
    """Review: both compared scenarios had the same hatching, and their changes were drawn in
    the same agency colours on one panel."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from model.reports import spend_figure

    fig = spend_figure(_two_compared())
    try:
        bars = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
        hatches = {}
        for bar in bars:  # bars of one scenario share an x offset
            hatches.setdefault(round(bar.get_x() % 1, 3), set()).add(bar.get_hatch())
        assert len(hatches) == 3 and all(len(h) == 1 for h in hatches.values())
        assert len({next(iter(h)) for h in hatches.values()}) == 3  # plain, // and ..
        changes = fig.axes[1:]
        assert [ax.get_title().split(" minus ")[0] for ax in changes] == [
            "systems", "lever_early_help"]
        legend = " ".join(t.get_text() for leg in fig.legends for t in leg.get_texts())
        assert "symptoms (baseline)" in legend and "systems" in legend
        assert "lever_early_help" in legend
    finally:
        plt.close(fig)


def test_the_cumulative_page_names_each_scenario_s_band_and_break_even():
    import matplotlib.pyplot as plt

    from model.reports import cumulative_figure

    fig = cumulative_figure(_two_compared())
    try:
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert "systems: 10-90 % band" in labels
        assert "lever_early_help: 10-90 % band" in labels
        assert any(label.startswith("systems: median, ") for label in labels)
        styles = {line.get_linestyle() for line in fig.axes[0].lines
                  if "median" in line.get_label()}
        assert len(styles) == 2
    finally:
        plt.close(fig)


# --- the tables: medians said not to add up, a net row, unambiguous columns, units -----------

def test_tables_of_medians_carry_the_note_and_the_net_row(tmp_path):
    from openpyxl import load_workbook

    from model.reports import MEDIANS_NOTE

    budget = synthetic_analysis({"systems": {
        "programme_early_help": [[100e6], [200e6], [300e6], [400e6], [500e6]],
        "prison_places": [[-50e6], [-400e6], [-100e6], [-600e6], [-200e6]]}}, price_year=2023)
    book = load_workbook(write_xlsx(budget, tmp_path / "b.xlsx"), read_only=True)
    for sheet in ("summary", "by agency by year", "by force area"):
        cells = [c for row in book[sheet].iter_rows(values_only=True) for c in row
                 if isinstance(c, str)]
        assert any(c.startswith(MEDIANS_NOTE) for c in cells), sheet
        assert any("do not add up" in c for c in cells), sheet
    write_csv(budget, tmp_path / "csv")
    notes = pd.read_csv(tmp_path / "csv" / "notes.csv").set_index("table")["note"]
    for table in ("spend_by_agency_year", "who_pays_who_saves"):
        assert notes[table].startswith(MEDIANS_NOTE)
    who = pd.read_csv(tmp_path / "csv" / "who_pays_who_saves.csv")
    net = who[(who["agency_label"] == "All agencies (net)") & (who["area"] == "Wales")]
    assert net["change_median"].tolist() == [pytest.approx(50e6)]  # the median NPV is -50
    spend = pd.read_csv(tmp_path / "csv" / "spend_by_agency_year.csv")
    assert {"baseline_spend_median", "scenario_spend_median", "median_of_paired_differences",
            "paired_differences_p10", "paired_differences_p90"} <= set(spend.columns)
    assert "spend_median" not in spend.columns and "difference_median" not in spend.columns
    assert set(spend["unit"]) == {"GBP a year, 2023 prices, undiscounted"}
    prisons = spend[(spend["agency"] == "prisons_and_probation") & (spend["area"] == "Wales")]
    assert prisons["median_of_paired_differences"].tolist() == [pytest.approx(-200e6)]
    summary = pd.read_csv(tmp_path / "csv" / "summary.csv")
    assert "note" in summary.columns


def test_a_missing_return_per_pound_is_an_empty_cell_with_its_reason(tmp_path):
    budget = synthetic_analysis({"systems": {
        "programme_early_help": [[10e6], [-5e6], [-3e6], [2e6], [-1e6]],
        "prison_places": [[-15e6], [6e6], [-2e6], [-0.5e6], [-4e6]]}})
    write_csv(budget, tmp_path / "csv")
    summary = pd.read_csv(tmp_path / "csv" / "summary.csv", keep_default_na=False)
    row = summary[(summary["area"] == "Wales") & (summary["measure"] == "return_per_pound")]
    assert row[["median", "p10", "p90"]].iloc[0].tolist() == ["", "", ""]
    assert "costs less than under 'symptoms' in 3 of 5 replicates" in row["note"].iloc[0]


# --- review of the finance re-check ------------------------------------------------------------

def _figure_texts(fig):
    """Every title, label, legend entry and figure text of a figure (not tick labels)."""
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            texts += [*ax.get_legend().get_texts(), ax.get_legend().get_title()]
    for legend in fig.legends:
        texts += [*legend.get_texts(), legend.get_title()]
    for extra in (fig._suptitle, fig._supxlabel, fig._supylabel):
        if extra is not None:
            texts.append(extra)
    return [t for t in texts if t.get_visible() and t.get_text()]


LONG_NAME = "a-very-long-custom-scenario-name-for-the-commissioner"


def test_long_scenario_names_keep_every_title_on_the_page():
    """Review: a long scenario name cut off page 2's change panel title, page 5's "every measure
    (median an..." and page 6's "median [10 %, 90 %"."""
    import matplotlib.pyplot as plt

    budget = synthetic_analysis({
        LONG_NAME: {"programme_early_help": [[5e6, 5e6]] * 3,
                    "prison_places": [[-1e6, -4e6], [-2e6, -5e6], [-3e6, -6e6]]},
        "another-rather-long-scenario-name": {"programme_early_help": [[2e6, 2e6]] * 3}},
        baseline="a-long-baseline-name-for-the-commissioner-too")
    figures = pdf_figures(budget)
    try:
        titles = 0
        for fig in figures:
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            page = fig.bbox
            for text in _figure_texts(fig):
                box = text.get_window_extent(renderer)
                assert page.x0 <= box.x0 and box.x1 <= page.x1, text.get_text()
                assert page.y0 <= box.y0 and box.y1 <= page.y1, text.get_text()
                titles += LONG_NAME in text.get_text().replace("\n", " ")
        assert titles >= 6  # page one, the change panel, who pays, both tables, the legend
    finally:
        for fig in figures:
            plt.close(fig)


def test_the_spend_page_says_its_stacked_medians_do_not_add_up():
    import matplotlib.pyplot as plt

    from model.reports import SPEND_NOTE, spend_figure

    fig = spend_figure(_two_compared())
    try:
        text = " ".join(" ".join(t.get_text() for t in fig.texts).split())
        assert SPEND_NOTE in text and "do not add up" in SPEND_NOTE
    finally:
        plt.close(fig)


def test_the_answer_never_breaks_even_with_a_median_net_cost():
    """Review: "does not pay for itself ... breaks even in year 5" with 2 replicates."""
    from model.reports import headline_sentence

    # replicate 1 breaks even in year 2; replicate 2 ends at a loss: median NPV a net cost
    cost = synthetic_analysis({"systems": {"prison_places": [
        [1e6, -3e6, -10e6, -10e6, -10e6], [1e6, 1e6, 1e6, 20e6, 40e6]]}})
    text = " ".join(headline_sentence(cost, "systems").split())
    assert "'systems' does not pay for itself" in text
    assert "breaks even in" not in text
    assert ("It does not break even within 5 years in more than half of the replicates (50% do), "
            "so there is no median break-even year.") in text
    # the middle two straddle zero the other way: a median net saving, half breaking even
    saving = synthetic_analysis({"systems": {"prison_places": [
        [1e6, -3e6, -30e6, -10e6, -10e6], [1e6, 1e6, 1e6, 1e6, 2e6]]}})
    text = " ".join(headline_sentence(saving, "systems").split())
    assert saving.headline("systems")["npv"][0] > 0
    assert ("'systems' pays for itself in public-sector spending compared with 'symptoms' in "
            "only 1 of 2 replicates") in text
    assert "breaks even in" not in text


@pytest.mark.parametrize("seed", range(12))
def test_the_verdict_and_the_break_even_agree(seed):
    from model.reports import headline_sentence

    rng = np.random.default_rng(seed)
    reps = int(rng.integers(2, 7))
    paths = rng.normal(0, 5e6, size=(reps, 4)) + rng.normal(0, 3e6)
    budget = synthetic_analysis({"systems": {"prison_places": paths.tolist()}})
    text = headline_sentence(budget, "systems")
    npv_mid = budget.headline("systems")["npv"][0]
    if "It breaks even in year" in text:
        assert npv_mid > 0 and "does not pay for itself" not in text
    if npv_mid <= -0.5:
        assert "It breaks even in" not in text and "does not pay for itself" in text


def test_no_cost_per_outcome_is_shown_when_half_the_replicates_avert_none():
    """Review: page 1 said "600 looked-after children averted (£153k of programme cost each)"
    from replicates averting 0 and 1,200."""

    budget = synthetic_analysis({"systems": {"programme_early_help": [[184e6], [184e6]]}},
                                averted={"looked_after": [0.0, 1200.0]})
    text = _page_one_text(budget)
    assert "600 looked-after children (at the end) averted;" not in text
    assert "600 looked-after children (at the end) averted." in text
    assert "£153k" not in text


def test_a_rise_in_police_incidents_is_said_as_a_rise_on_every_page():
    """Review: "averts no police incidents" printed where the median replicate had 6,600
    more."""
    import matplotlib.pyplot as plt

    from model.reports import missing_figure_notes

    budget = synthetic_analysis({"systems": {"programme_early_help": [[1e6], [1e6], [1e6]]}},
                                averted={"incidents": [-6600.0, -6000.0, -7000.0]})
    notes = " ".join(missing_figure_notes(budget, "systems", "Wales"))
    assert "3 of 3 replicates have more police incidents, not fewer" in notes
    figures = pdf_figures(budget)
    try:
        text = " ".join(" ".join(" ".join(_texts(fig)) for fig in figures).split())
    finally:
        for fig in figures:
            plt.close(fig)
    assert "averts no police incidents" not in text and "avert no police incidents" not in text
    assert "6,600 more police incidents" in text


def _with_early_help_at(cost: float, price_year: str):
    """small_comparison with systems' early help costed at ``cost`` in ``price_year`` prices."""
    import copy
    import dataclasses

    from model.experiment import Comparison

    c = small_comparison()
    results = []
    for result in c.results["systems"]:
        record = copy.deepcopy(result.record)
        for entry in record["parameters"]["interventions"]:
            if entry["type"] == "early_help":
                entry.update(unit_cost_gbp=cost, unit_cost_price_year=price_year)
        results.append(dataclasses.replace(result, record=record))
    return Comparison(baseline="symptoms", results={"symptoms": c.results["symptoms"],
                                                    "systems": results},
                      scale=c.scale, years=c.years, seeds=c.seeds, root_seed=c.root_seed)


def test_the_reports_show_the_programme_unit_costs_the_scenario_used(tmp_path):
    """Review: a scenario with early help at 4,000 in 2024 prices was costed right, but
    programme_unit_costs.csv and the xlsx printed the defaults (2,300, 2017-18 -> 2,948.05)
    and the pdf listed no programme unit costs."""
    import matplotlib.pyplot as plt
    from matplotlib.table import Table
    from openpyxl import load_workbook

    budget = analyse_budget(_with_early_help_at(4000.0, "2024"))
    assert budget.programme_costs["systems"][0]["early_help"] == 4000.0
    write_csv(budget, tmp_path / "csv")
    table = pd.read_csv(tmp_path / "csv" / "programme_unit_costs.csv")
    row = table[(table["scenario"] == "systems") & (table["intervention"] == "early_help")]
    assert row[["unit_cost_gbp", "price_year", "gbp_in_budget_prices"]].iloc[0].tolist() == [
        4000.0, "2024", 4000.0]
    assert row["default_gbp"].iloc[0] == 2300.0  # the default is there, and called so
    assert "drawn_median" not in table.columns  # no draws without cost uncertainty
    book = load_workbook(write_xlsx(budget, tmp_path / "b.xlsx"), read_only=True)
    rows = [r for r in book["assumptions and sources"].iter_rows(values_only=True)
            if r[:3] == ("systems", "compared", "early_help")]
    assert len(rows) == 1 and rows[0][3] == 4000 and rows[0][5] == 4000
    figures = pdf_figures(budget)
    try:
        page = next(fig for fig in figures
                    if any(t.startswith("Programme unit costs used") for t in _texts(fig)))
        cells = [cell.get_text().get_text() for table in page.findobj(Table)
                 for cell in table.get_celld().values()]
        assert "4,000.00" in cells and "2,948.05" not in cells
        assert "early help" in cells and "systems" in cells
    finally:
        for fig in figures:
            plt.close(fig)


def test_cost_uncertainty_draws_are_reported(tmp_path):
    """Review: --cost-uncertainty draws were reported nowhere."""
    budget = analyse_budget(small_comparison(), cost_uncertainty=True)
    write_csv(budget, tmp_path / "csv")
    programme = pd.read_csv(tmp_path / "csv" / "programme_unit_costs.csv")
    row = programme[(programme["scenario"] == "systems")
                    & (programme["intervention"] == "youth_diversion")].iloc[0]
    drawn = [c["youth_diversion"] for c in budget.programme_costs["systems"]]
    assert row["drawn_median"] == pytest.approx(np.median(drawn))
    assert row["drawn_p10"] <= row["drawn_median"] <= row["drawn_p90"]
    assert row["drawn_p10"] != row["drawn_p90"]
    units = pd.read_csv(tmp_path / "csv" / "unit_costs.csv").set_index("unit_cost")
    prison = [c["prison_month"] for c in budget.unit_costs]
    assert units.loc["prison_month", "drawn_median"] == pytest.approx(np.median(prison))


def test_the_who_pays_page_never_calls_programme_spend_cashable():
    import matplotlib.pyplot as plt

    from model.reports import who_pays_figure

    budget = synthetic_analysis({"systems": {
        "programme_early_help": [[5e6], [6e6]], "programme_operation_encompass": [[1e6], [1e6]],
        "prison_places": [[-4e6], [-5e6]]}})
    fig = who_pays_figure(budget)
    try:
        labels = [t.get_text() for t in fig.axes[0].texts]
    finally:
        plt.close(fig)
    assert sum("cashable" in label for label in labels) == 1  # prisons only
    assert any("(cashable -£4.5m)" in label for label in labels)


def test_the_replicate_table_is_in_the_csv_folder_and_the_workbook(tmp_path):
    from openpyxl import load_workbook

    from model.reports import TABLE_NOTES

    budget = _two_compared()
    write_csv(budget, tmp_path / "csv")
    table = pd.read_csv(tmp_path / "csv" / "replicates.csv")
    assert {"replicate", "seed", "area", "year", "net_saving",
            "cumulative_discounted_net_saving", "investment", "savings_to_other_agencies",
            "break_even_year", "breaks_even", "middle_replicate"} <= set(table.columns)
    assert len(table) == 2 * 3 * 5 * 2  # scenarios x replicates x areas x years
    book = load_workbook(write_xlsx(budget, tmp_path / "b.xlsx"), read_only=True)
    assert "by replicate" in book.sheetnames
    cells = [c for row in book["by replicate"].iter_rows(values_only=True) for c in row if c]
    assert "cumulative_discounted_net_saving" in cells and TABLE_NOTES["replicates"] in cells


def test_a_coarse_scale_says_what_one_simulated_family_costs():
    """At 1:400 one family's early-help episode more or fewer moved a lever that changed
    nothing else by ~£1m, which two replicates showed as a saving: the reports say so."""
    from types import SimpleNamespace

    from model.reports import coarse_scale_note, figure_notes, money

    costs = [{"early_help_family": 2900.0}, {"early_help_family": 3100.0}]
    note = coarse_scale_note(SimpleNamespace(scale=400, unit_costs=costs))
    assert note == (f"At scale 1:400 each simulated household stands for 400: one early-help "
                    f"episode more or fewer moves spend by {money(3000.0 * 400)}, so "
                    f"differences of that size are sampling noise; use 1:20 or finer for "
                    f"figures to act on")
    assert coarse_scale_note(SimpleNamespace(scale=50, unit_costs=costs)) is None
    analysis = synthetic_analysis({"systems": {"prison_places": [[-1e6], [-2e6]]}})  # 1:400
    assert figure_notes(analysis, analysis.scenarios[0], "Wales")[-1] == \
        coarse_scale_note(analysis)
    # the settings of every report (the xlsx and the csv too) carry it
    from model.reports import report_settings

    settings = report_settings(analysis).set_index("setting")["value"]
    assert settings["precision"] == f"{coarse_scale_note(analysis)}."


def test_a_band_of_net_savings_names_a_replicate_that_is_a_net_cost():
    """The 10-90 % band interpolates between replicates: a band of savings hid a replicate
    that was a net cost (a commissioner's audit of lever_youth_diversion)."""
    from model.reports import headline_sentence

    budget = synthetic_analysis({"systems": {"prison_places": [[-23e6], [-12e6], [-10e6],
                                                               [0.5e6]]}})
    low, high = budget.headline("systems")["npv"][1:]
    assert 0 < low < high  # the band is all net savings...
    sentence = headline_sentence(budget, "systems")
    assert "; 1 of 4 replicates is a net cost)" in sentence  # ...but one replicate is not
    all_savings = synthetic_analysis({"systems": {"prison_places": [[-23e6], [-12e6], [-10e6],
                                                                    [-5e6]]}})
    assert "replicates is a net cost" not in headline_sentence(all_savings, "systems")


def test_the_npv_box_says_which_sign_is_a_saving():
    from model.reports import headline_boxes

    budget = synthetic_analysis({"systems": {"prison_places": [[1e6], [2e6]]}})
    title, value, _, note = headline_boxes(budget, "systems")[0]
    assert (title, value[0]) == ("Net present value", "-")
    assert note == "net saving (+) or net cost (-) to the public purse"


def test_the_programme_unit_cost_range_is_also_given_in_the_budget_s_prices():
    """The draws are in the budget's prices; the range beside them was in the source's."""
    budget = synthetic_analysis({"systems": {"prison_places": [[1e6]]}},
                                programme_inputs={"systems": {"early_help": (2300.0, "2017-18")}})
    row = budget.programme_unit_cost_table().set_index("intervention").loc["early_help"]
    assert row["range_low_in_budget_prices"] == budget.book.from_prices_of("2017-18",
                                                                           row["range_low"])
    assert row["range_high_in_budget_prices"] > row["range_high"]  # 2017-18 -> 2024 prices


def test_each_replicates_agencies_are_exported_and_add_up_to_minus_its_npv():
    """Every table of medians says 'each replicate's rows do' add up; the exports now hold
    those rows (a commissioner's audit could not check them)."""
    budget = synthetic_analysis({"systems": {
        "prison_places": [[-3e6, -1e6], [-2e6, -4e6], [-5e6, 0.0]],
        "programme_early_help": [[1e6, 1e6], [2e6, 1e6], [1e6, 3e6]]}})
    table = budget.replicate_agency_table()
    wales = table[table["area"] == "Wales"]
    net = wales[wales["agency"] == "all"].set_index("replicate")["change"]
    parts = wales[wales["agency"] != "all"].groupby("replicate")["change"].sum()
    npv = budget.measures("systems")["npv"][:, -1]
    assert np.allclose(net.to_numpy(), -npv) and np.allclose(parts.to_numpy(), -npv)
    who = budget.who_pays("Wales").set_index(["agency", "part"])["change_median"]
    medians = wales.groupby("agency")["change"].median()
    for agency, median in medians.items():
        assert median == pytest.approx(who[(agency, "total")])
    assert "replicates_by_agency" in report_tables(budget)


def test_every_pdf_page_after_the_first_says_what_its_money_is(tmp_path):
    """A commissioner's audit: the spend, who-pays and force-area pages stated no price year,
    discount rate or scale; each page now restates them."""
    from pypdf import PdfReader

    from model.reports import page_footer

    budget = _two_compared()
    pages = PdfReader(write_pdf(budget, tmp_path / "b.pdf")).pages
    footer = " ".join(page_footer(budget).split())
    assert "2024 prices, discounted at 3.5%" in footer and "at 1:400" in footer
    for number, page in enumerate(pages[1:], start=2):
        text = " ".join(page.extract_text().split())
        assert f"{footer} \N{EM DASH} page {number} of {len(pages)}" in text, number
