"""Children's histories at the start: ACEs already gained, care and protection plans.

A child aged ``a`` months at the start has been at risk for ``a`` months. For each household
state the child has the matching ACE if the state is active now, or otherwise with probability
``1 - exp(-onset hazard x a)``, with the onset hazard the monthly process would give the
household now (docs/ODD.md, initialisation). Maltreatment uses the maltreatment hazards the same way; parental incarceration
in the past uses the rate implied by the Welsh ACE Study (5 % by 18). Looked-after children and
child protection plans start at their published rates, given to the children most at risk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.parameters import ADVERSITY_STATES, MALTREATMENT_TYPES
from model.population import ACE_BIT, ace_count
from model.processes.aces import STATE_ACE
from model.processes.adversity import base_onset_rr
from model.processes.maltreatment import maltreatment_rr
from model.rng import ProcessStream

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel

PAST_PARENT_INCARCERATION_PER_MONTH = -np.log(1 - 0.05) / 216
"""Derived: 5 % of Welsh adults had a household member incarcerated in childhood (Welsh ACE
Study), spread evenly over 216 months of childhood."""


def initialise_children(model: EarlyActionModel, stream: ProcessStream) -> None:
    """Give the children at the start their ACE histories, care and protection plans."""
    p, h, scenario = model.people, model.households, model.scenario
    n = p.count
    children = np.flatnonzero(p.alive[:n] & (p.age_months[:n] < 216))
    dwelling = p.household[children]
    months_at_risk = p.age_months[children].astype(float)
    a = scenario.adversity
    rr = base_onset_rr(h, a)[dwelling]
    shares = model.network.neighbour_shares(h.adversity, h.occupied)[dwelling]
    n_active = h.adversity[dwelling].sum(axis=1)
    aces = np.zeros(children.size, np.uint16)
    for k, state in enumerate(ADVERSITY_STATES):
        others = n_active - h.adversity[dwelling, k]
        onset = (a.onset_per_month[state] * rr * a.co_occurrence_rr ** others
                 * (1.0 + a.peer_effect * shares[:, k]))
        past = stream.uniform(children, 0, salt=200 + k) < 1 - np.exp(-onset * months_at_risk)
        has = h.adversity[dwelling, k] | past
        aces[has] |= ACE_BIT[STATE_ACE[state]]
    prison = stream.uniform(children, 0, salt=210) < 1 - np.exp(
        -PAST_PARENT_INCARCERATION_PER_MONTH * months_at_risk)
    aces[prison] |= ACE_BIT["incarceration"]
    lone_parent = (h.n_adults[dwelling] == 1)
    separated = lone_parent & (stream.uniform(children, 0, salt=211)
                               < scenario.adversity.lone_parent_child_separation_share)
    aces[separated] |= ACE_BIT["parental_separation"]
    m_rr = maltreatment_rr(children, p, h, scenario.maltreatment)
    recent = np.zeros(children.size, bool)
    for k, kind in enumerate(MALTREATMENT_TYPES):
        hazard = scenario.maltreatment.onset_per_child_month[kind] * m_rr
        has = stream.uniform(children, 0, salt=220 + k) < 1 - np.exp(-hazard * months_at_risk)
        aces[has] |= np.uint16(1 << k)
        # maltreated within the last 12 months, given maltreated at all
        recent |= has & (stream.uniform(children, 0, salt=230 + k)
                         < np.minimum(1.0, 12.0 / np.maximum(months_at_risk, 1.0)))
    p.aces[children] = aces
    p.last_maltreated_month[children[recent]] = model.month - 1

    # a trusted adult is less likely the more ACEs a child has
    pop = scenario.population
    logit = np.log(pop.trusted_adult_share / (1 - pop.trusted_adult_share))
    count = ace_count(aces)
    chance = 1 / (1 + np.exp(-(logit + np.log(pop.trusted_adult_ace_or) * count)))
    p.trusted_adult[children] = stream.uniform(children, 0, salt=240) < chance

    # looked-after children and protection plans at their published rates, most at risk first
    sc = scenario.social_care
    risk = count + 3.0 * recent + stream.uniform(children, 0, salt=241)
    order = children[np.argsort(-risk, kind="stable")]
    n_care = int(round(children.size * sc.looked_after_per_10k_children_at_start / 1e4))
    n_plan = int(round(children.size * sc.protection_plan_per_10k_children_at_start / 1e4))
    p.looked_after[order[:n_care]] = True
    p.protection_plan_months_left[order[n_care: n_care + n_plan]] = round(sc.protection_plan_months)
