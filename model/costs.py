"""Unit costs and the cost ledger of a run: monthly activity x unit costs, by agency and line.

The unit costs live in ``model/data/unit_costs.yaml``: sourced figures (each with its unit,
price year and source, or "assumption" with a range) and unit costs built from them by a formula
with the derivation written beside it. Money figures are brought to one price year with the GDP
deflator series shipped in the same file.

The ledger of a run multiplies its recorded monthly metrics (already scaled to the real
population) by the unit costs: officer time by incident category, arrests, training and
referrals (police), court cases (courts), prison months (prisons and probation), open youth
justice orders (youth justice), placements, plans, assessments and notification screening
(children's social care), early-help places (local authority early help), Operation Encompass
(education) and every other intervention's own cost (the programme), from the ``reached_*``
metrics times each intervention's ``unit_cost_gbp`` in the scenario. Health costs are not
modelled.

Example::

    from model import run_scenario
    from model.costs import cost_ledger

    ledger = cost_ledger(run_scenario("systems", scale=200, years=2))
    ledger.groupby("agency")["gbp"].sum()
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from model.intervention_specs import INTERVENTION_TYPES
from model.parameters import INCIDENT_CATEGORIES
from model.reference import FORCE_AREAS

if TYPE_CHECKING:  # pragma: no cover
    from model.results import RunResult

UNIT_COSTS_FILE = Path(__file__).parent / "data" / "unit_costs.yaml"

AGENCIES: tuple[str, ...] = (
    "police", "courts", "prisons_and_probation", "youth_justice", "childrens_social_care",
    "early_help", "education", "programme",
)
"""Who pays, in report order. ``programme`` is the Early Action programme itself."""

AGENCY_LABELS = {
    "police": "Police", "courts": "Courts", "prisons_and_probation": "Prisons and probation",
    "youth_justice": "Youth justice", "childrens_social_care": "Children's social care",
    "early_help": "Early help (local authority)", "education": "Education (schools)",
    "programme": "Early Action programme",
}

Agency = Literal["police", "courts", "prisons_and_probation", "youth_justice",
                 "childrens_social_care", "early_help", "education", "programme"]


class CostDataError(ValueError):
    """The unit-cost file is missing, malformed or has a value that is not allowed."""


# --- the unit-cost file -----------------------------------------------------------------------

_PRICE_YEAR = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def price_year_text(value: Any) -> str:
    """A price year as text: a calendar year (``2017``) or a financial year (``2022-23``).

    Raises:
        ValueError: anything else, naming the value and what is allowed.
    """
    text = str(value).strip()
    match = _PRICE_YEAR.match(text)
    if match is None:
        raise ValueError(f"price year {value!r} is not allowed: give a calendar year (2017) or "
                         f"a financial year (2022-23)")
    if match.group(2) is not None and int(match.group(2)) != (int(match.group(1)) + 1) % 100:
        raise ValueError(f"price year {value!r} is not allowed: a financial year's second part "
                         f"must follow its first, e.g. 2022-23")
    return text


class Figure(BaseModel):
    """A sourced figure or a stated assumption."""

    model_config = ConfigDict(extra="forbid")

    value: float = Field(ge=0, description="The figure (never negative).")
    unit: str
    price_year: str | None = Field(None, description="Money figures only: the prices it is in.")
    source: str
    verified: Literal["yes", "secondary", "derived", "memory"] | None = None
    low: float | None = Field(None, ge=0)
    high: float | None = Field(None, ge=0)
    note: str = ""

    @field_validator("verified", mode="before")
    @classmethod
    def _verified(cls, value: Any) -> Any:
        return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value

    @field_validator("price_year", mode="before")
    @classmethod
    def _year(cls, value: Any) -> str | None:
        return None if value is None else price_year_text(value)

    @model_validator(mode="after")
    def _range(self) -> Figure:
        if self.unit.startswith("GBP") and self.price_year is None:
            raise ValueError(f"a money figure ({self.unit}) needs a price_year")
        if self.source.lower().startswith("assumption") and (self.low is None
                                                            or self.high is None):
            raise ValueError("an assumption needs a low and a high value (its range)")
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high, or neither")
        if self.low is not None and not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value} is outside its range [{self.low}, {self.high}]")
        return self

    @property
    def is_money(self) -> bool:
        """Whether the figure is an amount of money (and so has a price year)."""
        return self.unit.startswith("GBP")


class UnitCost(BaseModel):
    """A unit cost the ledger uses: a formula over figures, with who pays and the derivation."""

    model_config = ConfigDict(extra="forbid")

    label: str
    unit: str
    agency: Agency
    cashable: bool
    formula: str
    derivation: str


class Deflator(BaseModel):
    """A price index by calendar year with its source."""

    model_config = ConfigDict(extra="forbid")

    name: str
    source: str
    verified: str = ""
    index: dict[int, float]

    @field_validator("index")
    @classmethod
    def _positive(cls, value: dict[int, float]) -> dict[int, float]:
        for year, level in value.items():
            if not level > 0:
                raise ValueError(f"index for {year} is {level}: must be above 0")
        return value

    def level(self, price_year: str) -> float:
        """Index level of a calendar year, or of a financial year (9/12 first + 3/12 second).

        Raises:
            CostDataError: a year outside the series.
        """
        match = _PRICE_YEAR.match(price_year)
        first = int(match.group(1))
        years = [first] if match.group(2) is None else [first, first + 1]
        for year in years:
            if year not in self.index:
                raise CostDataError(f"price year {price_year} is outside the deflator series "
                                    f"({min(self.index)} to {max(self.index)})")
        if len(years) == 1:
            return self.index[first]
        return 0.75 * self.index[first] + 0.25 * self.index[first + 1]


class CostBook(BaseModel):
    """The whole unit-cost file, validated."""

    model_config = ConfigDict(extra="forbid")

    price_year: int
    deflator: Deflator
    figures: dict[str, Figure]
    unit_costs: dict[str, UnitCost]

    @model_validator(mode="after")
    def _formulas(self) -> CostBook:
        if self.price_year not in self.deflator.index:
            raise ValueError(f"price_year {self.price_year} is not in the deflator series")
        for name, cost in self.unit_costs.items():
            unknown = sorted(_formula_names(cost.formula) - set(self.figures))
            if unknown:
                raise ValueError(f"unit_costs.{name}.formula uses {unknown}, which are not "
                                 f"figures; allowed: {sorted(self.figures)}")
        for name, figure in self.figures.items():
            if figure.is_money:
                try:
                    self.deflator.level(figure.price_year)
                except CostDataError as err:
                    raise ValueError(f"figures.{name}: {err}") from None
        missing = sorted(set(REQUIRED_UNIT_COSTS) - set(self.unit_costs))
        if missing:
            raise ValueError(f"unit cost(s) {missing} are missing; the ledger needs "
                             f"{list(REQUIRED_UNIT_COSTS)}")
        return self

    def figure_values(self) -> dict[str, float]:
        """Central value of every figure."""
        return {name: f.value for name, f in self.figures.items()}

    def in_price_year(self, name: str, value: float) -> float:
        """A figure's value in the book's price year (non-money figures unchanged)."""
        figure = self.figures[name]
        return self.from_prices_of(figure.price_year, value) if figure.is_money else value

    def from_prices_of(self, price_year: str | None, value: float) -> float:
        """``value`` in the prices of ``price_year`` brought to the book's (None: as it is).

        Raises:
            CostDataError: a year outside the deflator series.
        """
        if price_year is None:
            return value
        return value * self.deflator.index[self.price_year] / self.deflator.level(price_year)

    def unit_cost_values(self, figures: Mapping[str, float] | None = None) -> dict[str, float]:
        """Every unit cost in the book's price year, from central or given figure values.

        Raises:
            CostDataError: a unit cost that comes out negative or not finite.
        """
        raw = self.figure_values() if figures is None else dict(figures)
        real = {name: self.in_price_year(name, value) for name, value in raw.items()}
        out = {}
        for name, cost in self.unit_costs.items():
            value = _evaluate(cost.formula, real)
            if not np.isfinite(value) or value < 0:
                raise CostDataError(f"unit cost {name} = {value} ({cost.formula}) is not "
                                    f"allowed: a unit cost must be a number of 0 or more")
            out[name] = value
        return out

    def draw_figures(self, rng: np.random.Generator) -> dict[str, float]:
        """One draw of every figure with a range (triangular: low, central value, high)."""
        out = {}
        for name, figure in self.figures.items():
            if figure.low is None or figure.high <= figure.low:
                out[name] = figure.value
            else:
                out[name] = float(rng.triangular(figure.low, figure.value, figure.high))
        return out

    def source_price_years(self, name: str) -> list[str]:
        """Price years of the money figures a unit cost is built from."""
        years = {self.figures[f].price_year for f in _formula_names(self.unit_costs[name].formula)
                 if self.figures[f].is_money}
        return sorted(years)


REQUIRED_UNIT_COSTS = ("officer_hour", "court_case", "youth_court_case", "prison_month",
                       "youth_custody_month",
                       "youth_justice_order_month",
                       "looked_after_month", "protection_plan_month", "assessment",
                       "notification_screening", "early_help_family")
"""Unit costs the ledger's lines use."""


def load_cost_book(path: str | Path | None = None) -> CostBook:
    """Read and validate a unit-cost file (default: ``model/data/unit_costs.yaml``).

    Raises:
        CostDataError: one message naming the entry, the value and what is allowed.
    """
    if path is None:
        return _default_book()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default_book() -> CostBook:
    return _load(UNIT_COSTS_FILE)


def _load(path: Path) -> CostBook:
    from model.yaml_files import read_yaml

    data = read_yaml(path, f"unit-cost file '{path}'", CostDataError)
    if not isinstance(data, dict):
        raise CostDataError(f"{path}: expected a mapping with price_year, deflator, figures and "
                            f"unit_costs")
    try:
        book = CostBook.model_validate(data)
        book.unit_cost_values()
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        given = first.get("input")
        shown = "" if isinstance(given, dict) else f" (value given: {given!r})"
        if first["type"] == "missing":
            shown = ""
        message = first["msg"].removeprefix("Value error, ")
        raise CostDataError(f"{path.name}: {where}: {message}{shown}") from None
    except CostDataError as err:
        raise CostDataError(f"{path.name}: {err}") from None
    return book


# --- formulas: + - * / over figure names and numbers -------------------------------------------

_OPS: dict[type, Callable[..., float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.USub: operator.neg, ast.UAdd: operator.pos,
}


def _parse(formula: str) -> ast.AST:
    try:
        tree = ast.parse(" ".join(formula.split()), mode="eval")
    except SyntaxError:
        raise ValueError(f"formula {formula!r} is not allowed: use figure names, numbers, "
                         f"+ - * / and brackets") from None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load,
                                 ast.Constant, *_OPS)):
            raise ValueError(f"formula {formula!r} is not allowed: use figure names, numbers, "
                             f"+ - * / and brackets")
    return tree


def _formula_names(formula: str) -> set[str]:
    return {n.id for n in ast.walk(_parse(formula)) if isinstance(n, ast.Name)}


def _evaluate(formula: str, values: Mapping[str, float]) -> float:
    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return float(values[node.id])
        if isinstance(node, ast.UnaryOp):
            return _OPS[type(node.op)](ev(node.operand))
        if isinstance(node, ast.BinOp):
            try:
                return _OPS[type(node.op)](ev(node.left), ev(node.right))
            except ZeroDivisionError:
                return float("nan")
        raise ValueError(f"cannot evaluate {formula!r}")  # pragma: no cover

    return ev(_parse(formula))


# --- programme unit costs from the scenario ------------------------------------

def programme_agency(kind: str) -> str:
    """Who pays an intervention's own cost: schools for Operation Encompass, else the programme."""
    return "education" if kind == "operation_encompass" else "programme"


def programme_unit_cost_inputs(parameters: Mapping[str, Any]
                               ) -> dict[str, tuple[float, str | None]]:
    """Each intervention type's unit cost as a run's scenario gives it, before any conversion.

    Returns:
        Type -> (``unit_cost_gbp``, ``unit_cost_price_year`` or None); the first entry of a
        type counts.
    """
    out: dict[str, tuple[float, str | None]] = {}
    for entry in parameters.get("interventions", []):
        if entry["type"] not in out:
            year = entry.get("unit_cost_price_year")
            out[entry["type"]] = (float(entry["unit_cost_gbp"]),
                                  None if year is None else str(year))
    return out


def programme_unit_costs(parameters: Mapping[str, Any], book: CostBook | None = None
                         ) -> dict[str, float]:
    """Each intervention type's unit cost in a run's scenario, in the book's price year.

    The first entry of a type counts. A cost given in another year's prices
    (``unit_cost_price_year``) is brought to the book's price year with its deflator, as the
    book's own figures are; a run record written before entries had a price year has its
    costs taken as they are.
    """
    return in_book_prices(programme_unit_cost_inputs(parameters), book)


def in_book_prices(given: Mapping[str, tuple[float, str | None]], book: CostBook | None = None
                   ) -> dict[str, float]:
    """Unit costs as scenarios give them (:func:`programme_unit_cost_inputs`) in book prices."""
    book = book or load_cost_book()
    return {kind: book.from_prices_of(year, value) for kind, (value, year) in given.items()}


def draw_programme_unit_costs(costs: Mapping[str, float], rng: np.random.Generator,
                              figures: Mapping[str, float] | None = None,
                              book: CostBook | None = None) -> dict[str, float]:
    """Draw each intervention's unit cost from its documented range (triangular).

    The mode is the scenario's value, the range the one declared on ``unit_cost_gbp`` (widened
    to include the scenario's value), scaled to the book's price year with the value. An
    intervention whose unit cost repeats a figure of the book
    (:attr:`~model.intervention_specs.InterventionSpec.unit_cost_figure`) instead moves with
    that figure's draw in ``figures``: the scenario's value times drawn / central value, so the
    programme and the agency paying the same unit cost are never drawn apart.

    Args:
        costs: the scenario's programme unit costs (:func:`programme_unit_costs`).
        rng: one generator, the same for every scenario of a replicate.
        figures: this replicate's draw of the book's figures (:meth:`CostBook.draw_figures`).
        book: the unit-cost book (default: the project's).
    """
    book = book or load_cost_book()
    out = {}
    for kind in sorted(INTERVENTION_TYPES):
        spec = INTERVENTION_TYPES[kind]
        field = spec.model_fields["unit_cost_gbp"]
        extra = field.json_schema_extra or {}
        u = rng.random()  # one draw per type, in a fixed order, whether or not it is used
        if kind not in costs:
            continue
        mode = costs[kind]
        shared = spec.unit_cost_figure
        if shared is not None and figures is not None and book.figures[shared].value > 0:
            out[kind] = mode * figures[shared] / book.figures[shared].value
            continue
        low, high = extra.get("low"), extra.get("high")
        if low is None or high is None:
            out[kind] = mode
            continue
        # the declared range is in the prices of the type's default price year
        scale = book.from_prices_of(spec.model_fields["unit_cost_price_year"].get_default(), 1.0)
        low, high = min(low * scale, mode), max(high * scale, mode)
        out[kind] = float(_triangular_ppf(u, low, mode, high))
    return out


def _triangular_ppf(u: float, low: float, mode: float, high: float) -> float:
    if high <= low:
        return mode
    cut = (mode - low) / (high - low)
    if u < cut:
        return low + np.sqrt(u * (high - low) * (mode - low))
    return high - np.sqrt((1 - u) * (high - low) * (high - mode))


# --- cost lines -------------------------------------------------------------

@dataclass(frozen=True)
class CostLine:
    """One line of the ledger.

    Attributes:
        name: identifier, e.g. ``officer_time_mental_health``.
        label: what a report shows.
        agency: who pays (one of :data:`AGENCIES`).
        cashable: whether a saving on the line is cash that can be released (never a
            programme line: its spend is the investment, not a saving).
        programme: whether the line is the programme's own cost (the investment).
        unit_cost: the unit cost it multiplies by (a key of the unit-cost file), or
            ``programme:<type>`` for an intervention's own unit cost.
        quantity: what the unit cost is multiplied by, in words.
    """

    name: str
    label: str
    agency: str
    cashable: bool
    programme: bool
    unit_cost: str
    quantity: str


def cost_lines(book: CostBook | None = None) -> tuple[CostLine, ...]:
    """Every line of the ledger, in report order."""
    book = book or load_cost_book()
    uc = book.unit_costs

    def line(name: str, label: str, key: str, quantity: str) -> CostLine:
        return CostLine(name, label, uc[key].agency, uc[key].cashable, False, key, quantity)

    lines = [line(f"officer_time_{c}", f"Officer time: {c.replace('_', ' ')}", "officer_hour",
                  f"incidents_{c} x police.officer_hours_per_incident[{c}]")
             for c in INCIDENT_CATEGORIES]
    lines += [
        line("officer_time_arrests", "Officer time: arrests and custody", "officer_hour",
             "arrests x police.officer_hours_per_arrest"),
        line("officer_time_training", "Officer time: ACE-informed training", "officer_hour",
             "officer_hours_training"),
        line("officer_time_referrals", "Officer time: early-help referrals", "officer_hour",
             "officer_hours_referrals"),
        line("court_cases", "Court cases", "court_case", "charges"),
        line("youth_court_cases", "Youth court cases", "youth_court_case", "youth_charges"),
        line("prison_places", "Prison places", "prison_month",
             "people_in_custody - children_in_custody (each month)"),
        line("youth_custody_places", "Youth custody places", "youth_custody_month",
             "children_in_custody (each month)"),
        line("youth_justice_orders", "Youth justice orders", "youth_justice_order_month",
             "youth_justice_caseload (each month)"),
        line("care_placements", "Care placements", "looked_after_month",
             "looked_after_children (each month)"),
        line("protection_plans", "Child protection plans", "protection_plan_month",
             "children_on_protection_plans (each month)"),
        line("assessments", "Social-care assessments", "assessment", "social_care_assessments"),
        line("notification_screening", "Screening police notifications",
             "notification_screening", "safeguarding_notifications"),
        line("early_help_places", "Early-help places (local authority)", "early_help_family",
             "early_help_starts - reached_early_help"),
    ]
    for kind, cls in INTERVENTION_TYPES.items():
        extra = cls.model_fields["unit_cost_gbp"].json_schema_extra or {}
        agency = programme_agency(kind)
        # not cashable: cashable describes a saving an agency can release, and the programme's
        # own spend (Operation Encompass's school time included) is an investment
        lines.append(CostLine(f"programme_{kind}", f"Programme: {kind.replace('_', ' ')}",
                              agency, False, True, f"programme:{kind}",
                              f"reached_{kind} ({extra.get('unit', 'units')})"))
    return tuple(lines)


def _quantity(result: RunResult, line: CostLine) -> np.ndarray:
    """(months, force areas) amount the line's unit cost is multiplied by."""
    params = result.record["parameters"]
    name = line.name
    if name.startswith("officer_time_") and name.removeprefix("officer_time_") in (
            INCIDENT_CATEGORIES):
        category = name.removeprefix("officer_time_")
        hours = params["police"]["officer_hours_per_incident"][category]
        return result.by_force_area(f"incidents_{category}") * hours
    if name == "officer_time_arrests":
        return result.by_force_area("arrests") * params["police"]["officer_hours_per_arrest"]
    if name == "early_help_places":
        return np.maximum(result.by_force_area("early_help_starts")
                          - result.by_force_area("reached_early_help"), 0.0)
    if name == "prison_places":  # adults: children in custody have a line of their own
        return (result.by_force_area("people_in_custody")
                - result.by_force_area("children_in_custody"))
    if line.programme:
        return result.by_force_area(f"reached_{name.removeprefix('programme_')}")
    metric = line.quantity.split(" ")[0]
    return result.by_force_area(metric)


@dataclass(frozen=True)
class CostSet:
    """Unit costs for one ledger: the book's costs and the scenario's programme costs."""

    unit_costs: dict[str, float]
    programme: dict[str, float] | None = None
    """Programme unit cost by intervention type; None: take them from each run's scenario."""


def ledger_cube(result: RunResult, costs: CostSet | None = None,
                book: CostBook | None = None) -> np.ndarray:
    """(months, force areas, lines) cost in GBP (the book's price year) of one run.

    Args:
        result: a finished run.
        costs: unit costs to use (default: the book's central values and the scenario's
            programme costs).
        book: the unit-cost book (default: the project's).
    """
    book = book or load_cost_book()
    lines = cost_lines(book)
    unit_costs = costs.unit_costs if costs else book.unit_cost_values()
    programme = programme_unit_costs(result.record["parameters"], book)
    if costs is not None and costs.programme is not None:
        programme = {k: costs.programme.get(k, v) for k, v in programme.items()}
    out = np.zeros((result.n_months, len(FORCE_AREAS), len(lines)))
    for j, line in enumerate(lines):
        if line.programme:
            unit = programme.get(line.unit_cost.removeprefix("programme:"), 0.0)
        else:
            unit = unit_costs[line.unit_cost]
        out[:, :, j] = _quantity(result, line) * unit
    return out


def cube_to_frame(cube: np.ndarray, result: RunResult, book: CostBook | None = None
                  ) -> pd.DataFrame:
    """The tidy ledger of a (months, force areas, lines) cube."""
    lines = cost_lines(book)
    months, areas, n_lines = cube.shape
    size = cube.size
    line_codes = np.tile(np.arange(n_lines), months * areas)
    agency_of_line = np.array([AGENCIES.index(line.agency) for line in lines])
    return pd.DataFrame({
        "run_id": pd.Categorical([result.run_id] * size),
        "scenario": pd.Categorical([result.record["scenario"]] * size),
        "seed": np.full(size, result.record["seed"], np.int64),
        "month": np.repeat(np.arange(months, dtype=np.int16), areas * n_lines),
        "force_area": pd.Categorical.from_codes(
            np.tile(np.repeat(np.arange(areas), n_lines), months), FORCE_AREAS),
        "agency": pd.Categorical.from_codes(agency_of_line[line_codes], AGENCIES),
        "cost_line": pd.Categorical.from_codes(line_codes, [line.name for line in lines]),
        "gbp": cube.reshape(-1),
    })


def cost_ledger(result: RunResult, costs: CostSet | None = None,
                book: CostBook | None = None) -> pd.DataFrame:
    """The cost ledger of a run: run_id, scenario, seed, month, force_area, agency, cost_line, gbp.

    Values are in GBP at the unit-cost book's price year, for the real population (the run's
    metrics are already scaled up).
    """
    return cube_to_frame(ledger_cube(result, costs, book), result, book)


def unit_cost_table(book: CostBook | None = None) -> pd.DataFrame:
    """One row per unit cost: value in the price year, unit, agency, cashable, formula, years."""
    book = book or load_cost_book()
    values = book.unit_cost_values()
    rows = []
    for name, cost in book.unit_costs.items():
        rows.append({"unit_cost": name, "label": cost.label,
                     f"gbp_{book.price_year}_prices": values[name], "unit": cost.unit,
                     "agency": cost.agency, "cashable": "yes" if cost.cashable else "no",
                     "from_price_years": ", ".join(book.source_price_years(name)),
                     "formula": " ".join(cost.formula.split()),
                     "derivation": " ".join(cost.derivation.split())})
    return pd.DataFrame(rows)


def figure_table(book: CostBook | None = None) -> pd.DataFrame:
    """One row per figure: value, unit, price year, value in the book's price year, source."""
    book = book or load_cost_book()
    rows = []
    for name, f in book.figures.items():
        rows.append({"figure": name, "value": f.value, "unit": f.unit,
                     "price_year": f.price_year or "",
                     f"value_{book.price_year}_prices": book.in_price_year(name, f.value),
                     "low": f.low, "high": f.high, "source": " ".join(f.source.split()),
                     "verified": f.verified or ("assumption" if f.source.startswith(
                         "assumption") else ""),
                     "note": f.note})
    return pd.DataFrame(rows)


def programme_cost_table() -> pd.DataFrame:
    """The interventions' own unit costs (defaults, their prices, units, ranges and evidence).

    ``default_gbp``, ``low`` and ``high`` are as declared, in the prices of ``price_year``;
    ``gbp_in_budget_prices`` is the default in the book's price year, as the budget uses it.
    """
    book = load_cost_book()
    rows = []
    for kind, cls in INTERVENTION_TYPES.items():
        field = cls.model_fields["unit_cost_gbp"]
        extra = field.json_schema_extra or {}
        price_year = cls.model_fields["unit_cost_price_year"].get_default()
        rows.append({"intervention": kind, "default_gbp": field.get_default(),
                     "price_year": price_year or str(book.price_year),
                     "gbp_in_budget_prices": book.from_prices_of(price_year,
                                                                 field.get_default()),
                     "unit": extra.get("unit", ""), "low": extra.get("low"),
                     "high": extra.get("high"),
                     "agency": programme_agency(kind),
                     "source": " ".join(str(field.description or "").split())})
    return pd.DataFrame(rows)


__all__ = ["AGENCIES", "AGENCY_LABELS", "CostBook", "CostDataError", "CostLine", "CostSet",
           "REQUIRED_UNIT_COSTS", "UNIT_COSTS_FILE", "cost_ledger", "cost_lines",
           "draw_programme_unit_costs", "figure_table", "in_book_prices", "ledger_cube",
           "load_cost_book", "programme_agency", "programme_cost_table",
           "programme_unit_cost_inputs", "programme_unit_costs", "unit_cost_table"]


# --- the generated part of docs/budget.md ---------------------------------------------------

DOCS_FILE = Path(__file__).resolve().parent.parent / "docs" / "budget.md"
DOCS_START = "<!-- unit costs: generated by `python -m model.costs`; do not edit by hand -->"
DOCS_END = "<!-- end of generated unit costs -->"


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def unit_costs_markdown(book: CostBook | None = None) -> str:
    """The unit-cost, figure and programme-cost tables of docs/budget.md, from the YAML."""
    book = book or load_cost_book()
    values = book.unit_cost_values()
    out = [DOCS_START, "", f"All money is in **{book.price_year} prices**, converted with the "
           f"{book.deflator.name} ({_cell(book.deflator.source)}; verified: "
           f"{book.deflator.verified}).", "",
           "### Unit costs", "",
           f"| unit cost | £ ({book.price_year}) | unit | paid by | cashable | from prices of "
           f"| formula | derivation |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, cost in book.unit_costs.items():
        out.append(f"| {cost.label} (`{name}`) | {values[name]:,.2f} | {_cell(cost.unit)} | "
                   f"{AGENCY_LABELS[cost.agency]} | {'yes' if cost.cashable else 'no'} | "
                   f"{', '.join(book.source_price_years(name))} | `{_cell(cost.formula)}` | "
                   f"{_cell(cost.derivation)} |")
    out += ["", "### Figures and sources", "",
            "| figure | value | unit | price year | range | source | verified |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, f in book.figures.items():
        verified = f.verified or ("assumption" if f.source.startswith("assumption") else "")
        rng = f"{f.low:,.6g} to {f.high:,.6g}" if f.low is not None else ""
        out.append(f"| `{name}` | {f.value:,.6g} | {_cell(f.unit)} | {f.price_year or ''} | "
                   f"{rng} | {_cell(f.source)}{'; ' + _cell(f.note) if f.note else ''} | "
                   f"{verified} |")
    out += ["", "### Programme unit costs (from each scenario's interventions)", "",
            "A scenario gives each intervention's `unit_cost_gbp` in the prices of its "
            "`unit_cost_price_year` (the defaults below); the budget brings it to "
            f"{book.price_year} prices with the same deflator.", "",
            f"| intervention | default £ | price year | £ ({book.price_year}) | unit | range "
            f"(price year's £) | paid by | source or assumption |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in programme_cost_table().itertuples():
        out.append(f"| `{row.intervention}` | {row.default_gbp:,.0f} | {row.price_year} | "
                   f"{row.gbp_in_budget_prices:,.2f} | {_cell(row.unit)} | "
                   f"{row.low:,.0f} to {row.high:,.0f} | {AGENCY_LABELS[row.agency]} | "
                   f"{_cell(row.source)} |")
    out += ["", DOCS_END]
    return "\n".join(out) + "\n"


def refresh_docs(path: Path = DOCS_FILE) -> bool:
    """Rewrite the generated block of docs/budget.md; return whether it changed."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index(DOCS_START), text.index(DOCS_END) + len(DOCS_END) + 1
    new = text[:start] + unit_costs_markdown() + text[end:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":  # pragma: no cover
    print("docs/budget.md", "updated" if refresh_docs() else "already current")
