"""The metrics a run records: names, units, meaning, and whether each is a flow or a stock.

Flows are counted over the month (incidents, arrests, new ACEs); stocks are read at the end of
the month (children with 4+ ACEs, people in custody). Every value in the results is scaled to
the real population of Wales (multiplied by the population scale).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.parameters import ACE_TYPES, ADVERSITY_STATES, INCIDENT_CATEGORIES

_REACHED = {"early_help": "Families starting in the programme's extra early-help places this "
                          "month: the starts beyond what the council's own places take "
                          "(docs/ODD.md, interventions)."}
"""Descriptions of ``reached_<type>`` metrics that say more than "reached this month"."""


@dataclass(frozen=True)
class Metric:
    """One recorded quantity."""

    name: str
    unit: str
    kind: str  # "flow" (per month) or "stock" (end of month)
    description: str


def _metrics() -> tuple[Metric, ...]:
    out = [Metric(f"incidents_{c}", "incidents per month", "flow",
                  f"Police incidents of category {c.replace('_', ' ')}.")
           for c in INCIDENT_CATEGORIES]
    out += [
        Metric("repeat_incidents", "incidents per month", "flow",
               "Incidents at a household that had another incident in the previous 12 months."),
        Metric("recorded_crimes", "crimes per month", "flow",
               "Recorded crimes (crime incidents x crimes per incident, plus crimes recorded "
               "without an incident)."),
        Metric("officer_hours", "officer-hours per month", "flow",
               "Officer time spent attending incidents and dealing with arrests."),
        Metric("arrests", "arrests per month", "flow", "Arrests (all ages)."),
        Metric("arrests_children", "arrests per month", "flow", "Arrests of children aged 10-17."),
        Metric("charges", "charges per month", "flow", "Adults charged or summonsed."),
        Metric("youth_charges", "charges per month", "flow",
               "Children (10-17) charged after a formal outcome (not cautioned out of court, "
               "not diverted); their cases are heard in the youth court."),
        Metric("convictions", "convictions per month", "flow", "Adult convictions."),
        Metric("custody_sentences", "sentences per month", "flow",
               "Immediate custodial sentences (adults and children)."),
        Metric("parents_sent_to_custody", "people per month", "flow",
               "Adults sentenced to custody who live with children as parents "
               "(householders, or a young mother living at her parents' with her "
               "child)."),
        Metric("youth_out_of_court", "children per month", "flow",
               "Children given a formal out-of-court disposal (a youth caution or youth "
               "conditional caution); community resolutions are informal and not counted."),
        Metric("youth_justice_first_entrants", "children per month", "flow",
               "Children entering the youth justice system for the first time."),
        Metric("violence_victimisations", "victimisations per month", "flow",
               "Violent victimisations (including domestic abuse); a person can count twice."),
        Metric("repeat_victimisations", "victimisations per month", "flow",
               "Victimisations of someone victimised in the previous 12 months or earlier "
               "the same month."),
        Metric("safeguarding_notifications", "notifications per month", "flow",
               "Police safeguarding notifications (PPNs) about children."),
        Metric("notifications_no_further_action", "notifications per month", "flow",
               "Notifications screened out by social services triage."),
        Metric("social_care_referrals", "referrals per month", "flow",
               "Referrals accepted into the social-care assessment queue (police and other "
               "agencies)."),
        Metric("referrals_lapsed", "referrals per month", "flow",
               "Referrals that waited too long and lapsed without assessment."),
        Metric("social_care_assessments", "assessments per month", "flow",
               "Social-care assessments completed (families)."),
        Metric("police_notifications_assessed", "assessments per month", "flow",
               "Assessments that began as a police notification (social-services input)."),
        Metric("protection_plans_started", "children per month", "flow",
               "Children placed on a child protection plan."),
        Metric("looked_after_entries", "children per month", "flow",
               "Children who became looked after."),
        Metric("early_help_starts", "families per month", "flow", "Families starting early help."),
        Metric("births", "births per month", "flow", "Births."),
        Metric("deaths", "deaths per month", "flow", "Deaths."),
        Metric("children_maltreated", "children per month", "flow",
               "Children maltreated (verbal, physical or sexual abuse) this month."),
        Metric("new_aces", "ACEs per month", "flow", "ACEs gained by children (all types)."),
    ]
    out += [Metric(f"new_aces_{t}", "ACEs per month", "flow", f"Children gaining the ACE "
                   f"{t.replace('_', ' ')}.") for t in ACE_TYPES]
    out += [Metric(f"onsets_{s}", "households per month", "flow",
                   f"Households where {s.replace('_', ' ')} starts.") for s in ADVERSITY_STATES]
    out += [
        Metric("turned_18", "people per month", "flow", "Young people reaching 18."),
        Metric("turned_18_aces_0", "people per month", "flow", "Reaching 18 with no ACEs."),
        Metric("turned_18_aces_1", "people per month", "flow", "Reaching 18 with one ACE."),
        Metric("turned_18_aces_2_3", "people per month", "flow", "Reaching 18 with 2 or 3 ACEs."),
        Metric("turned_18_aces_4plus", "people per month", "flow", "Reaching 18 with 4+ ACEs."),
        Metric("officer_hours_training", "officer-hours per month", "flow",
               "Officer time spent in ACE-informed training (part of officer_hours)."),
        Metric("officer_hours_referrals", "officer-hours per month", "flow",
               "Officer time spent making early-help referrals (part of officer_hours)."),
        Metric("early_help_referrals_police", "families per month", "flow",
               "Families referred to early help by police officers at incidents."),
        Metric("notifications_routed_to_early_help", "notifications per month", "flow",
               "Notifications that triage routed to early help instead of no further action."),
        Metric("youth_diverted", "children per month", "flow",
               "Arrested children diverted from prosecution."),
        *[Metric(f"reached_{kind}", unit, "flow", _REACHED.get(
                 kind, f"Reached by {kind.replace('_', ' ')} this month."))
          for kind, unit in (("ace_informed_policing", "officers trained per month"),
                             ("early_help", "families starting per month"),
                             ("multi_agency_triage", "notifications triaged per month"),
                             ("operation_encompass", "children supported per month"),
                             ("youth_diversion", "children diverted per month"),
                             ("trauma_informed_custody", "adults supported per month"),
                             ("community_resilience", "household-years per month"))],
        Metric("young_adults_low_wellbeing", "people", "stock",
               "Expected number of 18-25-year-olds with low mental well-being (from their ACEs "
               "and whether they had a trusted adult)."),
        Metric("young_adults", "people", "stock", "People aged 18-25."),
        Metric("persons", "people", "stock", "People living in households."),
        Metric("children", "children", "stock", "Children under 18."),
        Metric("children_aces_1plus", "children", "stock", "Children with 1 or more ACEs."),
        Metric("children_aces_4plus", "children", "stock", "Children with 4 or more ACEs."),
        Metric("looked_after_children", "children", "stock", "Children looked after."),
        Metric("children_on_protection_plans", "children", "stock",
               "Children on a child protection plan."),
        Metric("people_in_custody", "people", "stock", "People in prison or youth custody."),
        Metric("children_in_custody", "children", "stock",
               "Children (under 18) in youth custody; also counted in people_in_custody."),
        Metric("youth_justice_caseload", "children", "stock", "Open youth justice orders."),
        Metric("early_help_caseload", "families", "stock", "Families in early help."),
        Metric("social_care_queue", "referrals", "stock", "Referrals waiting for assessment."),
        Metric("officer_hours_available", "officer-hours per month", "stock",
               "Officer-hours available (officers x productive hours per month)."),
    ]
    out += [Metric(f"households_{s}", "households", "stock",
                   f"Households in an active {s.replace('_', ' ')} spell.")
            for s in ADVERSITY_STATES]
    return tuple(out)


METRICS: tuple[Metric, ...] = _metrics()
METRIC_INDEX: dict[str, int] = {m.name: i for i, m in enumerate(METRICS)}

CRIME_INCIDENT_METRICS = tuple(f"incidents_{c}" for c in INCIDENT_CATEGORIES[:8])
NON_CRIME_INCIDENT_METRICS = tuple(f"incidents_{c}" for c in INCIDENT_CATEGORIES[8:])

DERIVED_METRICS: dict[str, tuple[Metric, tuple[str, ...]]] = {
    "incidents_crime": (Metric("incidents_crime", "incidents per month", "flow",
                               "Crime incidents (all crime categories)."), CRIME_INCIDENT_METRICS),
    "incidents_non_crime": (Metric("incidents_non_crime", "incidents per month", "flow",
                                   "Non-crime incidents (welfare, vulnerability, public safety)."),
                            NON_CRIME_INCIDENT_METRICS),
    "incidents_total": (Metric("incidents_total", "incidents per month", "flow",
                               "All police incidents."),
                        CRIME_INCIDENT_METRICS + NON_CRIME_INCIDENT_METRICS),
}
"""Metrics that are sums of recorded ones, added to every result."""

ALL_METRICS: dict[str, Metric] = {**{m.name: m for m in METRICS},
                                  **{k: v[0] for k, v in DERIVED_METRICS.items()}}
