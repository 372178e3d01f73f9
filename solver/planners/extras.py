"""The Zhangye allocation rules computed beside the site model, gathered for the CLI.

* street split (五(一)3, 五(二)3) — :mod:`dingdian.planners.street_split`: applied by the loader before the
  solve; here its report (``street_split.csv``);
* county basic set (四(一)) — :mod:`dingdian.planners.basic_set` (``basic_set.csv``);
* agglomeration and density indices (一(二)2, 附件1) — :mod:`dingdian.planners.indices` (``indices.csv``).

Each becomes an :class:`dingdian.result.ExtraResult`, written by :func:`dingdian.write.outputs.write_outputs`
like the beds and nursing plans (files, ``plan.xlsx`` sheets, a ``summary.json`` section).
Their ``summary["warnings"]`` are printed by ``dingdian solve`` as warning lines.
"""

from __future__ import annotations

import pandas as pd

from dingdian.planners.basic_set import basic_set_extra
from dingdian.planners.indices import indices_extra
from dingdian.planners.street_split import street_split_extra
from dingdian.result import ExtraResult


def rule_extras(sc, plan: pd.DataFrame | None = None, extras=()) -> list[ExtraResult]:
    """The rules' results for scenario ``sc``; the indices need the written ``plan`` frame
    (None: left out, as in ``dingdian validate``), the basic set may use the beds plan in
    ``extras``. Bad input in a hospital list raises :class:`dingdian.errors.ScenarioError`."""
    out = [street_split_extra(sc), basic_set_extra(sc, extras)]
    if plan is not None:
        out.append(indices_extra(sc, plan))
    return [e for e in out if e is not None]
