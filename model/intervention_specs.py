"""What a scenario file may say about interventions: one validated entry per intervention.

Every intervention entry has a ``type`` (one of :data:`INTERVENTION_TYPES`), a start month, a
ramp (months to reach full coverage), a coverage, its effects, a unit cost and the evidence
behind it. Each effect is declared with :func:`model.parameters.param`, so it carries its unit,
its source or the word "assumption" with a plausible range, and the range is enforced: an effect
outside it is a clear error, not a silent extrapolation.

Example (scenarios/systems.yaml)::

    interventions:
      - type: ace_informed_policing
        start_month: 0
        ramp_months: 24
        coverage: 0.8
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from model.parameters import ParamGroup, param


class InterventionSpec(ParamGroup):
    """Fields every intervention has."""

    type: str
    label: str = Field("", description="Name shown in tables and figures (default: the type).")
    start_month: int = param(0, "month", "First month the intervention acts (0 = the first "
                             "recorded month).", low=0, high=300)
    ramp_months: int = param(12, "months", "Months from start to full coverage (linear ramp).",
                             low=0, high=60)
    coverage: float = param(1.0, "share", "Share of the eligible population or workforce reached "
                            "at full roll-out.", low=0.0, high=1.0)
    evidence: str = Field("", description="Evidence or assumption behind the effect sizes.")
    unit_cost_price_year: str | None = Field(
        None, description="Prices ``unit_cost_gbp`` is in: a calendar year (2017) or a "
        "financial year (2017-18) of the unit-cost file's deflator series. The budget brings it "
        "to its own price year with that deflator, as it does every other unit cost; none means "
        "it is in the budget's price year already.")
    unit_cost_figure: ClassVar[str | None] = None
    """The unit-cost file's figure that ``unit_cost_gbp`` repeats, if any: with unit-cost
    uncertainty on, the programme's cost then moves with that figure's draw (one figure, one
    draw), instead of being drawn on its own."""

    @field_validator("unit_cost_price_year", mode="before")
    @classmethod
    def _price_year_in_deflator(cls, value: Any) -> str | None:
        """A price year the deflator covers, as text (YAML reads 2017 as a number)."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"price year {value!r} is not allowed: give a calendar year (2017) "
                             f"or a financial year (2022-23)")
        from model.costs import CostDataError, load_cost_book, price_year_text

        text = price_year_text(value)
        try:
            load_cost_book().deflator.level(text)
        except CostDataError as err:
            raise ValueError(str(err)) from None
        return text

    @model_validator(mode="after")
    def _effects_within_range(self) -> InterventionSpec:
        for name, field in type(self).model_fields.items():
            extra = field.json_schema_extra or {}
            low, high = extra.get("low"), extra.get("high")
            value = getattr(self, name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and low is not None:
                if not low <= value <= high:
                    raise ValueError(f"{name} = {value} is outside its allowed range "
                                     f"[{low}, {high}] ({extra.get('unit')})")
        return self

    @property
    def name(self) -> str:
        """The label, or the type when no label is given."""
        return self.label or self.type

    def coverage_at(self, month: int) -> float:
        """Coverage reached by ``month`` (0 before the start, then a linear ramp)."""
        if month < self.start_month:
            return 0.0
        if self.ramp_months == 0:
            return self.coverage
        return self.coverage * min(1.0, (month - self.start_month + 1) / self.ramp_months)


class AceInformedPolicing(InterventionSpec):
    """ACE-informed (trauma-informed) police training across the force.

    A growing share of officers is trained. At a vulnerability incident with children present,
    a trained officer refers the family to early help more often; with young people who have
    ACEs, a trained officer escalates less (fewer arrests).
    """

    type: Literal["ace_informed_policing"] = "ace_informed_policing"
    title: ClassVar[str] = "ACE-informed policing"
    ramp_months: int = param(24, "months", "Months to train the target share of officers (over "
                             "5,000 officers and staff were trained across Wales by Sep 2019).",
                             low=0, high=60)
    coverage: float = param(0.8, "share of officers", "Share of officers trained at full roll-out.",
                            low=0.0, high=1.0)
    early_help_referral_share: float = param(
        0.3, "share of safeguarding notifications", "Chance that a trained officer who makes a "
        "safeguarding notification (a share of vulnerability incidents with children present: "
        "social_care.notification_share) also refers the family to early help. ASSUMPTION: no "
        "quantitative effect of the training has been published.", low=0.05, high=0.6)
    arrest_rr_young_people_with_aces: float = param(
        0.85, "rr", "Arrest relative risk for suspects aged 10-24 with 1+ ACEs dealt with by a "
        "trained officer (escalating less). ASSUMPTION: no published effect.", low=0.6, high=1.0)
    training_hours_per_officer: float = param(
        7.0, "officer-hours", "Training time per officer (one day), taken from available hours "
        "during the ramp.", low=3.5, high=14.0)
    referral_hours: float = param(
        0.5, "officer-hours", "Extra officer time for each early-help referral.", low=0.25,
        high=1.5)
    unit_cost_gbp: float = param(
        120.0, "GBP per officer trained", "Trainer and materials cost per officer (officer time "
        "counted separately). ASSUMPTION: a day's external course costs about GBP 100-150; the "
        "GBP 6.87 m programme funding (Home Office Police Transformation Fund) covered far more "
        "than training, so it gives no unit cost (GBP 6.87 m / 5,000 trained = GBP 1,374).",
        low=50.0, high=300.0)


class EarlyHelpExpansion(InterventionSpec):
    """More whole-family early-help places (key worker, fixed-length support).

    Adds places to each force area's early-help team; families join a first-come-first-served
    waiting list. While supported (and for a while after), adversity, maltreatment and
    offending hazards fall by the early-help effects in the ``early_help`` parameters.
    """

    type: Literal["early_help"] = "early_help"
    title: ClassVar[str] = "More early help"
    extra_places_per_10k_children: float = param(
        60.0, "open cases per 10,000 children", "Additional early-help places per force area at "
        "full roll-out (coverage scales it).", low=0.0, high=400.0)
    unit_cost_gbp: float = param(
        2300.0, "GBP per family supported", "Cost of one whole-family episode, in 2017-18 prices "
        "(unit_cost_price_year). Derived: Troubled Families programme GBP 920 m for 400,000 "
        "families (MHCLG 2019) = GBP 2,300; the same figure as the council's own early-help "
        "places (early_help_family_episode in the unit-cost file).", low=1500.0, high=4500.0)
    unit_cost_price_year: str | None = Field(
        "2017-18", description="Prices ``unit_cost_gbp`` is in (the Troubled Families "
        "programme's cash over 2015-2020, dated at its middle year, as in the unit-cost file).")
    unit_cost_figure: ClassVar[str | None] = "early_help_family_episode"


class MultiAgencyTriage(InterventionSpec):
    """Multi-agency safeguarding triage of police notifications (a MASH-style hub).

    Notifications that statutory social care would close with no further action are instead
    routed to the right service: early help.
    """

    type: Literal["multi_agency_triage"] = "multi_agency_triage"
    title: ClassVar[str] = "Multi-agency triage"
    routed_to_early_help_share: float = param(
        0.4, "share of notifications closed with no further action", "Share routed to early "
        "help instead. ASSUMPTION: no published effect size for MASH triage.",
        low=0.1, high=0.7)
    unit_cost_gbp: float = param(
        35.0, "GBP per notification triaged", "Multi-agency screening time per notification, "
        "in 2013-14 prices (unit_cost_price_year): about 45 minutes of a social worker at "
        "GBP 40-55 an hour (PSSRU via New Economy, 2013-14).", low=20.0, high=70.0)
    unit_cost_price_year: str | None = Field(
        "2013-14", description="Prices ``unit_cost_gbp`` is in (PSSRU's social-worker hour "
        "via New Economy, as in the unit-cost file).")


class OperationEncompass(InterventionSpec):
    """School notification after a domestic abuse incident with children present.

    The school's key adult gives in-school support: a child without a trusted adult may gain one
    (resilience), and for a year the child is less likely to go missing or to offend.
    """

    type: Literal["operation_encompass"] = "operation_encompass"
    title: ClassVar[str] = "Operation Encompass"
    trusted_adult_share: float = param(
        0.3, "share of notified children without a trusted adult", "Children who gain a trusted "
        "adult through school support. ASSUMPTION: Operation Encompass has no published "
        "quantitative effect (statutory since 2024).", low=0.05, high=0.6)
    support_rr: float = param(
        0.9, "rr", "Relative risk of going missing and of offending in the effect_months after "
        "the school is notified. ASSUMPTION.", low=0.7, high=1.0)
    effect_months: int = param(
        12, "months", "How long the school's support lowers those risks, from the month after "
        "the notification. ASSUMPTION (a school year of key-adult support).", low=3, high=24)
    unit_cost_gbp: float = param(
        60.0, "GBP per child supported", "School key-adult time per notified child (about 2 hours "
        "of a teaching assistant or safeguarding lead). ASSUMPTION.", low=20.0, high=150.0)


class YouthDiversion(InterventionSpec):
    """Diversion of arrested children away from a caution or prosecution into support.

    Only children whose arrest would end in a formal outcome (a youth caution or a charge) can
    be diverted; the others end in no further action anyway. A diverted child is not charged
    and does not enter the youth justice system; reoffending is lower than after processing
    (0.44 vs 0.50 in a Campbell review of 19 evaluations).
    """

    type: Literal["youth_diversion"] = "youth_diversion"
    title: ClassVar[str] = "Youth diversion"
    coverage: float = param(0.7, "share of arrested children with a formal outcome",
                            "Arrested children who would be cautioned or charged and are "
                            "diverted instead, at full roll-out.", low=0.0, high=1.0)
    reoffending_rr: float = param(
        0.88, "rr", "Reoffending of diverted relative to processed children (0.44 / 0.50). "
        "The range is an assumption (the review pools 19 evaluations).", low=0.7, high=1.0,
        source="Wilson, Brennan & Olaghere 2018, Campbell Systematic Reviews 14:5")
    effect_months: int = param(
        12, "months", "How long reoffending_rr applies, from the month after the diversion. "
        "ASSUMPTION (reoffending is usually followed up for about a year; the review's studies "
        "differ).", low=6, high=24)
    unit_cost_gbp: float = param(
        600.0, "GBP per child diverted", "A diversion programme's casework. ASSUMPTION "
        "(for scale: the whole criminal-justice cost of a young offender is about GBP 8,000 a "
        "year; NAO 2011).", low=300.0, high=1500.0)


class TraumaInformedCustody(InterventionSpec):
    """Liaison and diversion in police custody for adults with many ACEs.

    Screened adults with 4+ ACEs are referred to support (mental health, substance misuse);
    they are less likely to be sent to custody and to reoffend.
    """

    type: Literal["trauma_informed_custody"] = "trauma_informed_custody"
    title: ClassVar[str] = "Trauma-informed custody"
    coverage: float = param(0.6, "share of arrested adults with 4+ ACEs", "Adults screened and "
                            "supported at full roll-out.", low=0.0, high=1.0)
    custody_rr: float = param(
        0.8, "rr", "Relative risk of a custodial sentence for a supported adult. ASSUMPTION.",
        low=0.6, high=1.0)
    reoffending_rr: float = param(
        0.85, "rr", "Relative offending hazard in the effect_months after support. ASSUMPTION "
        "(of the order of the diversion effect).", low=0.7, high=1.0)
    effect_months: int = param(
        12, "months", "How long reoffending_rr applies, from the month after support. "
        "ASSUMPTION (as youth diversion's).", low=6, high=24)
    unit_cost_gbp: float = param(
        450.0, "GBP per adult supported", "Liaison and diversion casework. ASSUMPTION.",
        low=200.0, high=1000.0)


class CommunityResilience(InterventionSpec):
    """Community resilience through the social network: trusted adults and mutual support.

    In covered localities, children without a trusted adult gain one over time (mentoring,
    youth work, community hubs), faster where neighbouring households take part; adversity
    onset falls in households that take part and, less, among their neighbours.
    """

    type: Literal["community_resilience"] = "community_resilience"
    title: ClassVar[str] = "Community resilience"
    coverage: float = param(0.3, "share of localities", "Localities with a programme at full "
                            "roll-out (the most deprived first).", low=0.0, high=1.0)
    participation_share: float = param(
        0.25, "share of households", "Households of a covered locality that take part.",
        low=0.05, high=0.6)
    trusted_adult_per_child_month: float = param(
        0.01, "per month", "Hazard that a child of a taking-part household without a trusted "
        "adult gains one (mentoring effect sizes d 0.11-0.29; Tolan et al. 2013). ASSUMPTION.",
        low=0.002, high=0.03)
    onset_rr: float = param(
        0.9, "rr", "Adversity onset relative risk in a taking-part household. ASSUMPTION.",
        low=0.7, high=1.0)
    neighbour_spillover: float = param(
        0.5, "share of the effect", "Share of the onset effect felt by a household for each "
        "unit share of its neighbours taking part. ASSUMPTION.", low=0.0, high=1.0)
    unit_cost_gbp: float = param(
        150.0, "GBP per household taking part per year", "Community programme running costs. "
        "ASSUMPTION.", low=50.0, high=400.0)


InterventionEntry = Annotated[
    AceInformedPolicing | EarlyHelpExpansion | MultiAgencyTriage | OperationEncompass
    | YouthDiversion | TraumaInformedCustody | CommunityResilience,
    Field(discriminator="type"),
]

INTERVENTION_TYPES: dict[str, type[InterventionSpec]] = {
    cls.model_fields["type"].default: cls
    for cls in (AceInformedPolicing, EarlyHelpExpansion, MultiAgencyTriage, OperationEncompass,
                YouthDiversion, TraumaInformedCustody, CommunityResilience)
}


def intervention_table() -> list[dict[str, Any]]:
    """One row per intervention field: type, field, default, unit, source or assumption, range."""
    rows = []
    for kind, cls in INTERVENTION_TYPES.items():
        for name, field in cls.model_fields.items():
            extra = field.json_schema_extra or {}
            if "unit" not in extra:
                continue
            rows.append({"type": kind, "name": name, "default": field.get_default(),
                         "unit": extra["unit"], "source": extra["source"], "low": extra["low"],
                         "high": extra["high"], "description": field.description})
    return rows
