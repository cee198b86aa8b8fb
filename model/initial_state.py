"""Children's histories at the start: ACEs already gained, care and protection plans.

The 18 years before the start are replayed for the households of today's children with the
model's own adversity and maltreatment hazards (:func:`simulate_childhoods`), so that the
children's ACE histories cluster as the monthly dynamics make them cluster. Parental
incarceration in the past uses the rate implied by the Welsh ACE Study (5 % by 18).
Looked-after children and child protection plans start at their published rates, given to the
children most at risk. Adults get past convictions, and children of 10-17 a youth-justice past,
from their offending propensity.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from model import kernels_demography as kd
from model.parameters import ADVERSITY_STATES, MALTREATMENT_TYPES
from model.population import ACE_BIT, ace_count, ace_powers
from model.processes.aces import STATE_ACE
from model.processes.adversity import base_onset_rr, stationary_share
from model.processes.justice import youth_sanctions_per_offence
from model.processes.police import offending_age_sex_rr
from model.reference import wales_reference
from model.rng import ProcessStream
from model.threads import over_ids

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel

CHILDHOOD_MONTHS = 18 * 12
YOUTH_MONTHS = 10 * 12
"""The age of criminal responsibility in England and Wales (10), in months."""
RECENT_MONTHS = 12

PAST_PARENT_INCARCERATION_PER_MONTH = (
    -np.log(1 - wales_reference()["adult_aces"]["type_prevalence"]["incarceration"]) / 216)
"""Derived: the share of Welsh adults who had a household member incarcerated in childhood
(``model/data/wales.yaml``, 5 %: Welsh ACE Study), spread evenly over 216 months of
childhood."""


def initialise_children(model: EarlyActionModel, stream: ProcessStream) -> None:
    """Give the children at the start their ACE histories, care and protection plans."""
    p, h, scenario = model.people, model.households, model.scenario
    n = p.count
    children = np.flatnonzero(p.alive[:n] & (p.age_months[:n] < CHILDHOOD_MONTHS))
    dwelling = p.household[children]
    aces, recent = simulate_childhoods(model, children, stream)
    months_at_risk = p.age_months[children].astype(float)
    prison = stream.uniform(children, 0, salt=210) < 1 - np.exp(
        -PAST_PARENT_INCARCERATION_PER_MONTH * months_at_risk)
    aces[prison] |= ACE_BIT["incarceration"]
    # children of lone parents: separation, more likely where the family knew adversity
    lone_parent = h.n_adults[dwelling] == 1
    household_bits = np.uint16(sum(ACE_BIT[STATE_ACE[s]] for s in ADVERSITY_STATES))
    weight = np.where(aces & household_bits, scenario.adversity.separation_adversity_rr, 1.0)
    mean_weight = weight[lone_parent].mean() if lone_parent.any() else 1.0
    chance = scenario.adversity.lone_parent_child_separation_share * weight / mean_weight
    separated = lone_parent & (stream.uniform(children, 0, salt=211) < chance)
    aces[separated] |= ACE_BIT["parental_separation"]
    p.aces[children] = aces
    p.last_maltreated_month[children[recent]] = model.month - 1
    initialise_prior_convictions(model, stream)
    initialise_youth_justice_history(model, stream)

    # a trusted adult is less likely the more ACEs a child has
    pop = scenario.population
    logit = np.log(pop.trusted_adult_share / (1 - pop.trusted_adult_share))
    count = ace_count(aces)
    chance = 1 / (1 + np.exp(-(logit + np.log(pop.trusted_adult_ace_or) * count)))
    p.trusted_adult[children] = stream.uniform(children, 0, salt=240) < chance

    # looked-after children and protection plans at their published rates, most at risk first
    sc = scenario.social_care
    risk = (count + sc.start_care_recent_maltreatment_weight * recent
            + stream.uniform(children, 0, salt=241))
    order = children[np.argsort(-risk, kind="stable")]
    n_care = int(round(children.size * sc.looked_after_per_10k_children_at_start / 1e4))
    n_plan = int(round(children.size * sc.protection_plan_per_10k_children_at_start / 1e4))
    p.looked_after[order[:n_care]] = True
    p.protection_plan_months_left[order[n_care: n_care + n_plan]] = round(sc.protection_plan_months)


DRAW_AHEAD_MIN_VALUES = 500_000
"""Draw a month's uniforms while the previous month is replayed from this many on (at 1:1
about 2.2 million a month; at 1:20 the hand-over would cost what the overlap saves)."""


@contextmanager
def _monthly_uniforms(generator: np.random.Generator, size: int, months: int
                      ) -> Iterator[Iterator[np.ndarray]]:
    """The replay's uniforms: ``months`` arrays of ``size``, in the generator's order.

    For large populations a helper thread draws the next month's numbers while the caller
    replays this month (NumPy releases the GIL while it fills an array). There is one
    generator, drawn from one thread at a time, in the same order and exactly ``months``
    times, so the numbers, and whatever is drawn after them, are the same.
    """
    def draw() -> np.ndarray:
        return generator.random(size, dtype=np.float32)

    if size < DRAW_AHEAD_MIN_VALUES:
        yield (draw() for _ in range(months))
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eat-draw") as drawer:
        def ahead() -> Iterator[np.ndarray]:
            pending = drawer.submit(draw)
            for month in range(months):
                current = pending.result()
                if month + 1 < months:
                    pending = drawer.submit(draw)
                yield current

        yield ahead()


def simulate_childhoods(model: EarlyActionModel, children: np.ndarray, stream: ProcessStream
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Replay the 18 years before the start for the households of today's children.

    Each such household starts 18 years back at its stationary adversity states and then
    follows the monthly adversity hazards of the model (deprivation, parents' ACEs,
    co-occurrence; peers and interventions are left out). A child is exposed from its birth
    month on: it has a household ACE if the state was active in any month since its birth, and
    each maltreatment type with probability ``1 - exp(-sum of its monthly hazards)``. The
    households' states at the end of the replay become their states at the start, so today's
    states and the children's histories agree.

    Returns:
        The children's ACE bitmasks (household and maltreatment types) and whether each was
        maltreated in the last 12 months.
    """
    p, h, scenario = model.people, model.households, model.scenario
    a, m = scenario.adversity, scenario.maltreatment
    generator = stream.generator
    families, child_family = np.unique(p.household[children], return_inverse=True)
    rr = base_onset_rr(h, a)[families]
    onset = np.stack([a.onset_per_month[s] * rr for s in ADVERSITY_STATES], axis=1)
    duration = np.array([a.mean_duration_months[s] for s in ADVERSITY_STATES])
    p_end = 1 - np.exp(-1.0 / duration)
    active = generator.random(onset.shape) < stationary_share(onset, duration[None, :])
    born_at = CHILDHOOD_MONTHS - p.age_months[children].astype(np.int64)
    newborn_order = np.argsort(born_at, kind="stable")
    newborn_bounds = np.searchsorted(born_at[newborn_order], np.arange(CHILDHOOD_MONTHS + 1))
    n_states = len(ADVERSITY_STATES)
    states = np.ascontiguousarray(active)
    last_active = np.full(states.shape, -1, np.int16)
    # cumulative maltreatment relative risk of each family, and its value at each child's birth
    family_rr = (np.asarray(m.deprivation_rr)[h.deprivation[families]]
                 * np.where(h.adult_maltreated[families], m.parent_maltreated_rr, 1.0))
    co_occurrence = a.co_occurrence_rr ** np.arange(n_states + 1)
    maltreatment_by_states = m.adversity_rr_per_state ** np.arange(n_states + 1)
    cumulative = np.zeros(families.size)
    at_birth = np.zeros(children.size)
    at_recent = np.zeros(families.size)
    onset = np.ascontiguousarray(onset)
    # one uniform per family and state and month (float32: the same numbers as one draw per
    # state); hazards are small, so a hazard serves as the month's probability
    with _monthly_uniforms(generator, n_states * families.size, CHILDHOOD_MONTHS) as uniforms:
        for month in range(CHILDHOOD_MONTHS):
            born = newborn_order[newborn_bounds[month]: newborn_bounds[month + 1]]
            at_birth[born] = cumulative[child_family[born]]
            if month == CHILDHOOD_MONTHS - RECENT_MONTHS:
                at_recent = cumulative.copy()
            u = next(uniforms)
            over_ids(kd.replay_adversity_month, families.size, month,
                     u.reshape(n_states, families.size), states, last_active, onset, p_end,
                     co_occurrence, family_rr, maltreatment_by_states, cumulative)
    active = states
    state_bits = np.array([ACE_BIT[STATE_ACE[s]] for s in ADVERSITY_STATES], np.uint16)
    exposed = last_active[child_family] >= born_at[:, None]
    aces = (exposed * state_bits).sum(axis=1).astype(np.uint16)
    lifetime = cumulative[child_family] - at_birth
    recent_sum = cumulative[child_family] - np.maximum(at_recent[child_family], at_birth)
    recent = np.zeros(children.size, bool)
    for k, kind in enumerate(MALTREATMENT_TYPES):
        base = m.onset_per_child_month[kind]
        u = generator.random(children.size)
        has = u < 1 - np.exp(-base * lifetime)
        aces[has] |= np.uint16(1 << k)
        # maltreated in the last 12 months: the same draw, against the recent share of hazard
        recent |= u < 1 - np.exp(-base * recent_sum)
    h.adversity[families] = active
    return aces, recent


def initialise_youth_justice_history(model: EarlyActionModel, stream: ProcessStream) -> None:
    """Mark the children aged 10-17 at the start who entered the youth justice system before it.

    Without a past, a child who was cautioned or convicted before the start would count as a
    first-time entrant at their next sanction (the 24-month warm-up hides most of it: 1 % of
    year 1's entrants at 1:2). Each child has entered with
    chance ``1 - exp(-H)``: ``H`` is their offending hazard summed over the months since their
    10th birthday (the age and sex profile month by month, their ACEs and their dwelling's
    deprivation as at the start, no recent-sanction multiplier) times the chance that a
    child's offence ends in a sanction (:func:`youth_sanctions_per_offence`). Derived from the
    model's own parameters: no new number. Keyed draws (salt 212): nothing else changes.
    """
    p, h, police = model.people, model.households, model.scenario.police
    n = p.count
    age = p.age_months[:n].astype(np.int64)
    children = np.flatnonzero(p.alive[:n] & (age >= YOUTH_MONTHS) & (age < CHILDHOOD_MONTHS))
    if children.size == 0:
        return
    # the offending age-sex factor summed over the months aged 10 up to the start, by sex
    by_age_sex = offending_age_sex_rr(police).reshape(-1, 2)
    summed = np.cumsum(by_age_sex, axis=0)
    age, female = age[children], p.female[children].astype(np.int64)
    past = summed[age - 1, female] - summed[YOUTH_MONTHS - 1, female]
    hazard = (police.offending_per_person_month * past
              * ace_powers(police.offending_ace_rr_per_ace)[ace_count(p.aces[children])]
              * np.asarray(police.offending_deprivation_rr)[
                  h.deprivation[p.household[children]]] * p.offending_frailty[children]
              * youth_sanctions_per_offence(police, model.scenario.justice))
    entered = stream.uniform(children, 0, salt=212) < -np.expm1(-hazard)
    p.youth_justice_entered[children[entered]] = True


def initialise_prior_convictions(model: EarlyActionModel, stream: ProcessStream) -> None:
    """Past convictions of the adults at the start, in proportion to offending propensity.

    Each adult's mean is ``prior_convictions_per_adult_at_start`` times their offending
    relative risk at age 18-24 (sex, ACEs, deprivation) over the adults' average; counts are
    Poisson. Prior convictions raise the chance of custody (custody_prior_conviction_rr).
    """
    p, h, scenario = model.people, model.households, model.scenario
    n = p.count
    adults = np.flatnonzero(p.alive[:n] & (p.age_months[:n] >= CHILDHOOD_MONTHS))
    police = scenario.police
    propensity = (np.where(p.female[adults], police.offending_female_rr, 1.0)
                  * ace_powers(police.offending_ace_rr_per_ace)[ace_count(p.aces[adults])]
                  * np.asarray(police.offending_deprivation_rr)[h.deprivation[p.household[adults]]]
                  * p.offending_frailty[adults])
    mean = scenario.justice.prior_convictions_per_adult_at_start * propensity / propensity.mean()
    p.convictions[adults] = np.minimum(stream.generator.poisson(mean), 50)
