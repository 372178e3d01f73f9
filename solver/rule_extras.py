"""The Zhangye allocation rules computed beside the site model, gathered for the CLI.

* street split (五(一)3, 五(二)3) — :mod:`solver.street_split`: applied by the loader before the
  solve; here its report (``street_split.csv``);
* county basic set (四(一)) — :mod:`solver.basic_set` (``basic_set.csv``);
* agglomeration and density indices (一(二)2, 附件1) — :mod:`solver.indices` (``indices.csv``).

Each becomes an :class:`solver.result.ExtraResult`, written by :func:`solver.outputs.write_outputs`
like the beds and nursing plans (files, ``plan.xlsx`` sheets, a ``summary.json`` section).
Their ``summary["warnings"]`` are printed by ``dingdian solve`` as warning lines.
"""

from __future__ import annotations

import pandas as pd

from solver.basic_set import basic_set_extra
from solver.indices import indices_extra
from solver.result import ExtraResult
from solver.street_split import street_split_extra


def rule_extras(sc, plan: pd.DataFrame | None = None, extras=()) -> list[ExtraResult]:
    """The rules' results for scenario ``sc``; the indices need the written ``plan`` frame
    (None: left out, as in ``dingdian validate``), the basic set may use the beds plan in
    ``extras``. Bad input in a hospital list raises :class:`solver.errors.ScenarioError`."""
    out = [street_split_extra(sc), basic_set_extra(sc, extras)]
    if plan is not None:
        out.append(indices_extra(sc, plan))
    return [e for e in out if e is not None]
