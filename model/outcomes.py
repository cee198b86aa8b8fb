"""Outcomes for people that are computed from their state, not simulated month by month."""

from __future__ import annotations

import numpy as np

from model.parameters import WellbeingParams

ACE_DOSE_CAP = 4


def low_wellbeing_probability(ace_count: np.ndarray, trusted_adult: np.ndarray,
                              p: WellbeingParams) -> np.ndarray:
    """Chance of low mental well-being in young adulthood.

    Log-odds rise linearly with the ACE count up to 4, by the published 4+ vs 0 odds ratio of
    those with or without a trusted adult in childhood; with no ACEs the chance is the
    published share.
    """
    base = np.log(p.low_wellbeing_share_no_aces / (1 - p.low_wellbeing_share_no_aces))
    per_ace = np.where(trusted_adult, np.log(p.low_wellbeing_or_4plus_with_trusted_adult),
                       np.log(p.low_wellbeing_or_4plus_without_trusted_adult)) / ACE_DOSE_CAP
    logit = base + per_ace * np.minimum(ace_count, ACE_DOSE_CAP)
    return 1.0 / (1.0 + np.exp(-logit))
