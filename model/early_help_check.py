"""Does the modelled early help reproduce the evaluation it is anchored on?

The early-help effects (:class:`model.parameters.EarlyHelpParams`) are proxies taken from the
national evaluation of the whole-family key-worker programme (MHCLG 2019, in the reference
data): at 19-24 months, children looked after 1.7 % of treated families against 2.5 % of the
comparison group, adult custodial sentences 1.2 % against 1.6 %, juvenile custodial sentences
0.5 % against 0.8 %, juvenile convictions 3.9 % against 4.6 %. In the model they act on hazards
(adversity, maltreatment, offending), so what they do to those four outcomes is a result, not
an input. This module measures it, the way the evaluation did: the families early help reaches
(the council's places and, where a scenario adds them, the programme's), followed for 24
months, against the same families with support that changes nothing.

Design (per replicate): a model of the scenario is built and warmed up, and copied into a
counterfactual in which support changes no hazard
(:func:`model.branching.without_early_help_effects`): every early-help relative risk is 1.
Both arms start with the same state and random numbers and step month by month; they part as
effects act (so later, the queue and who starts when differ too). A family joins the cohort in
the month it starts early help in the arm with effects, if its dwelling has had no early-help
effects at any time before in the run (a fresh start: the two arms are still alike for it);
its members then are
the cohort (each person once, at their family's first start; people born after month 0 are left
out, since a person id means the same person in both arms only up to the copy). Over the next
``follow_months`` months, in each arm, the check counts who enters care (children under 18 not
looked after at the start), who is sentenced to custody (adults 18+; children 10-17) and who is
convicted (children 10-17). Only families whose whole follow-up lies within the run count.

The counts are outcomes *during* the follow-up, while the evaluation reports shares of the
two groups at 19-24 months; the comparison is of the ratios (treated / comparison), which
answer the question "does the modelled lever do to its families what the evidence says".

Example::

    from model.early_help_check import early_help_check, markdown
    print(markdown(early_help_check(scale=50, replicates=2)))
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.experiment import replicate_seeds
from model.numbers import checked_whole
from model.processes.agencies import CHILD_MONTHS, YOUTH_MONTHS
from model.scenario import Scenario, load_scenario

EVALUATION = {  # MHCLG 2019, at 19-24 months (reference data: intervention_evidence)
    "children_looked_after": (0.025, 0.017),
    "adults_custodial_sentence": (0.016, 0.012),
    "juveniles_custodial_sentence": (0.008, 0.005),
    "juvenile_convictions": (0.046, 0.039),
}
"""Per outcome, the evaluation's (comparison, treated) shares."""

OUTCOME_LABELS = {
    "children_looked_after": "children entering care (under 18)",
    "adults_custodial_sentence": "adults sentenced to custody (18+)",
    "juveniles_custodial_sentence": "children sentenced to custody (10-17)",
    "juvenile_convictions": "children convicted (10-17)",
}

class Cohort:
    """The families that start early help, followed in two arms of one model.

    ``arms`` are (without early help's effects, with them): objects with ``people``,
    ``households`` and ``month`` as :class:`model.simulation.EarlyActionModel` has, equal at
    the start. Call :meth:`after_month` after both arms have stepped through a month.

    Args:
        arms: the two arms.
        follow_months: months each family is followed after the month it starts.
        cohort_months: the months whose fresh starts join the cohort.
    """

    def __init__(self, arms: Sequence[Any], follow_months: int, cohort_months: range):
        self.arms = tuple(arms)
        self.follow_months = follow_months
        self.cohort_months = cohort_months
        helped = self.arms[1]
        self.shared = helped.people.count  # ids below this are the same people in both arms
        n = self.shared
        self.start = np.full(n, -1, np.int64)  # the month each person joined the cohort
        self.age0 = np.zeros(n, np.int64)
        self.in_care0 = np.zeros(n, bool)
        self.entered_care = [np.zeros(n, bool) for _ in self.arms]
        self._was_in_care = [a.people.looked_after[:n].copy() for a in self.arms]
        self.sentences = [[np.zeros(n, np.int64), np.zeros(n, np.int64)] for _ in self.arms]
        self.convictions = [[np.zeros(n, np.int64), np.zeros(n, np.int64)] for _ in self.arms]
        # dwellings with early-help effects at any time so far (from the warm-up on): a later
        # start there is not fresh, since the two arms already differ for that family
        self.touched = helped.households.early_help_until > helped.month
        self._until = helped.households.early_help_until.copy()

    def after_month(self, month: int) -> None:
        """Take in month ``month``, which both arms have just simulated."""
        helped, without = self.arms[1], self.arms[0]
        until = helped.households.early_help_until
        size = self._until.size
        started = np.flatnonzero((until[:size] != self._until) & (until[:size] > month))
        fresh = started[~self.touched[started]]
        self.touched[started] = True
        self._until = until.copy()
        if self.touched.size < until.size:  # dwellings added: none had effects
            self.touched = np.concatenate([self.touched,
                                           until[self.touched.size:] > month])
        n = self.shared
        if month in self.cohort_months and fresh.size:
            hp, bp = helped.people, without.people
            members = np.flatnonzero(np.isin(hp.household[:n], fresh) & (self.start < 0)
                                     & hp.alive[:n] & bp.alive[:n])
            self.start[members] = month
            self.age0[members] = hp.age_months[members]
            self.in_care0[members] = hp.looked_after[members] | bp.looked_after[members]
            for k, arm in enumerate(self.arms):
                self.sentences[k][0][members] = arm.people.custody_sentences[members]
                self.convictions[k][0][members] = arm.people.convictions[members]
        joined = self.start >= 0
        following = joined & (month > self.start) & (month <= self.start + self.follow_months)
        ending = np.flatnonzero(joined & (self.start + self.follow_months == month))
        for k, arm in enumerate(self.arms):
            p = arm.people
            in_care = p.looked_after[:n]
            self.entered_care[k] |= in_care & ~self._was_in_care[k] & following
            self._was_in_care[k] = in_care.copy()
            self.sentences[k][1][ending] = p.custody_sentences[ending]
            self.convictions[k][1][ending] = p.convictions[ending]

    def counts(self, months_run: int) -> dict[str, np.ndarray]:
        """Per outcome: (people followed to the end, events without, events with effects).

        Only people whose follow-up ended within the ``months_run`` months count.
        """
        complete = (self.start >= 0) & (self.start + self.follow_months < months_run)
        child, adult = self.age0 < CHILD_MONTHS, self.age0 >= CHILD_MONTHS
        juvenile = child & (self.age0 >= YOUTH_MONTHS)  # the age of criminal responsibility
        cohorts = {"children_looked_after": complete & child & ~self.in_care0,
                   "adults_custodial_sentence": complete & adult,
                   "juveniles_custodial_sentence": complete & juvenile,
                   "juvenile_convictions": complete & juvenile}
        happened = []  # per arm, per outcome: who had the event during their follow-up
        for k in range(len(self.arms)):
            sentenced = self.sentences[k][1] > self.sentences[k][0]
            happened.append({"children_looked_after": self.entered_care[k],
                             "adults_custodial_sentence": sentenced,
                             "juveniles_custodial_sentence": sentenced,
                             "juvenile_convictions":
                                 self.convictions[k][1] > self.convictions[k][0]})
        return {outcome: np.array([int(who.sum()),
                                   *(int((arm[outcome] & who).sum()) for arm in happened)])
                for outcome, who in cohorts.items()}


def _one_replicate(scenario: Scenario, scale: int, seed: int, years: int,
                   cohort_months: range, follow_months: int) -> dict[str, np.ndarray]:
    """Per outcome: the cohort's people, and events without and with early help's effects."""
    from model.branching import without_early_help_effects
    from model.simulation import EarlyActionModel

    helped = EarlyActionModel(scenario, scale=scale, seed=seed, years=years)
    arms = (without_early_help_effects(helped), helped)  # (no effects, effects)
    cohort = Cohort(arms, follow_months, cohort_months)
    while helped.month < helped.n_months:
        month = helped.month
        for model in arms:
            model.step()
        cohort.after_month(month)
    return cohort.counts(helped.n_months)


def early_help_check(*, scenario: str | Scenario = "symptoms", scale: int = 10,
                     replicates: int = 4, seed: int = 0, follow_months: int = 24,
                     cohort_months: int = 24,
                     progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """What early help's effects do to the families it reaches, beside the evaluation's.

    Args:
        scenario: the scenario whose early help is checked (its own places, and the
            programme's where it adds them).
        scale: population scale (the cohort is small: at 1:10 a replicate follows about 200
            children and 350 adults under ``symptoms``, 1,700 and 2,600 under ``systems``).
        replicates: replicates (seeds as :func:`model.experiment.replicate_seeds`).
        seed: root seed.
        follow_months: months each family is followed after the month it starts.
        cohort_months: how many months of starts (from month 0) make the cohort.
        progress: ``progress(done, total)`` after each replicate.

    Returns:
        One row per outcome: ``outcome``, ``label``, ``people`` (in the cohort, summed over
        replicates), ``events_without`` and ``events_with`` (early help's effects),
        ``share_without``, ``share_with``, ``ratio`` (with / without, pooled), ``ratio_p10``
        and ``ratio_p90`` (over replicates with an event without the effects), and the
        evaluation's ``evaluation_comparison``, ``evaluation_treated`` and
        ``evaluation_ratio``; the settings: ``scenario``, ``follow_months``, ``scale``,
        ``replicates`` and ``seed``.

    Raises:
        ValueError: a number that is not a whole number of 1 or more.
    """
    chosen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    for name, value in (("replicates", replicates), ("follow_months", follow_months),
                        ("cohort_months", cohort_months), ("scale", scale)):
        checked_whole(name, value, 1)
    years = -(-(cohort_months + follow_months) // 12)  # the last start's follow-up fits
    counts = []
    for r, s in enumerate(replicate_seeds(seed, replicates)):
        counts.append(_one_replicate(chosen, scale, s, years, range(cohort_months),
                                     follow_months))
        if progress is not None:
            progress(r + 1, replicates)
    return _table(counts).assign(scenario=chosen.name, follow_months=follow_months,
                                 scale=scale, replicates=replicates, seed=seed)


def _table(counts: Sequence[dict[str, np.ndarray]]) -> pd.DataFrame:
    rows = []
    for outcome, (comparison, treated) in EVALUATION.items():
        per = np.array([c[outcome] for c in counts])  # replicates x (people, base, helped)
        people, without, with_help = per.sum(axis=0)
        ratios = [h / b for _, b, h in per if b > 0]
        rows.append({
            "outcome": outcome, "label": OUTCOME_LABELS[outcome], "people": int(people),
            "events_without": int(without), "events_with": int(with_help),
            "share_without": without / people if people else np.nan,
            "share_with": with_help / people if people else np.nan,
            "ratio": with_help / without if without else np.nan,
            "ratio_p10": float(np.quantile(ratios, 0.1)) if ratios else np.nan,
            "ratio_p90": float(np.quantile(ratios, 0.9)) if ratios else np.nan,
            "evaluation_comparison": comparison, "evaluation_treated": treated,
            "evaluation_ratio": treated / comparison})
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The table as docs/comparisons.md shows it."""
    months = int(table["follow_months"].iloc[0])
    lines = [f"| outcome, during {months} months after the start | people | support without "
             "effects | with its effects | ratio (10-90 % over replicates) | evaluation "
             "(comparison, treated, ratio) |", "| --- | ---: | ---: | ---: | --- | --- |"]
    for row in table.itertuples():
        if not row.people:
            lines.append(f"| {row.label} | 0 | no one followed | | | "
                         f"{row.evaluation_comparison:.1%}, {row.evaluation_treated:.1%}, "
                         f"{row.evaluation_ratio:.2f} |")
            continue
        lines.append(
            f"| {row.label} | {row.people:,} | {row.share_without:.1%} "
            f"({row.events_without:,}) | {row.share_with:.1%} ({row.events_with:,}) | "
            f"{row.ratio:.2f} ({row.ratio_p10:.2f}-{row.ratio_p90:.2f}) | "
            f"{row.evaluation_comparison:.1%}, {row.evaluation_treated:.1%}, "
            f"{row.evaluation_ratio:.2f} |")
    return "\n".join(lines) + "\n"


__all__ = ["EVALUATION", "Cohort", "early_help_check", "markdown"]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m model.early_help_check``: print the tables (docs/comparisons.md shows them).

    Returns:
        The exit code: 0, or 2 for a bad argument or scenario (one line naming it).
    """
    import argparse

    from model.cli import UsageError, check_file, parse_replicates, parse_scale, parse_seed
    from model.results import atomic_write
    from model.scenario import ScenarioError

    parser = argparse.ArgumentParser(
        prog="python -m model.early_help_check",
        description="What early help's effects do to the families it reaches in the model, "
                    "beside the whole-family evaluation they are taken from (MHCLG 2019).")
    parser.add_argument("--scenario", action="append", default=None, metavar="SCENARIO",
                        help="scenario whose early help is checked; repeat for more "
                             "(default: symptoms and systems)")
    parser.add_argument("--scale", type=parse_scale, default=10, metavar="1:K",
                        help="population scale (default 1:10)")
    parser.add_argument("--replicates", type=parse_replicates, default=8, metavar="R",
                        help="replicates (default 8)")
    parser.add_argument("--seed", type=parse_seed, default=0, metavar="S",
                        help="root seed (default 0)")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE.csv",
                        help="also write the tables to this CSV file (the app's Evidence "
                             "page shows docs/evidence/early_help_check.csv)")
    try:
        args = parser.parse_args(argv)
        if args.out is not None:
            check_file("--out", args.out, ".csv")
        scenarios = [load_scenario(name) for name in args.scenario or ("symptoms", "systems")]
        tables = [early_help_check(scenario=s, scale=args.scale, replicates=args.replicates,
                                   seed=args.seed) for s in scenarios]
    except (UsageError, ScenarioError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for scenario, table in zip(scenarios, tables, strict=True):
        print(f"{scenario.name}:\n\n{markdown(table)}")
    if args.out is not None:
        text = pd.concat(tables, ignore_index=True).to_csv(index=False)
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(args.out, lambda f: f.write(text.encode("utf-8")))
        except OSError as err:
            print(f"error: --out: cannot write '{args.out}': {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
