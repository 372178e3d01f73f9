"""Cheap construction of PuLP rows and sums, for :mod:`dingdian.models.site`.

PuLP's operators (``x - y``, ``lpSum``, ``expr <= 3``) build a new expression at each step and
call Python for every term. These helpers build the same expressions and constraints in one
step from prepared ``(variable, coefficient)`` lists: the same coefficients, in the same term
order, with the same constants, so that the LP and MPS files PuLP writes stay byte-identical
(``tests/test_golden_lp.py``). Measured in ``benchmarks/README.md``.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

import pulp

EQ, LE, GE = pulp.LpConstraintEQ, pulp.LpConstraintLE, pulp.LpConstraintGE


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while the model is built: the build allocates millions
    of PuLP objects that hold no cycles, and the collector's passes over them grow with the
    model (measured in benchmarks/README.md). plan.xlsx is written under it too: its cells
    all live until the workbook is saved (a fifth of its time on Zhangye)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def add_row(lp: pulp.LpProblem, name: str, terms, sense: int, rhs, constant=0.0) -> None:
    """Add the row ``Σ coef·var + constant (sense) rhs`` from ``(var, coef)`` pairs (distinct
    variables) in one step: the constraint PuLP's operators would build, coefficient for
    coefficient and in the same term order, without their intermediate expressions."""
    expr = pulp.LpAffineExpression(terms, constant=constant)
    lp.addConstraint(pulp.LpConstraint(expr, sense, rhs=rhs), name)


def var_sum(variables) -> pulp.LpAffineExpression:
    """``pulp.lpSum(variables)`` built as one dict when they are distinct variables."""
    variables = list(variables)
    terms = dict.fromkeys(variables, 1)
    if len(terms) == len(variables) and all(type(v) is pulp.LpVariable for v in terms):
        return pulp.LpAffineExpression(terms)
    return pulp.lpSum(variables)


def linear(pairs) -> pulp.LpAffineExpression:
    """``pulp.lpSum(c * v for c, v in pairs)`` as one dict: zero coefficients dropped, as
    PuLP drops them; a repeated variable falls back to lpSum, which adds its coefficients."""
    pairs = list(pairs)
    terms = {v: c for c, v in pairs if c != 0}
    if len(terms) == sum(1 for c, _v in pairs if c != 0):
        return pulp.LpAffineExpression(terms)
    return pulp.lpSum(c * v for c, v in pairs)


def total(expressions) -> pulp.LpAffineExpression:
    """``pulp.lpSum(expressions)``, copying whole dicts where the expressions share no variable."""
    total = pulp.LpAffineExpression()
    for expr in expressions:
        if total.keys().isdisjoint(expr.keys()):
            dict.update(total, expr)
            total.constant += expr.constant
        else:
            total.addInPlace(expr)
    return total


def minus(var: pulp.LpVariable, expr: pulp.LpAffineExpression) -> list[tuple]:
    """The terms of ``var - expr`` in PuLP's order (``var`` not in ``expr``)."""
    return [(var, 1), *((v, -c) for v, c in expr.items())]
