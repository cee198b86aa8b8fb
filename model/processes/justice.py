"""Step 6, the reactive police response and the justice flow; safeguarding notifications.

For every crime incident with an offender: suspect identified -> arrest -> for children (10-17)
no further action, or a formal outcome (out-of-court disposal or charge); for adults charge ->
conviction -> custody, with the custody probability rising with prior convictions. People in
custody leave it with a monthly release hazard (its own mean for children); while in custody
they count as a parent in prison for the children at home (an ACE). Victims of violence are
counted (and repeat victims). Vulnerability incidents at a household with children produce
safeguarding notifications, which go to children's social care.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import kernels_agencies
from model.parameters import (
    CRIME_INCIDENT_CATEGORIES,
    INCIDENT_CATEGORIES,
    OFFENCE_CATEGORIES,
    JusticeParams,
    PoliceParams,
)
from model.population import NO_MONTH, update_custody_counts
from model.processes import Process
from model.processes.police import CATEGORY_INDEX

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel

ADULT_MONTHS = 18 * 12
PRIOR_CONVICTION_CAP = 4
VICTIM_CATEGORIES = ("violence_with_injury", "violence_without_injury", "sexual_offences",
                     "domestic_abuse_crime")
_VICTIM_CATEGORY = np.zeros(len(INCIDENT_CATEGORIES), bool)
_VICTIM_CATEGORY[[CATEGORY_INDEX[c] for c in VICTIM_CATEGORIES]] = True


def youth_sanctions_per_offence(police: PoliceParams, justice: JusticeParams) -> float:
    """The chance that an offence by a child ends in a sanction (a caution or a conviction).

    The justice step's chain for a child's offence with no intervention: a suspect is
    identified (averaged over the offence mix), arrested, given a formal outcome, then
    cautioned out of court, or charged and convicted. The step's limit of one arrest a person
    a month is left out.

    Examples:
        >>> from model.parameters import JusticeParams, PoliceParams
        >>> round(youth_sanctions_per_offence(PoliceParams(), JusticeParams()), 4)
        0.0751
    """
    identified = sum(police.offence_category_shares[c] * justice.suspect_identified_share[c]
                     for c in OFFENCE_CATEGORIES)
    out_of_court = justice.youth_out_of_court_share
    sanctioned = out_of_court + (1 - out_of_court) * justice.conviction_given_charge_share
    return (identified * justice.arrest_given_suspect_share
            * justice.youth_formal_outcome_given_arrest_share * sanctioned)


class JusticeResponse(Process):
    """Arrests, charges, convictions, custody, releases; victims; safeguarding notifications."""

    name = "justice"

    def __init__(self, model: EarlyActionModel):
        super().__init__(model)
        self.release = self.person_clock(model, salt=80)

    def step(self, model: EarlyActionModel) -> None:
        """Respond to this month's incidents."""
        released = self._releases(model)
        incidents = model.month_events.incidents
        custody = self._crime_response(model, incidents)
        # children see a parent go to prison (or come home) from this month on
        update_custody_counts(model.population, custody, released)
        self._victims(model, incidents)
        self._notifications(model, incidents)

    def _releases(self, model: EarlyActionModel) -> np.ndarray:
        p = model.people
        inside = kernels_agencies.flagged_both(p.in_custody[: p.count], p.alive[: p.count])
        j = model.scenario.justice
        # children have their own mean time in youth custody; a child turning 18 inside is
        # released at the adults' rate from then on
        child = p.age_months[inside] < ADULT_MONTHS
        hazard = np.where(child, 1.0 / j.youth_custody_months_served_mean,
                          1.0 / j.custody_months_served_mean)
        released = inside[self.release.advance(inside, hazard) > 0]
        p.in_custody[released] = False
        return released

    def _crime_response(self, model: EarlyActionModel, incidents) -> np.ndarray:
        p, h, j, rec = model.people, model.households, model.scenario.justice, model.recorder
        is_crime = (incidents.category < len(CRIME_INCIDENT_CATEGORIES)) & (incidents.offender >= 0)
        offenders = incidents.offender[is_crime]
        category = incidents.category[is_crime]
        serial = incidents.serial[is_crime]
        if offenders.size == 0:
            return offenders
        alive = p.alive[offenders] & ~p.in_custody[offenders]
        offenders, category, serial = offenders[alive], category[alive], serial[alive]
        # one uniform per stage per offence, keyed by the offender and the offence's own event
        # number and category: the draws of one offence never depend on other offences
        key = serial.astype(np.uint64) * np.uint64(16) + category.astype(np.uint64)
        # (u4: whether an arrested child's case gets a formal outcome, salt 94)
        u = [self.stream.uniform(offenders, key, salt=90 + s) for s in range(5)]
        identified = np.array([j.suspect_identified_share[c] for c in CRIME_INCIDENT_CATEGORIES])
        arrested = (u[0] < identified[category]) & (
            u[1] < j.arrest_given_suspect_share * model.modifiers.rr("arrest", offenders))
        who, cat = offenders[arrested], category[arrested]
        u2, u3, u4 = u[2][arrested], u[3][arrested], u[4][arrested]
        # one arrest per person per month: keep the first offence
        who, first = np.unique(who, return_index=True)
        cat, u2, u3, u4 = cat[first], u2[first], u3[first], u4[first]
        dwelling = p.household[who]
        p.arrests[who] += 1
        rec.count("arrests", dwelling)
        hours = model.scenario.police.officer_hours_per_arrest
        rec.count("officer_hours", dwelling, np.full(who.size, hours))
        child = p.age_months[who] < ADULT_MONTHS
        rec.count("arrests_children", dwelling[child])
        model.log_people_events("arrest", who)

        # children: most arrests end in no further action or an informal resolution (no
        # sanction); the others get a formal outcome, out of court or a charge, and an
        # out-of-court disposal or a conviction counts as a sanction
        youth = who[child]
        formal = u4[child] < j.youth_formal_outcome_given_arrest_share
        youth, u2_child, u3_child = youth[formal], u2[child][formal], u3[child][formal]
        # children diverted from prosecution (an intervention) are neither charged nor counted
        # as entering the youth justice system; they are dealt with, so their reoffending
        # follows the sanction rule, scaled by the diversion's reoffending relative risk
        diversion = model.modifiers.share("youth_diversion", youth)
        diverted = self.stream.uniform(youth, p.arrests[youth], salt=98) < diversion
        if diverted.any():
            model.on_youth_diverted(youth[diverted])
            p.last_sanction_month[youth[diverted]] = model.month
            youth, u2_child, u3_child = youth[~diverted], u2_child[~diverted], u3_child[~diverted]
        out_of_court = u2_child < j.youth_out_of_court_share * model.modifiers.rr(
            "youth_out_of_court", youth)
        youth_charged = youth[~out_of_court]
        youth_convicted = youth_charged[u3_child[~out_of_court] < j.conviction_given_charge_share]
        rec.count("youth_out_of_court", p.household[youth[out_of_court]])
        rec.count("youth_charges", p.household[youth_charged])
        sanctioned_youth = np.concatenate([youth[out_of_court], youth_convicted])
        first_time = sanctioned_youth[~p.youth_justice_entered[sanctioned_youth]]
        p.youth_justice_entered[first_time] = True
        rec.count("youth_justice_first_entrants", p.household[first_time])
        model.month_events.youth_sanctioned = sanctioned_youth

        # adults: charge, conviction, custody
        adult = who[~child]
        adult_cat = cat[~child]
        ua, ub = u2[~child], u3[~child]
        charged = ua < j.charge_given_arrest_share
        rec.count("charges", p.household[adult[charged]])
        # adults with many ACEs screened by liaison and diversion in custody (an intervention)
        liaison = model.modifiers.share("custody_liaison", adult)
        if not isinstance(liaison, float) or liaison > 0:
            supported = self.stream.uniform(adult, p.arrests[adult], salt=99) < liaison
            model.on_custody_liaison(adult[supported])
        convicted = charged & (ub < j.conviction_given_charge_share)
        convicted_adults = adult[convicted]
        rec.count("convictions", p.household[convicted_adults])
        # custody: a fresh uniform, keyed by the person's conviction count
        custody_base = np.array([j.custody_given_conviction_share[c]
                                 for c in CRIME_INCIDENT_CATEGORIES])
        prior = np.minimum(p.convictions[convicted_adults], PRIOR_CONVICTION_CAP)
        share = np.minimum(1.0, custody_base[adult_cat[convicted]]
                           * j.custody_prior_conviction_rr ** prior)
        uc = self.stream.uniform(convicted_adults, p.convictions[convicted_adults], salt=95)
        to_custody = convicted_adults[uc < share * model.modifiers.rr("custody", convicted_adults)]
        p.convictions[convicted_adults] += 1
        uy = self.stream.uniform(youth_convicted, p.convictions[youth_convicted], salt=96)
        youth_custody = youth_convicted[uy < j.youth_custody_given_conviction_share]
        p.convictions[youth_convicted] += 1
        sanctioned = np.concatenate([sanctioned_youth, convicted_adults])
        p.last_sanction_month[sanctioned] = model.month
        custody = np.concatenate([to_custody, youth_custody])
        p.in_custody[custody] = True
        p.custody_sentences[custody] += 1
        rec.count("custody_sentences", p.household[custody])
        parents = _parents_at_home(p, h, to_custody)
        rec.count("parents_sent_to_custody", p.household[parents])
        model.log_people_events("custody", to_custody)
        model.log_people_events("custody", youth_custody, detail="youth custody")
        return custody

    def _victims(self, model: EarlyActionModel, incidents) -> None:
        p, rec = model.people, model.recorder
        violent = _VICTIM_CATEGORY[incidents.category]
        victims = incidents.person[violent & (incidents.person >= 0)]
        victims = victims[p.alive[victims]]
        last = p.last_victim_month[victims].astype(np.int32)
        # victimised in the 12 months before, or earlier this month (a second victimisation
        # of the same month is a repeat too)
        earlier_this_month = np.ones(victims.size, bool)
        earlier_this_month[np.unique(victims, return_index=True)[1]] = False
        repeat = ((last != NO_MONTH) & (model.month - last <= 12)) | earlier_this_month
        rec.count("violence_victimisations", p.household[victims])
        rec.count("repeat_victimisations", p.household[victims[repeat]])
        kernels_agencies.add_one_each(p.victimisations, victims)
        p.last_victim_month[victims] = model.month

    def _notifications(self, model: EarlyActionModel, incidents) -> None:
        h, rec = model.households, model.recorder
        shares = model.scenario.social_care.notification_share
        share = np.zeros(len(INCIDENT_CATEGORIES))
        for category, value in shares.items():
            share[CATEGORY_INDEX[category]] = value
        with_children = h.n_children[incidents.dwelling] > 0
        # a missing child is a notification about their own household
        candidates = np.flatnonzero(with_children & (share[incidents.category] > 0))
        # keyed by dwelling, the incident's own event number and its category
        key = (incidents.serial[candidates].astype(np.uint64) * np.uint64(32)
               + incidents.category[candidates].astype(np.uint64))
        u = self.stream.uniform(incidents.dwelling[candidates], key, salt=97)
        notified = candidates[u < share[incidents.category[candidates]]]
        dwellings = incidents.dwelling[notified]
        categories = incidents.category[notified]
        rec.count("safeguarding_notifications", dwellings)
        model.month_events.notifications = dwellings
        model.month_events.notification_category = categories
        for intervention in model.interventions:
            intervention.after_notifications(model, dwellings, categories)


def _parents_at_home(p, h, adults: np.ndarray) -> np.ndarray:
    """The adults among ``adults`` who live with children as parents.

    A householder (not an adult child) in a home with children counts; an adult child at home
    counts only when a child of their own lives there too (a young mother at her parents'; the
    model links children to their mothers only, so a young father there is not counted).
    """
    home = adults[h.n_children[p.household[adults]] > 0]
    adult_child = p.lives_with_parents[home]
    parents = home[~adult_child]
    maybe = home[adult_child & p.female[home]]  # rare: the scan below is over everyone
    if maybe.size == 0:
        return parents
    n = p.count
    kids = np.flatnonzero(np.isin(p.mother[:n], maybe) & p.alive[:n]
                          & (p.age_months[:n] < ADULT_MONTHS))
    with_mother = kids[p.household[kids] == p.household[p.mother[kids]]]
    return np.concatenate([parents, maybe[np.isin(maybe, p.mother[with_mother])]])
