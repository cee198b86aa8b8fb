"""Steps 5 and 6: police incidents, the justice response and safeguarding notifications."""

from __future__ import annotations

import numpy as np
import pytest

from model import EarlyActionModel, RunResult, load_scenario
from model.parameters import (
    AGE_BANDS,
    CRIME_INCIDENT_CATEGORIES,
    INCIDENT_CATEGORIES,
    OFFENCE_CATEGORIES,
)
from model.population import NO_MONTH, People, ace_count, offending_frailty
from model.processes.police import offending_rr

CAT = {c: i for i, c in enumerate(INCIDENT_CATEGORIES)}
VIOLENT = ("violence_with_injury", "violence_without_injury", "sexual_offences")
BAND_START_YEARS = (10, 14, 18, 25, 35, 45, 55, 65)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("symptoms")


def _people(n: int) -> People:
    people = People.empty(n)
    people.count = n
    people.alive[:] = True
    people.age_months[:] = 20 * 12
    return people


# --- offending_rr ---------------------------------------------------------------------------

def test_offending_rr_follows_the_age_profile(scenario):
    p = scenario.police
    starts = np.array(BAND_START_YEARS)
    ends = np.r_[starts[1:] - 1, 90]
    people = _people(2 * starts.size)
    people.age_months[: starts.size] = starts * 12
    people.age_months[starts.size:] = ends * 12 + 11
    rr = offending_rr(people, np.arange(2 * starts.size), np.full(2 * starts.size, 4), 0, p)
    expected = np.array([p.offending_age_rr[b] for b in AGE_BANDS])
    np.testing.assert_allclose(rr[: starts.size], expected)  # first month of each band
    np.testing.assert_allclose(rr[starts.size:], expected)  # last month of each band
    assert p.offending_age_rr["18-24"] == 1.0  # the reference group


def test_offending_rr_has_an_ace_dose_response(scenario):
    p = scenario.police
    people = _people(10)
    people.aces[:] = [(1 << k) - 1 for k in range(10)]  # 0..9 ACEs
    rr = offending_rr(people, np.arange(10), np.full(10, 4), 0, p)
    np.testing.assert_allclose(rr, p.offending_ace_rr_per_ace ** np.arange(10))
    assert np.all(np.diff(rr) > 0)


def test_offending_rr_of_women_deprivation_and_a_recent_sanction(scenario):
    p = scenario.police
    people = _people(10)
    people.female[1] = True
    deprivation = np.array([4, 4, 0, 1, 2, 3, 4, 4, 4, 4])
    month = 30
    people.last_sanction_month[6] = month - 1  # sanctioned last month
    people.last_sanction_month[7] = month - 13  # 13 months ago: no longer recent
    people.last_sanction_month[8] = NO_MONTH
    # sanctioned 12 months ago (after that month's offending): this is the 12th month after
    people.last_sanction_month[9] = month - 12
    rr = offending_rr(people, np.arange(10), deprivation, month, p)
    assert rr[0] == pytest.approx(1.0)
    assert rr[1] == pytest.approx(p.offending_female_rr)
    np.testing.assert_allclose(rr[2:6], p.offending_deprivation_rr[:4])
    assert rr[6] == pytest.approx(p.repeat_offending_rr)
    assert rr[7] == pytest.approx(1.0)
    assert rr[8] == pytest.approx(1.0)
    assert rr[9] == pytest.approx(p.repeat_offending_rr)


# --- a stepped model -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def months(scenario):
    """A 1:100 model stepped 12 months: per month the state before and after and the incidents."""
    model = EarlyActionModel(scenario, scale=100, seed=61, years=1, warmup_months=3)
    p, h = model.people, model.households
    out = []
    for _ in range(12):
        n = p.count
        before = {"in_custody": p.in_custody[:n].copy(), "convictions": p.convictions[:n].copy(),
                  "last_sanction": p.last_sanction_month[:n].copy(),
                  "arrests": p.arrests[:n].copy()}
        model.step()
        events = model.month_events
        out.append({
            "before": before,
            "incidents": events.incidents,
            "notifications": events.notifications.copy(),
            "notification_category": events.notification_category.copy(),
            "in_custody": p.in_custody[: p.count].copy(),
            "convictions": p.convictions[: p.count].copy(),
            "arrests": p.arrests[: p.count].copy(),
            "domestic_abuse": h.adversity[:, 0].copy(),
            "age": p.age_months[: p.count].copy(),
            "household": p.household[: p.count].copy(),
            "n_children": h.n_children.copy(),
        })
    return model, out


def test_crime_incidents_have_offenders_of_10_and_over_not_in_custody(months):
    model, out = months
    h = model.households
    n_offences = 0
    for month in out:
        inc = month["incidents"]
        offence = inc.category < len(OFFENCE_CATEGORIES)
        offenders = inc.offender[offence]
        n_offences += offenders.size
        assert np.all(offenders >= 0)
        age, household = month["age"], month["household"]
        assert np.all(age[offenders] >= 10 * 12)
        before = month["before"]["in_custody"]
        assert not before[offenders[offenders < before.size]].any()
        np.testing.assert_array_equal(household[offenders], inc.dwelling[offence])
        # violence and sexual offences have a victim in the offender's force area
        violent = np.isin(inc.category, [CAT[c] for c in VIOLENT])
        victims = inc.person[violent]
        assert np.all(victims >= 0)
        np.testing.assert_array_equal(h.force_area[household[victims]],
                                      h.force_area[inc.dwelling[violent]])
        assert np.all(age[victims] >= 10 * 12)
    assert n_offences > 100


def test_domestic_abuse_incidents_come_from_households_in_a_domestic_abuse_spell(months):
    _, out = months
    seen = 0
    for month in out:
        inc = month["incidents"]
        da = np.isin(inc.category, [CAT["domestic_abuse_crime"], CAT["domestic_incident"]])
        seen += da.sum()
        assert month["domestic_abuse"][inc.dwelling[da]].all()
    assert seen > 0


def test_person_incidents_are_about_people_of_the_right_age(months):
    _, out = months
    for month in out:
        inc, age = month["incidents"], month["age"]
        missing = inc.person[inc.category == CAT["missing_person"]]
        assert np.all((age[missing] >= 10 * 12) & (age[missing] < 18 * 12))
        mental = inc.person[inc.category == CAT["mental_health"]]
        assert np.all(age[mental] >= 18 * 12)


def test_recorded_incidents_are_the_generated_incidents(months):
    model, out = months
    result = RunResult.from_model(model)
    scale = model.population.scale
    for m, month in enumerate(out):
        counts = np.bincount(month["incidents"].category, minlength=len(INCIDENT_CATEGORIES))
        for c, name in enumerate(INCIDENT_CATEGORIES):
            assert result.wales(f"incidents_{name}")[m] / scale == counts[c], (m, name)


def test_offences_match_the_offending_hazard(scenario):
    model = EarlyActionModel(scenario, scale=100, seed=62, years=1, warmup_months=3)
    p, h = model.people, model.households
    params = scenario.police
    expected = observed = 0.0
    for _ in range(6):
        model.step()
        # the at-risk population as the police step saw it (custody and sanctions change only
        # in the justice step afterwards; a 1 % allowance covers those)
        n = p.count
        at_risk = np.flatnonzero(p.alive[:n] & (p.age_months[:n] >= 120) & ~p.in_custody[:n])
        rr = offending_rr(p, at_risk, h.deprivation[p.household[at_risk]], model.month - 1,
                          params)
        expected += (params.offending_per_person_month * rr).sum()
        inc = model.month_events.incidents
        observed += (inc.category < len(OFFENCE_CATEGORIES)).sum()
    assert abs(observed - expected) < 4 * np.sqrt(expected) + 0.03 * expected


def test_offence_categories_follow_their_shares(months, scenario):
    _, out = months
    categories = np.concatenate([m["incidents"].category for m in out])
    categories = categories[categories < len(OFFENCE_CATEGORIES)]
    n = categories.size
    counts = np.bincount(categories, minlength=len(OFFENCE_CATEGORIES))
    for c, name in enumerate(OFFENCE_CATEGORIES):
        share = scenario.police.offence_category_shares[name]
        assert abs(counts[c] / n - share) < 4 * np.sqrt(share * (1 - share) / n) + 1e-9, name


# --- justice --------------------------------------------------------------------------------

def test_arrests_never_exceed_identified_suspects(months, scenario):
    model, out = months
    result = RunResult.from_model(model)
    scale = model.population.scale
    j = scenario.justice
    share = np.array([j.suspect_identified_share[c] for c in CRIME_INCIDENT_CATEGORIES])
    for m, month in enumerate(out):
        inc = month["incidents"]
        crime = (inc.category < len(CRIME_INCIDENT_CATEGORIES)) & (inc.offender >= 0)
        arrests = result.wales("arrests")[m] / scale
        # one arrest per person and month, at most
        assert arrests <= np.unique(inc.offender[crime]).size
        p_arrest = share[inc.category[crime]] * j.arrest_given_suspect_share
        upper = p_arrest.sum() + 4 * np.sqrt((p_arrest * (1 - p_arrest)).sum())
        assert arrests <= upper
        # people's arrest counters move with the recorded arrests
        n = month["before"]["arrests"].size
        assert (month["arrests"][:n] - month["before"]["arrests"]).sum() == arrests


def test_custody_only_after_a_conviction_in_the_same_month(months):
    _, out = months
    sent = 0
    for month in out:
        before = month["before"]
        n = before["in_custody"].size
        new = np.flatnonzero(month["in_custody"][:n] & ~before["in_custody"])
        sent += new.size
        assert np.all(month["convictions"][new] > before["convictions"][new])
    assert sent > 0


def test_people_in_custody_count_as_a_parent_in_prison_for_their_household(scenario):
    model = EarlyActionModel(scenario, scale=100, seed=63, years=1, warmup_months=6)
    model.step()
    model.refresh_households()
    p, h = model.people, model.households
    n = p.count
    inside = np.flatnonzero(p.alive[:n] & p.in_custody[:n] & (p.age_months[:n] >= 18 * 12))
    assert inside.size > 0
    expected = np.bincount(p.household[inside], minlength=h.size)
    np.testing.assert_array_equal(h.adults_in_custody, expected)


def test_children_sent_to_custody_are_not_counted_as_parents(scenario):
    """Every child's custodial sentence counted in `parents_sent_to_custody` (the child is a
    child of their own household); only adults who live with children count."""
    from model.parameters import CRIME_INCIDENT_CATEGORIES

    children_only = scenario.with_overrides(
        {"justice.youth_custody_given_conviction_share": 1.0,
         **{f"justice.custody_given_conviction_share.{c}": 0.0
            for c in CRIME_INCIDENT_CATEGORIES}})
    result = EarlyActionModel(children_only, scale=100, seed=5, years=1).run()
    assert result.wales("custody_sentences").sum() > 0
    assert result.wales("parents_sent_to_custody").sum() == 0
    adults = EarlyActionModel(scenario, scale=100, seed=5, years=1).run()
    assert 0 < adults.wales("parents_sent_to_custody").sum() < \
        adults.wales("custody_sentences").sum()


def test_parents_at_home_are_householders_or_young_mothers_with_their_child():
    """An adult child living with a younger sibling is no parent there; a young mother at
    her parents' with her baby is; an adult without children at home is not."""
    from types import SimpleNamespace

    from model.processes.justice import _parents_at_home

    # dwelling 0: parent 0, child 1; dwelling 1: parent 2, adult child 3, child 4 (of 2);
    # dwelling 2: parent 5, adult child 6, her baby 7; dwelling 3: adult 8 alone
    p = SimpleNamespace(
        count=9, household=np.array([0, 0, 1, 1, 1, 2, 2, 2, 3]),
        lives_with_parents=np.array([0, 1, 0, 1, 1, 0, 1, 0, 0], bool),
        mother=np.array([-1, 0, -1, 2, 2, -1, 5, 6, -1]),
        female=np.array([1, 0, 1, 1, 0, 1, 1, 0, 0], bool),
        alive=np.ones(9, bool),
        age_months=np.array([400, 60, 600, 250, 100, 560, 240, 6, 300]))
    h = SimpleNamespace(n_children=np.array([1, 1, 1, 0]))
    parents = _parents_at_home(p, h, np.array([0, 3, 6, 8]))
    assert sorted(parents.tolist()) == [0, 6]


def test_safeguarding_notifications_are_about_households_with_children(months, scenario):
    _, out = months
    notifying = {CAT[c] for c in scenario.social_care.notification_share}
    total = 0
    for month in out:
        dwellings = month["notifications"]
        total += dwellings.size
        assert np.all(month["n_children"][dwellings] > 0)
        assert set(np.unique(month["notification_category"]).tolist()) <= notifying
    assert total > 0


def test_custody_counts_are_current_at_the_end_of_the_month(scenario):
    """Custody starts and releases show in the dwellings' adults in custody the same month."""
    busy = scenario.with_overrides({"justice.custody_months_served_mean": 2.0})
    model = EarlyActionModel(busy, scale=100, seed=5, years=1, warmup_months=0)
    p, h = model.people, model.households
    changed = 0
    for _ in range(6):
        before = p.in_custody[: p.count].copy()
        model.step()
        n = p.count
        adults = np.flatnonzero(p.alive[:n] & p.in_custody[:n] & (p.age_months[:n] >= 216))
        expected = np.bincount(p.household[adults], minlength=h.size)
        np.testing.assert_array_equal(h.adults_in_custody, expected)
        changed += int((p.in_custody[: before.size] != before).sum())
    assert changed > 20


def test_an_offender_is_never_their_own_victim(scenario):
    violent = scenario.with_overrides({"police.offending_per_person_month": 0.05})
    model = EarlyActionModel(violent, scale=400, seed=2, years=1, warmup_months=0)
    checked = 0
    for _ in range(3):
        model.step()
        incidents = model.month_events.incidents
        both = (incidents.offender >= 0) & (incidents.person >= 0)
        categories = np.unique(incidents.category[both])
        assert categories.size > 0
        assert not np.any(incidents.offender[both] == incidents.person[both])
        checked += int(both.sum())
    assert checked > 100


def test_children_in_custody_are_counted_apart_and_among_people_in_custody(scenario):
    """The youth custody stock counts the living under-18s in custody at the month's end."""
    strict = scenario.with_overrides({"justice.youth_custody_given_conviction_share": 0.5})
    model = EarlyActionModel(strict, scale=200, seed=11, years=1, warmup_months=6,
                             track_households=0)
    result = model.run()
    p = model.people
    n = p.count
    inside = p.alive[:n] & p.in_custody[:n]
    children = inside & (p.age_months[:n] < 18 * 12)
    assert children.sum() > 0
    scale = model.population.scale
    assert result.wales("children_in_custody")[-1] == children.sum() * scale
    assert result.wales("people_in_custody")[-1] == inside.sum() * scale


def test_children_without_a_formal_outcome_are_neither_sanctioned_nor_diverted(scenario):
    """An arrest of a child that ends in no further action is no sanction, no entry to the
    youth justice system and no diversion (diversion replaces a formal outcome)."""
    lever = load_scenario("lever_youth_diversion")
    for base in (scenario, lever):
        informal = base.with_overrides({"justice.youth_formal_outcome_given_arrest_share": 0.0})
        result = EarlyActionModel(informal, scale=100, seed=5, years=1).run()
        assert result.wales("arrests_children").sum() > 0
        for metric in ("youth_out_of_court", "youth_justice_first_entrants", "youth_diverted"):
            assert result.wales(metric).sum() == 0, metric
    diverted = EarlyActionModel(lever, scale=100, seed=5, years=1).run()
    assert diverted.wales("youth_diverted").sum() > 0


def test_a_formal_outcome_comes_to_its_share_of_arrested_children(scenario):
    """Out-of-court disposals per arrest of a child: formal share x out-of-court share."""
    formal = 0.5
    half = scenario.with_overrides({"justice.youth_formal_outcome_given_arrest_share": formal})
    model = EarlyActionModel(half, scale=10, seed=8, years=1)
    result = model.run()
    scale = model.population.scale
    arrests = result.wales("arrests_children").sum() / scale
    out_of_court = result.wales("youth_out_of_court").sum() / scale
    expected = formal * scenario.justice.youth_out_of_court_share
    assert arrests > 300
    assert abs(out_of_court / arrests - expected) < 4 * np.sqrt(expected * (1 - expected)
                                                                / arrests)
    # the other formal outcomes are charges, heard in the youth court
    charged = result.wales("youth_charges").sum() / scale
    expected = formal * (1 - scenario.justice.youth_out_of_court_share)
    assert abs(charged / arrests - expected) < 4 * np.sqrt(expected * (1 - expected) / arrests)
    # and at the default share, fewer than half of the arrested children are sanctioned
    default = EarlyActionModel(scenario, scale=10, seed=8, years=1).run()
    assert (default.wales("youth_out_of_court").sum()
            < 0.5 * half.justice.youth_out_of_court_share * default.wales("arrests_children").sum())


def test_offending_frailty_is_gamma_of_mean_one_and_selects_the_offenders(scenario):
    """A lasting frailty (police.offending_frailty_variance) multiplies each person's offending
    hazard: offences are drawn in proportion to it, so offenders have a higher frailty than the
    people at risk (mean 1 + variance, size-biased, before the other factors)."""
    u = np.random.default_rng(0).random(400_000)
    frailty = offending_frailty(u, 5.0)
    assert abs(frailty.mean() - 1) < 0.03 and abs(frailty.var() - 5) < 0.5
    assert (offending_frailty(u[:10], 0.0) == 1.0).all()
    people = _people(2)
    people.offending_frailty[:] = [1.0, 2.5]
    rr = offending_rr(people, np.arange(2), np.full(2, 4), 0, scenario.police)
    assert rr[1] == pytest.approx(2.5 * rr[0])

    frail = scenario.with_overrides({"police.offending_frailty_variance": 5.0})
    model = EarlyActionModel(frail, scale=50, seed=2, years=1)
    p = model.people
    assert abs(p.offending_frailty[: p.count][p.alive[: p.count]].mean() - 1) < 0.15
    offenders = []
    for _ in range(6):
        model.step()
        incidents = model.month_events.incidents
        offence = incidents.category < len(OFFENCE_CATEGORIES)  # the offending clock's own
        offenders.append(incidents.offender[offence])
    chosen = p.offending_frailty[np.concatenate(offenders)].astype(float)
    assert chosen.size > 500
    assert 4.0 < chosen.mean() < 8.0
    babies = np.flatnonzero(p.mother[: p.count] >= 0)
    assert babies.size > 20 and len(set(p.offending_frailty[babies].tolist())) > 20
    # without the variance everyone's frailty is exactly 1
    plain = EarlyActionModel(scenario, scale=400, seed=2, years=1, warmup_months=0)
    assert (plain.people.offending_frailty[: plain.people.count] == 1.0).all()


def test_children_at_the_start_entered_youth_justice_at_their_past_hazard(scenario):
    """A child aged 10-17 at the start has entered with chance 1 - exp(-H): their offending
    hazard summed over the months since their 10th birthday, times the chance that an offence
    ends in a caution or conviction; nobody under 10 has."""
    busy = scenario.with_overrides({"police.offending_per_person_month": 0.012})
    model = EarlyActionModel(busy, scale=20, seed=3, years=1, warmup_months=0)
    p, h, police, j = model.people, model.households, busy.police, busy.justice
    n = p.count
    age, alive = p.age_months[:n].astype(np.int64), p.alive[:n]
    assert not p.youth_justice_entered[:n][alive & (age < 120)].any()
    kids = np.flatnonzero(alive & (age >= 120) & (age < 216))
    age = age[kids]
    identified = sum(police.offence_category_shares[c] * j.suspect_identified_share[c]
                     for c in OFFENCE_CATEGORIES)
    sanctioned = (j.youth_out_of_court_share
                  + (1 - j.youth_out_of_court_share) * j.conviction_given_charge_share)
    per_offence = (identified * j.arrest_given_suspect_share
                   * j.youth_formal_outcome_given_arrest_share * sanctioned)
    months_aged = (np.minimum(age - 120, 48) * police.offending_age_rr["10-13"]
                   + np.maximum(age - 168, 0) * police.offending_age_rr["14-17"])
    hazard = (police.offending_per_person_month * months_aged
              * np.where(p.female[kids], police.offending_female_rr, 1.0)
              * police.offending_ace_rr_per_ace ** ace_count(p.aces[kids])
              * np.asarray(police.offending_deprivation_rr)[h.deprivation[p.household[kids]]]
              * per_offence)
    expected = 1 - np.exp(-hazard)
    entered = p.youth_justice_entered[kids]
    assert expected.sum() > 200
    assert abs(entered.sum() - expected.sum()) < 4 * np.sqrt((expected * (1 - expected)).sum())
    assert entered[age >= 168].mean() > 2 * entered[age < 168].mean()  # more months, higher rr


def test_children_in_custody_serve_the_youth_mean_and_adults_the_adult_mean(scenario):
    """Monthly releases: 1 - exp(-1/mean) of those inside, with the youth mean under 18."""
    quick = scenario.with_overrides({
        "justice.youth_formal_outcome_given_arrest_share": 1.0,
        "justice.youth_custody_given_conviction_share": 1.0,
        "justice.youth_custody_months_served_mean": 2.0,
        "justice.custody_months_served_mean": 18.0})
    model = EarlyActionModel(quick, scale=20, seed=7, years=1, warmup_months=12)
    p = model.people
    inside = {True: 0, False: 0}
    released = {True: 0, False: 0}
    for _ in range(8):
        n = p.count
        was_inside = p.in_custody[:n] & p.alive[:n]
        child = p.age_months[:n] < 18 * 12
        model.step()
        out = was_inside & ~p.in_custody[:n] & p.alive[:n]
        for is_child in (True, False):
            group = was_inside & (child == is_child)
            inside[is_child] += int(group.sum())
            released[is_child] += int((out & group).sum())
    for is_child, mean in ((True, 2.0), (False, 18.0)):
        expected = 1 - np.exp(-1 / mean)
        n = inside[is_child]
        assert n > 100, is_child
        assert abs(released[is_child] / n - expected) < 4 * np.sqrt(expected * (1 - expected)
                                                                     / n), is_child


def test_repeat_victimisation_counts_the_warm_up_from_the_first_month(scenario):
    """Victimisations in the warm-up's last 12 months make month 0's victims repeat victims.

    Without that history, year 1 counted about half the repeat victimisations of later years.
    """
    result = EarlyActionModel(scenario, scale=100, seed=21, years=2,
                              track_households=0).run()
    repeat = result.wales("repeat_victimisations")
    assert repeat[0] > 0
    year_1, year_2 = repeat[:12].sum(), repeat[12:].sum()
    assert year_1 > 0.8 * year_2


def test_a_second_victimisation_in_the_same_month_is_a_repeat():
    """Repeat victims are those victimised more than once in 12 months: a person victimised
    twice in one month, never before, is one victimisation and one repeat."""
    from model.metrics import METRIC_INDEX
    from model.processes.justice import VICTIM_CATEGORIES, JusticeResponse
    from model.processes.police import Incidents

    model = EarlyActionModel("symptoms", scale=2000, seed=3, years=1, track_households=0)
    model.step()  # month 0 is being recorded
    p, rec = model.people, model.recorder
    first_timer = np.flatnonzero(p.alive[:p.count]
                                 & (p.last_victim_month[:p.count] == NO_MONTH))[0]
    violent = INCIDENT_CATEGORIES.index(VICTIM_CATEGORIES[0])
    justice = next(process for process in model.processes
                   if isinstance(process, JusticeResponse))

    def counts() -> tuple[float, float]:
        row = rec.values[rec.month]
        return (row[METRIC_INDEX["violence_victimisations"]].sum(),
                row[METRIC_INDEX["repeat_victimisations"]].sum())

    before = counts()
    justice._victims(model, Incidents(
        category=np.full(2, violent, np.int8),
        dwelling=np.full(2, p.household[first_timer], np.int32),
        offender=np.full(2, -1, np.int64), person=np.full(2, first_timer, np.int64),
        serial=np.arange(2, dtype=np.uint32)))
    after = counts()
    assert (after[0] - before[0], after[1] - before[1]) == (2.0, 1.0)
