"""Random malformed scenario files: ``error:`` lines naming the file, exit 2, no traceback.

Hypothesis draws a file of the shipped Zhangye scenario, then one damage: a cell replaced by
junk (text, a negative or fractional number, nothing), a column dropped or renamed, or a row
duplicated. ``dingdian validate`` must accept the file (some damage is harmless, e.g. a new
name), find the targets unreachable (exit 3: a quota made smaller), or refuse it with one
``error:`` line per problem, one of them naming the damaged file, none said twice (a damage
can break a check across files too: a duplicated facility is also one too many in 表2/表3's
count) — never a traceback.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dingdian.cli.main import main

ZHANGYE = Path(__file__).resolve().parents[1] / "scenarios" / "zhangye"
FILES = ["facilities.csv", "targets.csv", "quotas_county.csv", "quotas_street.csv", "census.csv"]
JUNK = st.one_of(
    st.text(min_size=0, max_size=6),
    st.integers(min_value=-10_000, max_value=-1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "NaN", "1e99", "诊所", "2,5", "true"]),
)


@st.composite
def damage(draw):
    file = draw(st.sampled_from(FILES))
    frame = pd.read_csv(ZHANGYE / file, dtype=str, keep_default_na=False)
    how = draw(st.sampled_from(["cell", "cell", "cell", "drop", "rename", "duplicate"]))
    column = draw(st.sampled_from(list(frame.columns)))
    row = draw(st.integers(min_value=0, max_value=len(frame) - 1))
    if how == "cell":
        frame.loc[row, column] = draw(JUNK)
    elif how == "drop":
        frame = frame.drop(columns=[column])
    elif how == "rename":
        frame = frame.rename(columns={column: column + "_x"})
    else:
        frame = pd.concat([frame, frame.iloc[[row]]], ignore_index=True)
    return file, frame


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damage())
def test_malformed_file_gives_one_line(case):
    file, frame = case
    with tempfile.TemporaryDirectory() as tmp:
        scen = Path(tmp) / "zhangye"
        shutil.copytree(ZHANGYE, scen, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        frame.to_csv(scen / file, index=False)
        r = CliRunner().invoke(main, ["validate", str(scen / "scenario.yaml")])
    assert r.exit_code in (0, 2, 3), (r.exit_code, r.output, r.exception)
    assert "Traceback" not in r.output
    if r.exit_code == 2:
        lines = r.stderr.strip().splitlines()
        assert lines and all(line.startswith("error: ") for line in lines), r.stderr
        assert any(file in line for line in lines), r.stderr
        assert len(set(lines)) == len(lines), r.stderr
