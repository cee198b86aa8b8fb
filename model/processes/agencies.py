"""Step 7, agencies take referrals.

Notifications are triaged into social care, other referrals and youth justice; counters of open
cases run down; looked-after children leave care.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import kernels_agencies
from model.population import NO_MONTH
from model.processes import Process
from model.recorder import N_CELLS, N_FORCE_AREAS, N_QUINTILES
from model.rng import per_event_counters
from model.services import AGENCY_TYPES, RECENT_MALTREATMENT_MONTHS
from model.threads import over_ids

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel

CHILD_MONTHS = 18 * 12
YOUTH_MONTHS = 10 * 12


class AgencyReferrals(Process):
    """Routes the month's events to the agencies of each force area, then steps them."""

    name = "agencies"

    def __init__(self, model: EarlyActionModel):
        super().__init__(model)
        self.other_referral = self.person_clock(model, salt=110)
        self.leave_care = self.person_clock(model, salt=111)

    def step(self, model: EarlyActionModel) -> None:
        """Run the agency step of the month."""
        p, h, sc = model.people, model.households, model.scenario.social_care
        events = model.month_events
        n = p.count
        alive = p.alive[:n]
        age = p.age_months[:n]

        # cases run down; who is in care, who was maltreated lately, agency statistics (one
        # pass over people and one over dwellings)
        in_care, maltreated, by_force = over_ids(
            kernels_agencies.agency_month_start, n, alive, age, p.looked_after[:n],
            p.last_maltreated_month[:n],
            p.protection_plan_months_left[:n], p.youth_justice_months_left[:n],
            model.person_view().cell, model.month, RECENT_MALTREATMENT_MONTHS, CHILD_MONTHS,
            YOUTH_MONTHS, int(NO_MONTH), N_CELLS, N_QUINTILES)
        by_cell = over_ids(
            kernels_agencies.dwelling_month_start, h.size, h.early_help_months_left,
            h.occupied, model.recorder.cell_of_dwelling, N_CELLS)
        open_early_help = by_cell[:, 0].reshape(N_FORCE_AREAS, N_QUINTILES).sum(axis=1)

        # looked-after children leave care
        left = in_care[self.leave_care.advance(
            in_care, np.full(in_care.size, 1.0 / sc.looked_after_mean_months)) > 0]
        p.looked_after[left] = False
        # children at home maltreated in the last 12 months (the month's snapshot)
        recent = maltreated[~p.looked_after[maltreated]]
        model.snapshot_recently_maltreated(recent)

        # police notifications: triage, then the assessment queue
        notified = events.notifications
        # one draw per notification (a family notified twice in a month has two chances)
        counters = per_event_counters(notified, model.month)
        u = self.stream.uniform(notified, counters, salt=112)
        # the relative risks are a pure function of the ids: computed once
        referral = sc.notification_referred_share * model.modifiers.rr(
            "notification_referral", notified)
        referred = notified[u < referral]
        screened_out, screened_out_counters = notified[u >= referral], counters[u >= referral]
        model.recorder.count("notifications_no_further_action", screened_out)
        force = h.force_area
        # trained officers refer families to early help; triage routes screened-out ones there
        to_early_help = []
        police_share = model.modifiers.share("early_help_referral_on_notification", notified)
        if not isinstance(police_share, float) or police_share > 0:
            by_police = notified[self.stream.uniform(notified, counters, salt=113)
                                 < police_share]
            model.recorder.count("early_help_referrals_police", by_police)
            hours = model.police_referral_hours()
            model.recorder.count("officer_hours_referrals", by_police,
                                 np.full(by_police.size, hours))
            model.recorder.count("officer_hours", by_police, np.full(by_police.size, hours))
            to_early_help.append(by_police)
        triage_share = model.modifiers.share("triage_to_early_help", screened_out)
        if not isinstance(triage_share, float) or triage_share > 0:
            routed = screened_out[self.stream.uniform(screened_out, screened_out_counters,
                                                      salt=114) < triage_share]
            model.recorder.count("notifications_routed_to_early_help", routed)
            to_early_help.append(routed)
        if to_early_help:
            families = np.unique(np.concatenate(to_early_help))
            for f in range(4):
                model.agency("early_help", f).receive(families[force[families] == f])
        for f in range(4):
            model.agency("social_care", f).receive(referred[force[referred] == f],
                                                   from_police=True)

        # referrals by schools, health and others for children maltreated in the last year
        hits = recent[self.other_referral.advance(
            recent, np.full(recent.size, sc.other_agency_referral_per_child_month)) > 0]
        dwellings = p.household[hits]
        for f in range(4):
            model.agency("social_care", f).receive(dwellings[force[dwellings] == f],
                                                   from_police=False)

        # sanctioned children go to the youth justice service
        youth = events.youth_sanctioned
        for f in range(4):
            model.agency("youth_justice", f).receive(youth[force[p.household[youth]] == f])

        model.set_agency_statistics(by_force, open_early_help, by_cell[:, 1])
        for cls in AGENCY_TYPES.values():
            model.agents_by_type[cls].do("step")
