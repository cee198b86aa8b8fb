"""Check that an engine change is bit-identical: dump a fingerprint, then compare two dumps.

Usage (from the repository root)::

    python benchmarks/check_identical.py dump OUT.npz [--scenarios DIR]
    python benchmarks/check_identical.py compare A.npz B.npz

A dump runs ``symptoms`` and ``systems`` for seeds 3, 4 and 5 at 1:50 over 3 years and keeps
every recorded metric, the ACEs at 18 of the cohort, and every person and household array at
the end. Run ``dump`` with the code before a change (for example from a ``git worktree`` of
the previous commit, with ``PYTHONPATH`` pointing there) and with the code after it, loading
the scenarios from the same folder (``--scenarios``), then ``compare``.

The kernels are compiled without bounds checks; after editing one, also dump once with
``NUMBA_BOUNDSCHECK=1 NUMBA_CACHE_DIR=/tmp/numba-checked`` so that an index out of range raises
instead of corrupting memory (tests/test_kernel_bounds.py does this for a short run).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np


def dump(out: Path, scenarios_dir: Path | None) -> None:
    from model.scenario import load_scenario
    from model.simulation import EarlyActionModel

    arrays: dict[str, np.ndarray] = {}
    for name in ("symptoms", "systems"):
        scenario = load_scenario(name, scenarios_dir) if scenarios_dir else load_scenario(name)
        for seed in (3, 4, 5):
            model = EarlyActionModel(scenario, scale=50, seed=seed, years=3)
            result = model.run()
            tag = f"{name}_{seed}"
            arrays[f"{tag}/values"] = result.values
            arrays[f"{tag}/cohort"] = result.cohort_aces_at_18
            for owner in ("people", "households"):
                obj = getattr(model, owner)
                for field in dataclasses.fields(obj):
                    value = getattr(obj, field.name)
                    if isinstance(value, np.ndarray):
                        arrays[f"{tag}/{owner}.{field.name}"] = value
    np.savez_compressed(out, **arrays)
    print(f"wrote {len(arrays)} arrays to {out}")


def compare(a: Path, b: Path) -> int:
    left, right = np.load(a), np.load(b)
    differ = [k for k in sorted(set(left.files) | set(right.files))
              if k not in left.files or k not in right.files
              or not np.array_equal(left[k], right[k], equal_nan=True)]
    for k in differ:
        print(f"differs: {k}")
    print("bit-identical" if not differ else f"{len(differ)} arrays differ")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--scenarios", type=Path, default=None)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.scenarios)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
