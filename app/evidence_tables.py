"""The Evidence page's tables as a planner reads them: plain words, numbers with units.

Each ``*_view`` function turns a table of the model (targets, parameters, unit costs, cost
figures, sensitivity indices, accepted calibration sets) into text cells that a static table
wraps to the width of a laptop screen; :func:`matching_rows` filters any of them by a word.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from model.numbers import compact

PARAMETER_LABELS = {
    "adversity.parent_ace_rr_per_ace": "Parents' ACEs: adversity multiplier per ACE",
    "adversity.co_occurrence_rr": "Adversities together: multiplier per other one",
    "adversity.peer_effect": "Neighbours' adversity: rise in onset",
    "adversity.onset_per_month.domestic_abuse": "Domestic abuse: onset rate",
    "adversity.onset_per_month.parental_mental_illness": "Parental mental illness: onset rate",
    "adversity.onset_per_month.alcohol_misuse": "Alcohol misuse: onset rate",
    "adversity.mean_duration_months.domestic_abuse": "Domestic abuse: mean spell length",
    "adversity.separation_per_month": "Parents separating: rate",
    "adversity.separation_adversity_rr": "Separation: multiplier under adversity",
    "maltreatment.adversity_rr_per_state": "Maltreatment: multiplier per adversity",
    "maltreatment.onset_per_child_month.verbal_abuse": "Verbal abuse: onset rate",
    "maltreatment.onset_per_child_month.physical_abuse": "Physical abuse: onset rate",
    "maltreatment.protection_plan_rr": "Maltreatment on a protection plan: multiplier",
    "maltreatment.parent_maltreated_rr": "Maltreated parent: direct multiplier",
    "police.offending_per_person_month": "Offending: base rate",
    "police.offending_ace_rr_per_ace": "Offending: multiplier per ACE",
    "police.repeat_offending_rr": "Repeat offending: multiplier",
    "police.offending_frailty_variance": "Prolific offenders: spread of offending",
    "police.domestic_incident_per_household_month": "Domestic incidents: rate in a spell",
    "police.welfare_concern_per_household_month": "Welfare concerns: base rate",
    "police.welfare_concern_adversity_rr": "Welfare concerns: multiplier per adversity",
    "police.mental_health_per_adult_month": "Mental-health incidents: base rate",
    "police.other_public_safety_per_household_month": "Other public-safety incidents: rate",
    "police.victimisation_ace_rr_per_ace": "Victimisation: weight per ACE",
    "justice.arrest_given_suspect_share": "Suspects arrested: share",
    "justice.charge_given_arrest_share": "Arrests charged: share",
    "justice.custody_months_served_mean": "Custody: mean months served",
    "justice.youth_custody_months_served_mean": "Youth custody: mean months served",
    "justice.youth_formal_outcome_given_arrest_share": "Children's arrests with a formal outcome",
    "social_care.assessments_per_10k_children_per_month": "Social-care assessments: capacity",
    "social_care.other_agency_referral_per_child_month": "Referrals by other agencies: rate",
    "social_care.looked_after_given_assessment_share": "Assessed children looked after: share",
    "social_care.protection_plan_given_assessment_share": "Assessed children on a plan: share",
    "social_care.looked_after_mean_months": "Looked after: mean months",
    "social_care.assessment_capacity_follows_need": "Assessment capacity: follows need",
    "early_help.adversity_ending_rr": "Early help: adversity ending multiplier",
    "early_help.adversity_onset_rr": "Early help: adversity onset multiplier",
    "early_help.maltreatment_rr": "Early help: maltreatment multiplier",
    "early_help.adult_offending_rr": "Early help: adults' offending multiplier",
    "early_help.child_offending_rr": "Early help: children's offending multiplier",
    # the package's assumptions (calibration/parameter_space_interventions.yaml)
    "interventions.ace_informed_policing.early_help_referral_share":
        "ACE-informed policing: referral share",
    "interventions.ace_informed_policing.arrest_rr_young_people_with_aces":
        "ACE-informed policing: arrest multiplier",
    "interventions.ace_informed_policing.unit_cost_gbp": "ACE-informed policing: unit cost",
    "interventions.multi_agency_triage.routed_to_early_help_share":
        "Triage: share routed to early help",
    "interventions.operation_encompass.trusted_adult_share":
        "Operation Encompass: trusted adult gained",
    "interventions.operation_encompass.support_rr": "Operation Encompass: risk multiplier",
    "interventions.operation_encompass.unit_cost_gbp": "Operation Encompass: unit cost",
    "interventions.youth_diversion.reoffending_rr": "Youth diversion: reoffending multiplier",
    "interventions.youth_diversion.unit_cost_gbp": "Youth diversion: unit cost",
    "interventions.trauma_informed_custody.custody_rr":
        "Trauma-informed custody: custody multiplier",
    "interventions.trauma_informed_custody.reoffending_rr":
        "Trauma-informed custody: reoffending multiplier",
    "interventions.trauma_informed_custody.unit_cost_gbp": "Trauma-informed custody: unit cost",
    "interventions.community_resilience.trusted_adult_per_child_month":
        "Community resilience: trusted adult rate",
    "interventions.community_resilience.onset_rr": "Community resilience: onset multiplier",
    "interventions.community_resilience.neighbour_spillover":
        "Community resilience: spill-over",
    "interventions.community_resilience.unit_cost_gbp": "Community resilience: unit cost",
}
"""Short plain labels of the uncertain parameters (calibration/parameter_space.yaml and
calibration/parameter_space_interventions.yaml); the model's code has descriptions
(docs/parameters.md, docs/scenarios.md) but no labels short enough for a chart."""


def parameter_label(name: str) -> str:
    """A parameter's plain label: ``adversity.co_occurrence_rr`` -> "Adversities together: ...".

    A parameter without a label here gets its dotted name in words ("multiplier" for "rr").

    Args:
        name: a dotted parameter name (``group.field`` or ``group.field.key``).
    """
    if name in PARAMETER_LABELS:
        return PARAMETER_LABELS[name]
    parts = name.split(".")
    if len(parts) == 3 and parts[0] == "interventions":  # the intervention's title first
        from model.intervention_specs import INTERVENTION_TYPES

        spec = INTERVENTION_TYPES.get(parts[1])
        field = parameter_label(f"x.{parts[2]}")
        return f"{spec.title}: {field[:1].lower()}{field[1:]}" if spec else field
    words = " ".join(name.split(".", 1)[-1].replace(".", " ").split("_"))
    words = " ".join("multiplier" if w == "rr" else w for w in words.split())
    return words[:1].upper() + words[1:]


def plain(text: str) -> str:
    """Text as the filter compares it: lower case, underscores as spaces, single spaces."""
    return " ".join(str(text).lower().replace("_", " ").split())


def cell_text(value: Any) -> str:
    """A cell as text: empty for a missing value (None or NaN), ``str`` otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def matching_rows(frame: pd.DataFrame, query: str) -> pd.DataFrame:
    """The rows any of whose cells hold the query, ignoring case and spaces against underscores.

    "early help" finds ``early_help_family``; a missing cell (NaN) is an empty one.

    Args:
        frame: any table.
        query: the words looked for (empty: every row).
    """
    wanted = plain(query)
    if not wanted:
        return frame
    rows = [wanted in plain(" ".join(cell_text(v) for v in row))
            for row in frame.itertuples(index=False)]
    return frame[rows]


def number_text(value: Any, money: bool = False) -> str:
    """A figure as read: 156m, 12,345, 0.0006, 71.13 (money to the penny below 1,000)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    value = float(value)
    if abs(value) >= 1e6:
        return compact(value)
    if abs(value) >= 1000 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}" if money else f"{value:.3g}"


def quantity(value: Any, unit: str) -> str:
    """A figure with its unit: ``£156m per year``, ``1,480 officers (headcount)``."""
    number = number_text(value, unit.startswith("GBP"))
    if not number:
        return ""
    if unit.startswith("GBP"):
        rest = unit.removeprefix("GBP").strip()
        return f"£{number} {rest}".strip()
    return f"{number} {unit}".strip()


def target_view(table: pd.DataFrame) -> pd.DataFrame:
    """The targets table as shown: figures to 3 digits, within as yes or no, no code key."""
    return pd.DataFrame({
        "target": table["target"], "unit": table["unit"],
        "published": [f"{v:.3g}" for v in table["published"]],
        "allowed": table["allowed"],
        "simulated": [f"{v:.3g}" for v in table["simulated"]],
        "within": ["yes" if ok else "no" for ok in table["within"]],
        "source": table["source"].map(cell_text),
    })


def early_help_view(table: pd.DataFrame) -> pd.DataFrame:
    """One scenario's rows of :func:`model.early_help_check.early_help_check`, as shown."""

    def share(value: float, events: int) -> str:
        return "no one followed" if math.isnan(value) else f"{value:.1%} ({events:,})"

    def ratio(mid: float, low: float, high: float) -> str:
        return "no events" if math.isnan(mid) else f"{mid:.2f} ({low:.2f} to {high:.2f})"

    return pd.DataFrame({
        "outcome": table["label"],
        "people followed": [f"{n:,}" for n in table["people"]],
        "support without its effects": [share(v, n) for v, n in zip(
            table["share_without"], table["events_without"], strict=True)],
        "with its effects": [share(v, n) for v, n in zip(
            table["share_with"], table["events_with"], strict=True)],
        "ratio (10-90 % over replicates)": [ratio(m, lo, hi) for m, lo, hi in zip(
            table["ratio"], table["ratio_p10"], table["ratio_p90"], strict=True)],
        "evaluation: comparison, treated, ratio": [
            f"{c:.1%}, {t:.1%}, {r:.2f}" for c, t, r in zip(
                table["evaluation_comparison"], table["evaluation_treated"],
                table["evaluation_ratio"], strict=True)],
    })


def unit_cost_view(table: pd.DataFrame) -> pd.DataFrame:
    """Unit costs (:func:`model.costs.unit_cost_table`): each with its unit, how it is made."""
    return pd.DataFrame({
        "unit cost": [f"{label} ({name})" for label, name
                      in zip(table["label"], table["unit_cost"], strict=True)],
        "2024 prices": [quantity(v, u) for v, u
                        in zip(table["gbp_2024_prices"], table["unit"], strict=True)],
        "paid by": table["agency"].map(lambda a: cell_text(a).replace("_", " ")),
        "cashable": table["cashable"].map(cell_text),
        "made from (price years)": [f"{cell_text(f)} ({cell_text(y)})" for f, y
                                    in zip(table["formula"], table["from_price_years"],
                                           strict=True)],
        "how": table["derivation"].map(cell_text),
    })


def figure_view(table: pd.DataFrame) -> pd.DataFrame:
    """Cost figures (:func:`model.costs.figure_table`): value and range with units."""
    rows = []
    for r in table.itertuples(index=False):
        year = cell_text(r.price_year)
        low, high = quantity(r.low, r.unit), quantity(r.high, r.unit)
        rows.append({
            "figure": r.figure,
            "value": quantity(r.value, r.unit) + (f" ({year} prices)" if year else ""),
            "in 2024 prices": (quantity(r.value_2024_prices, r.unit)
                               if year and r.value_2024_prices != r.value else ""),
            "range": f"{low} to {high}" if low and high else "",
            "source": cell_text(r.source),
            "verified": cell_text(r.verified),
            "note": cell_text(r.note),
        })
    return pd.DataFrame(rows, columns=["figure", "value", "in 2024 prices", "range", "source",
                                       "verified", "note"])


def morris_view(table: pd.DataFrame, output_label: Any) -> pd.DataFrame:
    """Morris statistics (morris.csv) in words, with each output's unit.

    Args:
        table: output, parameter, group, mu, mu_star, mu_star_conf, sigma, mu_star_relative,
            constant, influential.
        output_label: output name -> its label.
    """
    from model.sensitivity_report import output_unit

    rows = []
    for r in table.itertuples(index=False):
        unit = output_unit(r.output)
        rows.append({
            "output": output_label(r.output), "parameter": parameter_label(r.parameter),
            "influence mu*": f"{compact(r.mu_star)} ± {compact(r.mu_star_conf)} {unit}",
            "of the largest": f"{r.mu_star_relative:.2f}",
            "spread sigma": f"{compact(r.sigma)} {unit}",
            "on to Sobol": "yes" if bool(r.influential) else "no",
        })
    return pd.DataFrame(rows, columns=["output", "parameter", "influence mu*",
                                       "of the largest", "spread sigma", "on to Sobol"])


def sobol_view(table: pd.DataFrame, output_label: Any) -> pd.DataFrame:
    """Sobol indices (sobol.csv) in words: shares of the output's variance, 95 % intervals."""
    return pd.DataFrame({
        "output": table["output"].map(output_label),
        "parameter": table["parameter"].map(parameter_label),
        "alone (S1)": [f"{s:.2f} ± {c:.2f}" for s, c
                       in zip(table["S1"], table["S1_conf"], strict=True)],
        "with interactions (ST)": [f"{s:.2f} ± {c:.2f}" for s, c
                                   in zip(table["ST"], table["ST_conf"], strict=True)],
    })


def calibration_view(table: pd.DataFrame, targets: int | None) -> pd.DataFrame:
    """Accepted calibration sets (accepted.parquet): targets met "of N", parameters labelled.

    Args:
        table: rank, trial, score, within (targets met), defaults, then one column per
            parameter (dotted names).
        targets: how many targets the calibration checks (None: not known, no denominator).
    """
    shown = pd.DataFrame({"rank": table["rank"].map(cell_text)} if "rank" in table else {})
    if "within" in table:
        shown["targets within"] = [f"{int(w)} of {targets}" if targets else f"{int(w)}"
                                for w in table["within"]]
    if "score" in table:
        shown["distance"] = [f"{s:.1f}" for s in table["score"]]
    for column in table.columns:
        if "." in column:
            shown[parameter_label(column)] = [f"{v:.3g}" for v in table[column]]
    return shown


__all__ = ["PARAMETER_LABELS", "calibration_view", "cell_text", "figure_view", "matching_rows",
           "morris_view", "number_text", "parameter_label", "plain", "quantity", "sobol_view",
           "target_view", "unit_cost_view"]
