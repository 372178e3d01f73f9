r"""The site model of :mod:`models.site` as a sparse matrix, built vectorised.

Same formulation, another way to write it down. :func:`models.site.build_site_model` builds
the model as PuLP objects (a few microseconds per variable and per row: about 80 CPU seconds
and 4 GB for the 100× benchmark province); :func:`build_site_matrix` writes the *same* rows —
same names, same coefficients in the same order, same bounds, same objective — straight into
numpy arrays (CSR), which HiGHS takes as they are (:mod:`solver.matrix_backend`).

"The same" is checked, not assumed: :func:`from_pulp` reads a built PuLP model back into a
:class:`SiteMatrix`, and ``tests/test_site_matrix.py`` asserts that both builders give equal
matrices on the golden instance, on random problems and on the Zhangye scenario. The numbers
of the constraints (c1…c8) are those of :mod:`models.site`, whose docstring has the maths.

Scope: the Zhangye rules (1)–(8) and objective terms (8a)–(8e), not the elastic form.
:func:`supports` says whether a problem is in scope; a problem with the Heze rules (9)–(12),
priority classes (8f), duplicate reach entries or targets/quotas outside the planning years is
left to the PuLP builder.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pulp

from models.data import SiteProblem
from models.site import _Namer, street_rest_quotas

INF = np.inf


@dataclass
class SiteMatrix:
    """``row_lower ≤ A·v ≤ row_upper``, ``col_lower ≤ v ≤ col_upper``, v integer; minimise
    ``cost·v``. ``A`` is CSR: ``start`` (rows + 1), ``index`` (column), ``value``; the terms
    of a row are in the order PuLP would hold them. ``x``, ``a``, ``e`` map ``(facility id,
    year)`` to a column; ``terms`` maps each objective term to its cost vector."""

    col_names: list[str]
    col_lower: np.ndarray
    col_upper: np.ndarray
    cost: np.ndarray
    row_names: list[str]
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    x: dict[tuple[str, int], int] = field(default_factory=dict)
    a: dict[tuple[str, int], int] = field(default_factory=dict)
    e: dict[tuple[str, int], int] = field(default_factory=dict)
    terms: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_cols(self) -> int:
        return len(self.col_names)

    @property
    def n_rows(self) -> int:
        return len(self.row_names)


def supports(problem: SiteProblem, elastic: bool = False) -> bool:
    """Whether :func:`build_site_matrix` covers ``problem`` (see the module docstring)."""
    years = set(problem.years)
    lists = [cv.facilities for cv in problem.cover] + [cr.facilities for cr in problem.crowd]
    return (not elastic and not problem.near and not problem.gate
            and not any(f.exempt or f.priority or f.moves_from for f in problem.facilities)
            and all(t.year in years for t in problem.targets)
            and all(q.year in years for q in problem.quotas)
            and all(len(set(ids)) == len(ids) for ids in lists))


class _Builder:
    """Columns and rows appended in PuLP's order; CSR assembled at the end."""

    def __init__(self):
        self.col_names: list[str] = []
        self.col_lower: list[np.ndarray] = []
        self.col_upper: list[np.ndarray] = []
        self.row_names: list[str] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.lengths: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.coefs: list[np.ndarray] = []

    def columns(self, names: list[str], lower: float, upper: float) -> np.ndarray:
        first = len(self.col_names)
        self.col_names += names
        self.col_lower.append(np.full(len(names), lower))
        self.col_upper.append(np.full(len(names), upper))
        return np.arange(first, first + len(names))

    def rows(self, names, lower, upper, lengths, cols, coefs) -> None:
        self.row_names += names
        self.lower.append(np.asarray(lower, dtype=float))
        self.upper.append(np.asarray(upper, dtype=float))
        self.lengths.append(np.asarray(lengths, dtype=np.int64))
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.coefs.append(np.asarray(coefs, dtype=float))

    def row_lists(self, rows: list[tuple[str, float, float, list[int], list[float]]]) -> None:
        """Rows given one by one as ``(name, lower, upper, columns, coefficients)``."""
        if not rows:
            return
        names, lo, hi, cols, coefs = zip(*rows, strict=True)
        self.rows(list(names), lo, hi, [len(c) for c in cols],
                  [c for cs in cols for c in cs], [v for vs in coefs for v in vs])

    def matrix(self) -> SiteMatrix:
        lengths = np.concatenate(self.lengths) if self.lengths else np.zeros(0, np.int64)
        start = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=start[1:])
        n = len(self.col_names)
        return SiteMatrix(
            col_names=self.col_names, col_lower=np.concatenate(self.col_lower),
            col_upper=np.concatenate(self.col_upper), cost=np.zeros(n),
            row_names=self.row_names, row_lower=np.concatenate(self.lower),
            row_upper=np.concatenate(self.upper), start=start,
            index=np.concatenate(self.cols).astype(np.int64),
            value=np.concatenate(self.coefs).astype(float))


def _bounds(sense: str, rhs: float) -> tuple[float, float]:
    return {"<=": (-INF, rhs), "==": (rhs, rhs), ">=": (rhs, INF)}[sense]


def build_site_matrix(problem: SiteProblem) -> SiteMatrix:
    """The model of :func:`models.site.build_site_model` (non-elastic) as a :class:`SiteMatrix`."""
    if not supports(problem):
        raise ValueError("build_site_matrix: the problem uses rules only the PuLP builder has")
    names = _Namer(problem)
    b = _Builder()
    p = problem
    years = list(p.years)
    n_f, n_t = len(p.facilities), len(years)
    tag = [names.f(f.id) for f in p.facilities]
    # variables x, e (every facility and year), a (applicants from their first year)
    x = b.columns([f"x_{n}_{t}" for n in tag for t in years], 0, 1).reshape(n_f, n_t)
    e = b.columns([f"e_{n}_{t}" for n in tag for t in years], 0, 1).reshape(n_f, n_t)
    existing = np.array([f.existing for f in p.facilities], dtype=bool)
    start = np.array([f.available_from for f in p.facilities])
    has_a = ~existing[:, None] & (np.array(years)[None, :] >= start[:, None])
    a = np.full((n_f, n_t), -1, dtype=np.int64)
    a[has_a] = b.columns([f"a_{tag[i]}_{years[k]}" for i, k in zip(*np.nonzero(has_a),
                                                                     strict=True)], 0, 1)
    _flow(b, p, tag, years, x, e, a, existing)
    col = {"x": x, "e": e, "a": a}
    fpos = {f.id: i for i, f in enumerate(p.facilities)}
    ypos = {t: k for k, t in enumerate(years)}
    _targets(b, p, names, col, fpos, ypos)
    _quotas(b, p, names, col, fpos, ypos, "county", 3)
    if p.options.street_quotas:
        _quotas(b, p, names, col, fpos, ypos, "street", 4)
        _quotas(b, p, names, col, fpos, ypos, "rest", 4)
    gains = _coverage(b, p, names, x, fpos, years)
    crowd = _crowding(b, p, names, x, fpos, years)
    prot = [i for i, f in enumerate(p.facilities) if f.protected or f.exempt]
    b.row_lists([(f"c7_protected_{tag[i]}", 0, 0, e[i].tolist(), [1] * n_t) for i in prot])
    peaks = _spread(b, p, names, e, a, fpos, years)
    m = b.matrix()
    m.x = {(f.id, t): int(x[i, k]) for i, f in enumerate(p.facilities) for k, t in enumerate(years)}
    m.e = {(f.id, t): int(e[i, k]) for i, f in enumerate(p.facilities) for k, t in enumerate(years)}
    m.a = {(p.facilities[i].id, years[k]): int(a[i, k]) for i, k in zip(*np.nonzero(has_a),
                                                                         strict=True)}
    _objective(m, p, gains, crowd, peaks, e, a, has_a)
    return m


def _flow(b: _Builder, p: SiteProblem, tag, years, x, e, a, existing) -> None:
    """(1a) flow, (1b) exit_after, (1c) admit_once, interleaved per facility as PuLP adds them:
    for each facility, for each year flow then exit_after, then admit_once."""
    n_f, n_t = x.shape
    w = max(4, n_t)
    slots = np.full((n_f, 2 * n_t + 1, w), -1, dtype=np.int64)
    coefs = np.zeros((n_f, 2 * n_t + 1, w))
    keep = np.zeros((n_f, 2 * n_t + 1), dtype=bool)
    lo = np.zeros((n_f, 2 * n_t + 1))
    hi = np.zeros((n_f, 2 * n_t + 1))
    prev = np.full((n_f, n_t), -1, dtype=np.int64)
    prev[:, 1:] = x[:, :-1]
    flow, after = slice(0, 2 * n_t, 2), slice(1, 2 * n_t, 2)
    slots[:, flow, 0], coefs[:, flow, 0] = x, 1  # x[t] - x[t-1] - a[t] + e[t] = 0
    slots[:, flow, 1], coefs[:, flow, 1] = prev, -1
    slots[:, flow, 2], coefs[:, flow, 2] = a, -1
    slots[:, flow, 3], coefs[:, flow, 3] = e, 1
    keep[:, flow] = True
    lo[:, 0] = hi[:, 0] = existing  # x[t0] is a constant: x[t1] - a + e = x[t0]
    slots[:, after, 0], coefs[:, after, 0] = e, 1  # e[t] - x[t-1] <= 0
    slots[:, after, 1], coefs[:, after, 1] = prev, -1
    keep[:, after] = True
    keep[existing, 1] = False  # e <= 1 needs no row
    lo[:, after] = -INF
    n_a = (a >= 0).sum(axis=1)
    slots[:, 2 * n_t, :n_t], coefs[:, 2 * n_t, :n_t] = a, 1  # sum of a <= 1
    keep[:, 2 * n_t] = n_a > 1
    lo[:, 2 * n_t], hi[:, 2 * n_t] = -INF, 1
    rows = np.nonzero(keep.ravel())[0]
    slots, coefs = slots.reshape(-1, w)[rows], coefs.reshape(-1, w)[rows]
    valid = slots >= 0
    kinds = ("c1_flow", "c1_exit_after")
    names = [f"c1_admit_once_{tag[r // (2 * n_t + 1)]}" if r % (2 * n_t + 1) == 2 * n_t else
             f"{kinds[(r % (2 * n_t + 1)) % 2]}_{tag[r // (2 * n_t + 1)]}_"
             f"{years[(r % (2 * n_t + 1)) // 2]}" for r in rows.tolist()]
    b.rows(names, lo.ravel()[rows], hi.ravel()[rows], valid.sum(axis=1), slots[valid],
           coefs[valid])


def _group_positions(p: SiteProblem, attr: str, fpos) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for f in p.facilities:
        area = getattr(f, attr)
        if area:
            groups[area, f.kind].append(fpos[f.id])
    return groups


def _limit_row(rows: list, name: str, cols: list[int], rhs: float, sense: str) -> None:
    """:func:`models.site._limit` without slacks: an empty row that holds is left out."""
    if not cols and {"<=": 0 <= rhs, "==": rhs == 0, ">=": 0 >= rhs}[sense]:
        return
    rows.append((name, *_bounds(sense, rhs), cols, [1] * len(cols)))


def _targets(b: _Builder, p: SiteProblem, names: _Namer, col, fpos, ypos) -> None:
    """(2) county targets."""
    groups = _group_positions(p, "county", fpos)
    sense = "==" if p.options.target_mode == "equal" else "<="
    x, rows = col["x"], []
    for tg in p.targets:
        ids = groups.get((tg.county, tg.kind), [])
        cols = x[ids, ypos[tg.year]].tolist() if ids else []
        _limit_row(rows, f"c2_target_{names.ar(tg.county)}_{tg.kind}_{tg.year}", cols,
                   tg.count, sense)
    b.row_lists(rows)


def _quotas(b: _Builder, p: SiteProblem, names: _Namer, col, fpos, ypos, level: str,
            number: int) -> None:
    """(3) county and (4) street and rest quotas, admit row then exit row per quota."""
    if level == "rest":
        pairs = [(q, [fpos[i] for i in ids]) for q, ids in street_rest_quotas(p)]
    else:
        groups = _group_positions(p, "county" if level == "county" else "street", fpos)
        pairs = [(q, groups.get((q.area, q.kind), [])) for q in p.quotas if q.level == level]
    exit_sense = "==" if p.options.exit_mode == "exact" else "<="
    admit_sense = "==" if p.options.admit_mode == "exact" else "<="
    a, e, rows = col["a"], col["e"], []
    for q, ids in pairs:
        k = ypos[q.year]
        admits = [c for c in (a[ids, k].tolist() if ids else []) if c >= 0]
        exits = e[ids, k].tolist() if ids else []
        tag = f"c{number}_{level}_%s_{names.ar(q.area)}_{q.kind}_{q.year}"
        _limit_row(rows, tag % "admit", admits, q.admit, admit_sense)
        _limit_row(rows, tag % "exit", exits, q.exit, exit_sense)
    b.row_lists(rows)


def _coverage(b: _Builder, p: SiteProblem, names: _Namer, x, fpos, years):
    """(5) keep cells covered every year; gain cells g <= covered. Returns (population, g)."""
    rows, gains, gain_names = [], [], []
    first = len(b.col_names)
    for cv in p.cover:
        where = [fpos[i] for i in cv.facilities]
        for k, t in enumerate(years):
            cols = x[where, k].tolist() if where else []
            tag = f"{names.c(cv.cell)}_{cv.kind}_{t}"
            if cv.mode == "keep":
                _limit_row(rows, f"c5_cover_{tag}", cols, 1, ">=")
            else:
                g = first + len(gain_names)
                gain_names.append(f"g_{tag}")
                rows.append((f"c5_gain_{tag}", -INF, 0, [g, *cols], [1] + [-1] * len(cols)))
                gains.append((cv.population, g))
    b.columns(gain_names, 0, 1)
    b.row_lists(rows)
    return gains


def _crowding(b: _Builder, p: SiteProblem, names: _Namer, x, fpos, years) -> list[int]:
    """(6) o >= facilities in the cell - 1."""
    rows, excess, o_names = [], [], []
    first = len(b.col_names)
    for cr in p.crowd:
        where = [fpos[i] for i in cr.facilities]
        for k, t in enumerate(years):
            tag = f"{names.c(cr.cell)}_{cr.kind}_{t}"
            o = first + len(o_names)
            o_names.append(f"o_{tag}")
            cols = x[where, k].tolist()
            rows.append((f"c6_crowd_{tag}", -1, INF, [o, *cols], [1] + [-1] * len(cols)))
            excess.append(o)
    b.columns(o_names, 0, INF)
    b.row_lists(rows)
    return excess


def _spread(b: _Builder, p: SiteProblem, names: _Namer, e, a, fpos, years) -> list[int]:
    """(8) u >= admissions + exits of the county and kind, every year."""
    rows, peaks, u_names = [], [], []
    first = len(b.col_names)
    for (county, kind), ids in sorted(_group_positions(p, "county", fpos).items()):
        u = first + len(u_names)
        u_names.append(f"u_{names.ar(county)}_{kind}")
        for k, t in enumerate(years):
            cols = e[ids, k].tolist() + [c for c in a[ids, k].tolist() if c >= 0]
            rows.append((f"c8_peak_{names.ar(county)}_{kind}_{t}", 0, INF, [u, *cols],
                         [1] + [-1] * len(cols)))
        peaks.append(u)
    b.columns(u_names, 0, INF)
    b.row_lists(rows)
    return peaks


def _objective(m: SiteMatrix, p: SiteProblem, gains, crowd, peaks, e, a, has_a) -> None:
    """(8a)–(8e), term by term (zero coefficients carry no entry, as in PuLP)."""
    w = p.weights
    score = np.array([f.score for f in p.facilities], dtype=float)
    n = m.n_cols

    def vector(cols, coefs) -> np.ndarray:
        v = np.zeros(n)
        np.add.at(v, np.asarray(cols, dtype=np.int64), np.asarray(coefs, dtype=float))
        return v

    m.terms = {
        "8a_coverage": vector([g for _p, g in gains], [-w.coverage * pop for pop, _g in gains]),
        "8b_crowding": vector(crowd, [w.crowding] * len(crowd)),
        "8c_exits": vector(e.ravel(), np.repeat(w.exit_score * score + w.churn, e.shape[1])),
        "8d_admissions": vector(a[has_a], (w.churn - w.admit_review * score)[
            np.nonzero(has_a)[0]]),
        "8e_spread": vector(peaks, [w.spread] * len(peaks)),
    }
    m.cost = sum(m.terms.values())


def from_pulp(model) -> SiteMatrix:
    """A built :class:`models.site.SiteModel` read back as a :class:`SiteMatrix` (its columns
    in PuLP's sorted order): the reference that :func:`build_site_matrix` is tested against."""
    lp = model.lp
    variables = lp.variables()
    pos = {v.name: j for j, v in enumerate(variables)}
    names, lower, upper, lengths, cols, coefs = [], [], [], [], [], []
    for name, c in lp._constraints.items():  # noqa: SLF001 - PuLP has no public row list
        names.append(name)
        bound = -c.constant
        lower.append(bound if c.sense in (pulp.LpConstraintEQ, pulp.LpConstraintGE) else -INF)
        upper.append(bound if c.sense in (pulp.LpConstraintEQ, pulp.LpConstraintLE) else INF)
        lengths.append(len(c))
        for v, coef in c.items():
            cols.append(pos[v.name])
            coefs.append(coef)
    start = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=start[1:])

    def vector(expr) -> np.ndarray:
        out = np.zeros(len(variables))
        for v, coef in expr.items():
            out[pos[v.name]] += coef
        return out

    return SiteMatrix(
        col_names=[v.name for v in variables],
        col_lower=np.array([-INF if v.lowBound is None else v.lowBound for v in variables],
                           dtype=float),
        col_upper=np.array([INF if v.upBound is None else v.upBound for v in variables],
                           dtype=float),
        cost=vector(lp.objective), row_names=names, row_lower=np.array(lower, dtype=float),
        row_upper=np.array(upper, dtype=float), start=start,
        index=np.array(cols, dtype=np.int64), value=np.array(coefs, dtype=float),
        x={k: pos[v.name] for k, v in model.x.items() if not isinstance(v, int)},
        a={k: pos[v.name] for k, v in model.a.items()},
        e={k: pos[v.name] for k, v in model.e.items()},
        terms={k: vector(t) for k, t in model.terms.items()})


def canonical(m: SiteMatrix) -> dict:
    """A column-order-free form of ``m`` for comparison: rows in order with their terms by
    column name, bounds and costs by column name, the x/a/e maps by name."""
    names = m.col_names
    rows = [(m.row_names[r], float(m.row_lower[r]), float(m.row_upper[r]),
             [(names[j], float(v)) for j, v in zip(m.index[m.start[r]:m.start[r + 1]].tolist(),
                                                   m.value[m.start[r]:m.start[r + 1]].tolist(),
                                                   strict=True)])
            for r in range(m.n_rows)]
    cols = sorted((names[j], float(m.col_lower[j]), float(m.col_upper[j]), float(m.cost[j]))
                  for j in range(m.n_cols))
    terms = {k: sorted((names[j], float(v[j])) for j in np.flatnonzero(v))
             for k, v in m.terms.items()}
    maps = {k: sorted((key, names[j]) for key, j in getattr(m, k).items())
            for k in ("x", "a", "e")}
    return {"rows": rows, "cols": cols, "terms": terms, **maps}
