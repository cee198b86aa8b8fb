"""Fit the latent-liability model of adult ACEs to the Welsh ACE Study count distribution.

The model (model/data/wales.yaml, ``adult_aces``): each of the nine ACE types occurs when
``sqrt(loading) * Z + sqrt(1 - loading) * e_type > threshold_type``, with ``Z`` drawn from
N(0, 1) for most adults and from N(class_shift, 1) for a share ``class_share`` (a
"high-adversity childhood" class). Thresholds keep each type at its published prevalence, so
the three free constants only shape co-occurrence; they are fitted to the published count
distribution (0 ACEs 53 %, 4+ 14 %, and 1 ACE about 20 %).

Run ``python calibration/adult_ace_model.py`` to refit; it prints the constants to copy into
model/data/wales.yaml and the distribution they give.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, minimize
from scipy.stats import norm

from model.parameters import ACE_TYPES
from model.reference import wales_reference

NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(60)
WEIGHTS = WEIGHTS / WEIGHTS.sum()


def _mixture(share: float, shift: float) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([NODES, NODES + shift]),
            np.concatenate([WEIGHTS * (1 - share), WEIGHTS * share]))


def count_distribution(loading: float, share: float, shift: float,
                       prevalence: np.ndarray) -> np.ndarray:
    """P(0..9 ACEs) under the model, thresholds solved for the given type prevalences."""
    nodes, weights = _mixture(share, shift)

    def marginal(threshold: float) -> float:
        z = (threshold - np.sqrt(loading) * nodes) / np.sqrt(1 - loading)
        return float((weights * norm.sf(z)).sum())

    thresholds = np.array([brentq(lambda t, p=p: marginal(t) - p, -6, 10) for p in prevalence])
    out = np.zeros(len(prevalence) + 1)
    for z, w in zip(nodes, weights, strict=True):
        q = norm.sf((thresholds - np.sqrt(loading) * z) / np.sqrt(1 - loading))
        dist = np.zeros(len(prevalence) + 1)
        dist[0] = 1.0
        for qi in q:
            dist[1:] = dist[1:] * (1 - qi) + dist[:-1] * qi
            dist[0] *= 1 - qi
        out += w * dist
    return out


def fit() -> tuple[float, float, float]:
    """Least-squares fit of (loading, class share, class shift) to the published counts."""
    ref = wales_reference()["adult_aces"]
    prevalence = np.array([ref["type_prevalence"][t] for t in ACE_TYPES])
    target = ref["count_distribution"]

    def loss(x: np.ndarray) -> float:
        loading, share, shift = x
        if not (0.05 < loading < 0.95 and 0.01 < share < 0.5 and 0 < shift <= 4):
            return 10.0
        d = count_distribution(loading, share, shift, prevalence)
        return ((d[0] - target["0"]) ** 2 + (d[4:].sum() - target["4+"]) ** 2
                + 0.2 * (d[1] - target["1"]) ** 2)

    best = minimize(loss, np.array([0.5, 0.15, 1.5]), method="Nelder-Mead",
                    options={"maxiter": 300})
    return tuple(float(v) for v in best.x)


if __name__ == "__main__":
    loading, share, shift = fit()
    ref = wales_reference()["adult_aces"]
    prevalence = np.array([ref["type_prevalence"][t] for t in ACE_TYPES])
    d = count_distribution(loading, share, shift, prevalence)
    print(f"latent_loading: {loading:.4f}\nlatent_class_share: {share:.4f}\n"
          f"latent_class_shift: {min(shift, 4.0):.1f}")
    print(f"gives 0: {d[0]:.3f}, 1: {d[1]:.3f}, 2-3: {d[2:4].sum():.3f}, 4+: {d[4:].sum():.3f}")
