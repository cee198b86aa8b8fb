"""Step 2, household adversity: domestic abuse, parental mental illness, alcohol and drug misuse.

Each state switches on with a monthly hazard and off after a spell whose mean length is a
parameter. The onset hazard is, as in docs/ODD.md:

    onset = onset_per_month[state]
            x deprivation_rr[quintile]
            x parent_ace_rr_per_ace ^ min(most affected adult's ACE count, 6)
            x co_occurrence_rr ^ (other states active)
            x (1 + peer_effect x share of network neighbours in the state)
            x intervention relative risks
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import kernels, kernels_people
from model.parameters import ADVERSITY_STATES, AdversityParams
from model.population import Households
from model.processes import Process
from model.rng import HazardClocks
from model.threads import over_ids

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel

PARENT_ACE_CAP = 6
INITIAL_PASSES = 4


def base_onset_rr(households: Households, p: AdversityParams) -> np.ndarray:
    """Deprivation and intergenerational (parents' ACEs) multipliers per dwelling."""
    deprivation_rr = np.asarray(p.deprivation_rr)[households.deprivation]
    parent_aces = np.minimum(households.max_adult_aces, PARENT_ACE_CAP)
    return deprivation_rr * _parent_powers(p, parent_aces.dtype)[np.maximum(parent_aces, 0)]


def _parent_powers(p: AdversityParams, dtype: np.dtype) -> np.ndarray:
    """The intergenerational factor by parents' ACEs (capped at :data:`PARENT_ACE_CAP`).

    A table of the powers: the same values as the power per dwelling, without a pow call each.
    """
    return p.parent_ace_rr_per_ace ** np.arange(PARENT_ACE_CAP + 1, dtype=dtype)


def stationary_share(onset: np.ndarray, mean_duration_months: float) -> np.ndarray:
    """Long-run share of time in a state with the given onset hazard and mean spell length."""
    ending = 1.0 / mean_duration_months
    return onset / (onset + ending)


class HouseholdAdversity(Process):
    """Onset and ending of the four household adversity states."""

    name = "adversity"

    def __init__(self, model: EarlyActionModel):
        super().__init__(model)
        n = model.households.size
        states = range(len(ADVERSITY_STATES))
        self.onset = [HazardClocks(self.stream, n, salt=10 + k) for k in states]
        self.ending = [HazardClocks(self.stream, n, salt=20 + k) for k in states]

    def initialise(self, model: EarlyActionModel) -> None:
        """Start each occupied household in each state near the model's long-run share.

        The stationary share of a state depends on the household's other states
        (co-occurrence) and on its neighbours (peer effect), so the draw is repeated a few
        times with the same uniforms, each time using the states of the previous pass.
        """
        h, p = model.households, model.scenario.adversity
        rr = base_onset_rr(h, p)
        occupied = np.flatnonzero(h.occupied & (h.n_adults > 0))
        u = np.column_stack([self.stream.uniform(occupied, 0, salt=30 + k)
                             for k in range(len(ADVERSITY_STATES))])
        # onset = rate x rr x co-occurrence ** others x (1 + peer x share), on where u is below
        # the stationary share (stationary_share), dwelling by dwelling in a compiled pass
        onset_rate = np.array([p.onset_per_month[s] for s in ADVERSITY_STATES], np.float64)
        ending = np.array([1.0 / p.mean_duration_months[s] for s in ADVERSITY_STATES])
        co_occurrence = p.co_occurrence_rr ** np.arange(len(ADVERSITY_STATES), dtype=np.int64)
        for _ in range(INITIAL_PASSES):
            shares = model.network.neighbour_share_matrix(h.adversity, h.occupied)
            over_ids(kernels_people.initial_states_pass, occupied.size, occupied, u, rr,
                     shares, h.adversity, onset_rate, co_occurrence, np.float32(p.peer_effect),
                     ending)

    def step(self, model: EarlyActionModel) -> None:
        """Switch states on and off for this month.

        Onsets are computed on contiguous vectors over all dwellings (0 where not at risk):
        most occupied dwellings are at risk of each onset, so this is cheaper than gathering
        them; spells (a few per cent of dwellings) use their ids.
        """
        h, p = model.households, model.scenario.adversity
        shares = model.network.neighbour_share_columns(h.adversity, h.occupied)
        if h.adversity.shape[1] == 4 and h.adversity.flags.c_contiguous:
            # at risk, base_onset_rr and the co-occurrence factor in one pass (same values)
            at_risk = np.empty(h.size, bool)
            rr = np.empty(h.size, np.float64)
            co_occurrence = np.empty(h.size, np.float64)
            over_ids(
                kernels_people.adversity_onset_factors, h.size, h.occupied, h.n_adults,
                h.deprivation, np.asarray(p.deprivation_rr),
                h.max_adult_aces, PARENT_ACE_CAP, _parent_powers(p, h.max_adult_aces.dtype),
                h.adversity.view(np.uint32).ravel(), p.co_occurrence_rr ** np.arange(
                    len(ADVERSITY_STATES) + 1, dtype=np.int64), at_risk, rr, co_occurrence)
        else:
            at_risk = h.occupied & (h.n_adults > 0)
            co_occurrence = (p.co_occurrence_rr ** np.arange(
                len(ADVERSITY_STATES) + 1, dtype=np.int64))[active_state_count(h.adversity)]
            rr = base_onset_rr(h, p)
        ending_rr = float(model.scenario.early_help.adversity_ending_rr)
        peer = np.float32(p.peer_effect)  # as NumPy combines it with the float32 shares
        mods = model.modifiers
        shared: tuple[np.ndarray, np.ndarray] | None = None
        for k, state in enumerate(ADVERSITY_STATES):
            # onset x rr x co-occurrence x (1 + peer x share) x interventions for dwellings at
            # risk and not in the state, the ending clock (early help shortens spells) for
            # those in it: one fused pass. The interventions' factors depend on no adversity
            # state, so states with the same factors share one evaluation.
            hazard = f"onset.{state}"
            if shared is not None and mods.same_factors(hazard, f"onset.{ADVERSITY_STATES[0]}"):
                mod_ids, mod_values = shared
            else:
                mod_ids, mod_values = mods.sparse_rr(hazard, h.size)
                if k == 0:
                    shared = mod_ids, mod_values
            started, ended = over_ids(
                kernels.onset_and_ending, rr.size, self.onset[k].accumulated,
                self.onset[k].threshold,
                float(p.onset_per_month[state]), rr, co_occurrence, peer, shares[k], mod_ids,
                mod_values, at_risk, h.adversity, k, self.ending[k].accumulated,
                self.ending[k].threshold, h.early_help_months_left, ending_rr,
                float(p.mean_duration_months[state]))
            self.onset[k].finish(started)
            self.ending[k].finish(ended)
            h.adversity[started, k] = True
            h.adversity[ended, k] = False
            model.recorder.count(f"onsets_{state}", started)


def active_state_count(adversity: np.ndarray) -> np.ndarray:
    """Number of active adversity states per dwelling (row sums of the bool matrix)."""
    if adversity.shape[1] == 4 and adversity.flags.c_contiguous:
        # four bool bytes in one uint32: the top byte of x * 0x01010101 is their sum
        packed = adversity.view(np.uint32).ravel()
        return (packed * np.uint32(0x01010101)) >> np.uint32(24)
    return adversity.sum(axis=1)
