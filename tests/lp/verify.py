"""The LP attacker, independent of Verbund's code: HiGHS (highspy from PyPI).

Reads the published lattices that the tests wrote (VERBUND_LP_DUMP: one JSON file per
lattice: axes, ranges, and every cell with its levels, key, true count and the reason it is
hidden, or null when shown), rebuilds the equations "parent = sum of its line" from the keys
alone, and for every hidden cell solves the LPs that minimise and maximise it over all the
shown cells, with counts never negative. A primary cell of value v must keep
[max(0, v - primary), v + primary] inside the attacker's interval; any other hidden cell an
interval at least max(secondary_min, secondary_percent % of v) wide. Exits 1 and names the
cells when one is narrowed. A cell whose LP HiGHS cannot finish with any setting tried is
named and counted as "unsolved" (the attacker learnt nothing from it), not a failure.

    python3 tests/lp/verify.py DIR
    python3 tests/lp/verify.py --control DIR   # must find narrowed cells (a negative control)
"""

import json
import math
import pathlib
import sys

import highspy
import numpy as np

SEGMENT = 32
NO_NETWORK = "-"


def coarsen(axis, key, frm, to):
    """A cell's key at level `frm` of `axis`, seen at the coarser level `to`."""
    if to == 0:
        return ""
    if to >= frm:
        return key
    if axis == "network":
        return (key + NO_NETWORK * (SEGMENT * (to + 1)))[: SEGMENT * (to + 1)]
    if axis == "period":
        if (frm, to) == (3, 2):
            return f"{key[:4]}-Q{(int(key[5:7]) + 2) // 3}"
        return key[:4]
    return key


def equations(doc):
    axes = doc["axes"]
    cells = {}
    for c in doc["cells"]:
        cells[(tuple(c["levels"]), tuple(c["key"]))] = c
    hidden = sorted(k for k, c in cells.items() if c["reason"] is not None)
    index = {k: i for i, k in enumerate(hidden)}
    tables = {}
    for (levels, key) in cells:
        tables.setdefault(levels, []).append(key)
    rows = []
    for levels, keys in tables.items():
        for i, level in enumerate(levels):
            if level == 0:
                continue
            parent = levels[:i] + (level - 1,) + levels[i + 1 :]
            groups = {}
            for key in keys:
                pkey = tuple(
                    coarsen(a, k, f, t) for a, k, f, t in zip(axes, key, levels, parent)
                )
                groups.setdefault(pkey, []).append(key)
            for pkey, members in groups.items():
                p = cells.get((parent, pkey))
                if p is None:
                    continue
                coef, rhs = {}, 0
                if p["reason"] is None:
                    rhs += p["count"]
                else:
                    coef[index[(parent, pkey)]] = -1.0
                for m in members:
                    c = cells[(levels, m)]
                    if c["reason"] is None:
                        rhs -= c["count"]
                    else:
                        u = index[(levels, m)]
                        coef[u] = coef.get(u, 0.0) + 1.0
                if coef:
                    rows.append((coef, rhs))
    return hidden, cells, rows


def model(n, rows):
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    for _ in range(n):
        h.addVar(0.0, inf)
    for coef, rhs in rows:
        idx = np.array(list(coef.keys()), dtype=np.int32)
        val = np.array(list(coef.values()), dtype=np.float64)
        h.addRow(float(rhs), float(rhs), len(idx), idx, val)
    return h


class Unsolved(Exception):
    """HiGHS ended with neither an optimum nor unboundedness, with every setting tried."""


# Simplex with presolve (the default) now and then ends in status "Unknown" on a degenerate
# lattice; the same LP is then solved again without presolve, then by the interior point
# method, before the cell is reported as one the attacker could not solve.
ATTEMPTS = ({}, {"presolve": "off"}, {"solver": "ipm", "presolve": "off"})


def solve(h, target, sense):
    """The optimum of the hidden cell `target` (its cost 1, every other 0)."""
    h.changeColCost(target, 1.0)
    h.changeObjectiveSense(sense)
    try:
        for options in ATTEMPTS:
            h.clearSolver()
            for name, value in options.items():
                h.setOptionValue(name, value)
            h.run()
            status = h.getModelStatus()
            h.setOptionValue("presolve", "choose")
            h.setOptionValue("solver", "choose")
            if status == highspy.HighsModelStatus.kOptimal:
                return h.getInfo().objective_function_value
            if status == highspy.HighsModelStatus.kUnbounded:
                return math.inf
        raise Unsolved(h.modelStatusToString(status))
    finally:
        h.changeColCost(target, 0.0)


def check(doc):
    hidden, cells, rows = equations(doc)
    r = doc["ranges"]
    h = model(len(hidden), rows) if rows else None
    breaches, unsolved = [], []
    for t, k in enumerate(hidden):
        c = cells[k]
        v = c["count"]
        if h is not None and any(t in coef for coef, _ in rows):
            try:
                low = math.ceil(solve(h, t, highspy.ObjSense.kMinimize) - 1e-6)
                high = solve(h, t, highspy.ObjSense.kMaximize)
            except Unsolved as e:
                unsolved.append((k, str(e)))
                continue
            high = math.inf if high == math.inf else math.floor(high + 1e-6)
        else:
            low, high = 0, math.inf
        if c["reason"] == "small_count":
            ok = low <= max(0, v - r["primary"]) and high >= v + r["primary"]
        else:
            need = max(r["secondary_min"], -(-v * r["secondary_percent"] // 100))
            ok = high - low >= need
        if not ok:
            breaches.append((k, v, c["reason"], low, high))
    return len(hidden), breaches, unsolved


def main():
    """verify.py DIR: no hidden cell narrowed. verify.py --control DIR: the lattices were
    protected without the LP step, and the attacker must narrow some (it can see)."""
    control = sys.argv[1] == "--control"
    root = pathlib.Path(sys.argv[-1])
    files = sorted(root.glob("*.json"))
    if not files:
        print(f"no lattices in {root}", file=sys.stderr)
        return 1
    total, bad, open_ = 0, 0, 0
    for f in files:
        n, breaches, unsolved = check(json.loads(f.read_text()))
        total += n
        for k, status in unsolved:
            open_ += 1
            print(f"{f.name}: {k}: HiGHS ended with {status!r} with every setting tried")
        for k, v, reason, low, high in breaches:
            bad += 1
            if not control:
                print(f"{f.name}: {k} = {v} ({reason}) narrowed to [{low}, {high}]")
    print(f"HiGHS LP attacker: {len(files)} lattices in {root.name}, {total} hidden cells, {bad} narrowed, {open_} unsolved")
    if control:
        return 0 if bad else 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
