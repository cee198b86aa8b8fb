"""The Budget and Evidence pages under Streamlit's AppTest: what a commissioner reads there.

A budget shown is always said to be for the comparison it costs; the charts follow the force
area chosen; the reports carry the comparison as set in the app; the tables use plain words;
parameter ranges never read "nan to nan"; the project's installed calibration is shown.
Runs are tiny (1:200 or 1:400, one or two years, two replicates), in the test process.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from test_app import _one_worker, frame_with, no_problem, page  # noqa: F401 (fixture)

from app.inputs import RunInputs

TWO_YEARS = RunInputs("symptoms", "systems", years=2, replicates=2, scale=200)
ONE_YEAR = RunInputs("symptoms", "systems", years=1, replicates=2, scale=200)


# --- Budget ---------------------------------------------------------------------------------

def test_a_budget_of_an_earlier_comparison_is_said_to_be_one():
    at = page("budget", compare_inputs=TWO_YEARS)
    at.button(key="cost").click().run()
    no_problem(at)
    assert not at.warning
    assert any("over 2 years" in s.value for s in at.subheader)
    # the Compare page runs another comparison; the Budget page is opened again
    at.session_state["compare_inputs"] = ONE_YEAR
    at.run()
    no_problem(at)
    assert any(ONE_YEAR.describe() in c.value for c in at.caption)  # the page's own caption
    warning = " ".join(w.value for w in at.warning)
    assert "earlier comparison" in warning
    assert TWO_YEARS.describe() in warning and ONE_YEAR.describe() in warning
    assert any("over 2 years" in s.value for s in at.subheader)  # what is shown is said
    assert any(c.value.startswith(f"Costed: {TWO_YEARS.describe()}") for c in at.caption)
    at.button(key="cost").click().run()
    no_problem(at)
    assert not at.warning
    assert any("over 1 year" in s.value for s in at.subheader)
    assert any(c.value.startswith(f"Costed: {ONE_YEAR.describe()}") for c in at.caption)


def test_budget_charts_follow_the_force_area_and_reports_carry_the_app_s_settings(
        monkeypatch):
    import matplotlib.pyplot as plt

    from app import runner
    from app.views import budget as view

    drawn: dict[tuple, list[str]] = {}
    real_png = runner.figure_png

    def figure_png(key, make):
        if key[0] in ("spend", "who_pays", "cumulative"):
            fig = make()
            drawn[(key[0], key[-1])] = [ax.get_title() for ax in fig.axes]
            plt.close(fig)
        return real_png(key, make)

    described: list[str] = []
    real_downloads = view._downloads

    def downloads(analysis, key, description):
        described.append(description)
        return real_downloads(analysis, key, description)

    monkeypatch.setattr(runner, "figure_png", figure_png)
    monkeypatch.setattr(view, "_downloads", downloads)
    at = page("budget", compare_inputs=TWO_YEARS)
    at.button(key="cost").click().run()
    no_problem(at)
    at.selectbox(key="budget_area").set_value("Gwent").run()
    no_problem(at)
    for chart in ("spend", "who_pays", "cumulative"):
        titles = drawn[(chart, "Gwent")]
        assert all("Gwent" in t for t in titles if t), (chart, titles)
        assert all("Wales" in t for t in drawn[(chart, "Wales")] if t), chart
    assert described and set(described) == {TWO_YEARS.describe()}
    spend = frame_with(at, "year 1 (£m)")
    names = [*spend.columns, *spend.index.names]
    assert "agency_label" not in names and "agency" in names


def test_the_budget_page_says_its_medians_do_not_add_up_and_gives_the_net_row():
    from model.reports import MEDIANS_NOTE

    at = page("budget", compare_inputs=TWO_YEARS)
    at.button(key="cost").click().run()
    no_problem(at)
    captions = [c.value for c in at.caption]
    assert sum(c.startswith(MEDIANS_NOTE) for c in captions) == 2  # who pays; spend table
    who = frame_with(at, "pays or saves")
    assert who["agency"].iloc[-1] == "All agencies (net)"
    assert who["pays or saves"].iloc[-1] in ("net cost", "net saving", "no change")


def test_reports_from_the_app_name_the_levers_moved(tmp_path):
    import io
    import zipfile

    from _budget_helpers import small_comparison
    from openpyxl import load_workbook

    from app.views.budget import _report_bytes
    from model.budget import analyse_budget
    from model.reports import APP_SETTING

    inputs = RunInputs("symptoms", "systems", years=2, replicates=2, scale=400, seed=3,
                       levers=(("training_coverage", 35.0),))
    description = inputs.describe()
    analysis = analyse_budget(small_comparison())
    book = load_workbook(io.BytesIO(_report_bytes(analysis, "xlsx", description)),
                         read_only=True)
    rows = [tuple(r[:2]) for r in book["summary"].iter_rows(values_only=True)]
    assert (APP_SETTING, description) in rows
    with zipfile.ZipFile(io.BytesIO(_report_bytes(analysis, "csv", description))) as tables:
        settings = pd.read_csv(tables.open("budget-tables/settings.csv"))
    assert settings.iloc[0].tolist() == [APP_SETTING, description]
    assert _report_bytes(analysis, "pdf", description).startswith(b"%PDF")


def test_the_app_names_a_sensitivity_rate_as_the_reports_do():
    """Review: the app's caption said "discounted at 20.0 % a year" without saying it is not
    the Green Book's rate."""
    from app.views.budget import _costing_words

    assert _costing_words(0.2, False) == (
        "discounted at 20.0% a year (a sensitivity rate; the Green Book's is 3.5%), unit costs "
        "at their central values")
    assert _costing_words(0.035, True).startswith(
        "discounted at 3.5% a year (HM Treasury Green Book), unit costs drawn")


# --- Evidence -------------------------------------------------------------------------------

def test_parameters_without_a_range_show_an_empty_cell_not_nan():
    at = page("evidence")
    no_problem(at)
    params = frame_with(at, "group", "range", "source")
    assert not params["range"].str.contains("nan").any()
    rr = params[(params["group"] == "wellbeing")
                & (params["name"] == "low_wellbeing_share_no_aces")]
    assert rr["range"].tolist() == [""]
    assert (params["range"] != "").sum() > 0  # assumptions keep their ranges
    effects = frame_with(at, "type")
    assert not effects["range"].str.contains("nan").any()
    at.text_input(key="param_filter").set_value("nan to nan").run()
    assert len(frame_with(at, "group", "range", "source")) == 0


def test_range_text_reads_an_absent_range_as_empty():
    from app.views.evidence import range_text

    assert range_text(float("nan"), float("nan")) == ""
    assert range_text(None, None) == ""
    assert range_text(0.5, 0.8) == "0.5 to 0.8"


def _layout(tmp_path):
    """A project with an installed calibration and a run's outputs, under a folder whose
    name holds the words of both kinds ("abc", "sensitivity")."""
    project = tmp_path / "abc-sensitivity-work" / "project"
    (project / "calibration").mkdir(parents=True)
    pd.DataFrame({"rank": [1, 2], "score": [0.5, 0.7]}).to_parquet(
        project / "calibration" / "accepted.parquet")
    run = project / "results" / "calibration"
    run.mkdir(parents=True)
    fit = pd.DataFrame({"target": ["police_incidents_per_1000"], "simulated": [300.0]})
    fit.to_csv(run / "fit.csv", index=False)
    fit.to_parquet(run / "fit.parquet")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    return project, elsewhere


def test_the_installed_calibration_is_found_first_and_a_table_once(tmp_path, monkeypatch):
    from app import evidence_files

    project, elsewhere = _layout(tmp_path)
    monkeypatch.setattr(evidence_files, "PROJECT", project)
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("EAT_EVIDENCE_DIR", raising=False)
    found = evidence_files.find("calibration")
    assert [f.path.relative_to(project).as_posix() for f in found] == [
        "calibration/accepted.parquet", "results/calibration/fit.parquet"]
    assert [f.installed for f in found] == [True, False]
    # the folders above the searched ones do not count: nothing here is a sensitivity output
    assert evidence_files.find("sensitivity") == []
    # a sensitivity report kept in calibration/ is a sensitivity output, not a calibration one
    shipped = project / "calibration" / "sensitivity"
    shipped.mkdir()
    pd.DataFrame({"parameter": ["police.x"], "mu_star": [0.1]}).to_csv(
        shipped / "morris.csv", index=False)
    assert [f.path.name for f in evidence_files.find("sensitivity")] == ["morris.csv"]
    assert "morris.csv" not in [f.path.name for f in evidence_files.find("calibration")]


def test_evidence_shows_the_installed_calibration(tmp_path, monkeypatch):
    from app import evidence_files

    project, elsewhere = _layout(tmp_path)
    monkeypatch.setattr(evidence_files, "PROJECT", project)
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("EAT_EVIDENCE_DIR", raising=False)
    at = page("evidence")
    no_problem(at)
    assert not any("No calibration results" in i.value for i in at.info)
    shown = [c.value for c in at.caption]
    assert any("File accepted.parquet (installed in the project" in c for c in shown)
    assert sum("File fit." in c for c in shown) == 1
    # headings in words, not file names
    headings = [m.value for m in at.markdown]
    assert "**The accepted calibration: the parameter sets that fit the targets best**" in \
        headings
    assert not any(".parquet" in m or ".png" in m for m in headings)


def test_the_project_s_own_calibration_is_found_on_a_clean_checkout(tmp_path, monkeypatch):
    from app import evidence_files

    monkeypatch.chdir(tmp_path)  # no results/ here
    monkeypatch.delenv("EAT_EVIDENCE_DIR", raising=False)
    monkeypatch.setattr(evidence_files, "search_roots",
                        lambda: [evidence_files.PROJECT / evidence_files.INSTALLED])
    found = evidence_files.find("calibration")
    assert found and found[0].installed and found[0].path.name == "accepted.parquet"


# --- targets in plain words -----------------------------------------------------------------

def test_every_validation_target_has_plain_words_and_a_unit():
    from app.figures import target_words
    from model.calibration_targets import load_target_file, target_items

    specs = {n: s for n, s in load_target_file().items() if s.validation}
    for item in target_items(specs):
        label, unit = target_words(SimpleNamespace(name=item.key,
                                                   description=item.description))
        assert unit, item.key
        assert "_" not in label and "." not in label, label
    crime = SimpleNamespace(name="recorded_crime_per_1000.dyfed_powys", description="")
    assert target_words(crime) == ("Recorded crime, Dyfed-Powys", "per 1,000 people a year")


def test_the_targets_chart_and_table_use_plain_words_and_units():
    import matplotlib.pyplot as plt

    from app.figures import targets_figure
    from app.views.evidence import target_table
    from model.validation import TargetCheck, ValidationReport

    checks = [TargetCheck("recorded_crime_per_1000.gwent", "Recorded crime (Gwent)", 99.8,
                          79.8, 120.0, 110.0, "ONS"),
              TargetCheck("aces_at_18_none", "Share of young people reaching 18 with no ACEs",
                          0.53, 0.48, 0.58, 0.51, "Welsh ACE Study")]
    table = target_table(ValidationReport(checks=checks, scale=400, seed=0, years=1))
    assert list(table.columns) == ["target", "unit", "published", "allowed", "simulated",
                                   "within", "source", "key"]
    assert table["target"].tolist() == ["Recorded crime, Gwent",
                                        "Young people reaching 18 with no ACEs"]
    assert table["unit"].tolist() == ["per 1,000 people a year", "share of 18-year-olds"]
    fig = targets_figure(checks)
    try:
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert labels[0] == "Recorded crime, Gwent (per 1,000 people a year)"
        assert "ratio" in fig.axes[0].get_xlabel()
    finally:
        plt.close(fig)


@pytest.mark.parametrize("scale", ["1:400"])
def test_the_evidence_page_shows_targets_in_plain_words(scale):
    at = page("evidence")
    at.text_input(key="targets_scale").set_value(scale)
    at.button(key="targets_run").click().run()
    no_problem(at)
    targets = frame_with(at, "within")
    assert "unit" in targets.columns and targets["unit"].astype(bool).all()
    assert not targets["target"].str.contains("_").any()


# --- the Sources and assumptions filter, and tables that fit a laptop -------------------------

ALL_TABLES = ("parameters", "effects", "unit costs", "cost figures")


def _sources_tables(at):
    """The four tables of Sources and assumptions, in the page's order."""
    return [t.value for t in at.table][-4:]


@pytest.mark.parametrize("word", ["custody", "ONS", "zzz", "early help", "nan to nan"])
def test_every_sources_table_filters_by_any_word(word):
    """A word in the filter crashed the page: a cost figure without a range had a NaN cell,
    which ``" ".join`` refused."""
    at = page("evidence")
    at.text_input(key="param_filter").set_value(word).run()
    no_problem(at)
    tables = _sources_tables(at)
    assert len(tables) == len(ALL_TABLES)
    for table in tables:
        for row in table.astype(str).itertuples(index=False):
            assert word.lower() in " ".join(row).lower().replace("_", " "), (word, row)


def test_the_filter_reads_spaces_as_underscores_and_ignores_case():
    from app.evidence_tables import matching_rows

    at = page("evidence")
    at.text_input(key="param_filter").set_value("Early  Help").run()
    no_problem(at)
    params, effects, unit_costs, figures = _sources_tables(at)
    assert "early_help" in set(params["group"])
    assert "early_help_referral_share" in set(effects["name"])
    assert unit_costs["unit cost"].str.contains("early_help_family").any()
    frame = pd.DataFrame({"name": ["early_help_family", "officer_hour"], "low": [float("nan"),
                                                                              1.0]})
    assert matching_rows(frame, "EARLY help")["name"].tolist() == ["early_help_family"]
    assert matching_rows(frame, "nan").empty  # a missing cell is empty, not "nan"


def test_cost_figures_and_unit_costs_show_units_not_raw_numbers():
    from app.evidence_tables import figure_view, quantity, unit_cost_view
    from model.costs import figure_table, unit_cost_table

    assert quantity(169679474.385197, "GBP per year") == "£170m per year"
    assert quantity(71.126596, "GBP per officer-hour") == "£71.13 per officer-hour"
    assert quantity(1480.0, "officers (headcount)") == "1,480 officers (headcount)"
    figures = figure_view(figure_table()).set_index("figure")
    gwent = figures.loc["police_revenue_budget_gwent"]
    assert gwent["value"] == "£156m per year (2022-23 prices)"
    assert gwent["in 2024 prices"] == "£170m per year"
    assert gwent["range"] == ""
    costs = unit_cost_view(unit_cost_table())
    hour = costs[costs["unit cost"].str.contains("officer_hour")].iloc[0]
    assert hour["2024 prices"] == "£71.13 per officer-hour"
    cells = " ".join(" ".join(r) for r in [*figures.astype(str).itertuples(index=False),
                                           *costs.astype(str).itertuples(index=False)])
    assert "nan" not in cells.split() and "169679474" not in cells


# --- sensitivity and calibration for a planner ------------------------------------------------

def test_sensitivity_and_calibration_speak_plain_words():
    at = page("evidence")
    no_problem(at)
    headings = [m.value for m in at.markdown]
    morris_heading = "**Which parameters move each output (Morris screening)**: "
    # the two shipped analyses, told apart by what their spaces hold: the model's first
    assert [m.split(": ", 1)[1] for m in headings if m.startswith(morris_heading)] == [
        "uncertain parameters of the Early Action simulator (assumptions with ranges)",
        "uncertain assumptions of the systems package (interventions' effects and costs)"]
    assert not any(m.startswith("**") and ("." in m.split("**")[1]) for m in headings), headings
    morris = frame_with(at, "influence mu*")
    assert "Adversities together: multiplier per other one" in set(morris["parameter"])
    assert "Police incidents (symptoms), 5 years" in set(morris["output"])
    assert not morris["parameter"].str.contains("_").any()
    assert morris["influence mu*"].iloc[0].endswith(" incidents")  # units, not 2812575
    sobol = frame_with(at, "alone (S1)")
    assert not sobol["parameter"].str.contains("_").any()
    accepted = frame_with(at, "targets within")
    assert accepted["targets within"].iloc[0] == "28 of 29"  # calibrated.yaml: 27/29 on checks
    assert not any("_" in c or "." in c for c in accepted.columns)


def test_every_parameter_of_the_space_has_a_plain_label():
    from app.evidence_tables import PARAMETER_LABELS, parameter_label
    from model.parameter_space import load_parameter_space

    package = Path(__file__).parents[1] / "calibration/parameter_space_interventions.yaml"
    names = [*load_parameter_space().names, *load_parameter_space(package).names]
    assert set(names) <= set(PARAMETER_LABELS)
    assert all(len(parameter_label(n)) <= 50 for n in names)
    assert parameter_label("police.some_new_rr") == "Some new multiplier"
    assert parameter_label("interventions.youth_diversion.effect_months") == \
        "Youth diversion: effect months"


def test_morris_point_labels_stay_inside_their_panels():
    """Labels stepped down from points near sigma = 0 fell on the x axis's title."""
    import matplotlib.pyplot as plt

    from app.evidence_tables import parameter_label
    from model.sensitivity_report import morris_figure

    morris = pd.read_csv(Path(__file__).parents[1] / "calibration/sensitivity/morris.csv")
    fig = morris_figure(morris, parameter_label=parameter_label)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            box = ax.get_window_extent(renderer)
            for text in ax.texts:
                drawn = text.get_window_extent(renderer)
                assert drawn.y0 >= box.y0 - 1, (ax.get_title(), text.get_text())
    finally:
        plt.close(fig)


def test_evidence_shows_early_help_against_its_evaluation(monkeypatch, tmp_path):
    """The shipped check (docs/evidence/early_help_check.csv) is shown per scenario, in words;
    without the file the page says how to make it."""
    from app.views import evidence

    at = page("evidence")
    no_problem(at)
    assert any("Early help against the evaluation" in h.value for h in at.subheader)
    shipped = pd.read_csv(evidence.EARLY_HELP_FILE)
    assert set(shipped["scenario"]) == {"symptoms", "systems"}
    tables = [t.value for t in at.table if "people followed" in t.value.columns]
    assert len(tables) == 2  # one a scenario
    convicted = pd.concat(tables)
    convicted = convicted[convicted["outcome"] == "children convicted (10-17)"]
    row = shipped[(shipped["scenario"] == "systems")
                  & (shipped["outcome"] == "juvenile_convictions")].iloc[0]
    assert f"{row['ratio']:.2f} ({row['ratio_p10']:.2f} to {row['ratio_p90']:.2f})" in \
        convicted["ratio (10-90 % over replicates)"].tolist()
    assert "4.6%, 3.9%, 0.85" in convicted["evaluation: comparison, treated, ratio"].tolist()
    assert any(m.value.startswith("**systems**: 8 replicates at 1:10") for m in at.markdown)
    # the line under the tables is made from the file's own numbers
    summary = evidence.early_help_summary(shipped)
    assert summary in [c.value for c in at.caption]
    assert "where the evaluation found a fall of 32 %" in summary
    one = shipped[shipped["scenario"] == "systems"].assign(ratio=[0.5, 0.9, float("nan"), 0.9])
    assert evidence.early_help_summary(one).startswith("Care entries fall by 50 %, where")
    assert "Convictions and custodial sentences fall by 10 %, against" in \
        evidence.early_help_summary(one)
    # a ratio resting on a handful of events is left out of the range, and the line says so
    few_rows = ((shipped["outcome"] != "children_looked_after")
                & (shipped["events_without"] < evidence.FEWEST_EVENTS)).sum()
    assert (f"with fewer than {evidence.FEWEST_EVENTS} events left out" in summary) == \
        bool(few_rows)
    few = one.assign(events_without=[395, 85, 8, 10])
    assert "fall by 10 % (2 rows with fewer than 20 events left out)" in \
        evidence.early_help_summary(few)
    # a group whose every row rests on too few events says so, care rows included
    none = one.assign(events_without=[5, 85, 8, 10])
    assert evidence.early_help_summary(none).startswith(
        "Care entries rest on too few events to read (fewer than 20), where")
    assert "fall by 10 % (2 rows with fewer" in evidence.early_help_summary(none)
    missing = evidence.EARLY_HELP_FILE.with_name("missing.csv")  # named from the project
    monkeypatch.setattr(evidence, "EARLY_HELP_FILE", missing)
    at = page("evidence")
    no_problem(at)
    assert any("Not made yet: `python -m model.early_help_check --out "
               "docs/evidence/missing.csv`" in c.value for c in at.caption)
