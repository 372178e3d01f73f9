"""Province-sized benchmark instances: ``k`` Zhangye-like cities in one site problem.

A province is many cities. The scale-``k`` instance is ``k`` cities, each a Zhangye scenario
whose SYNTHETIC facilities are drawn by ``scenarios/zhangye/make_facilities.py`` with its own
seed, and which otherwise keeps Zhangye's real data:

* the cities use seeds 2024, 2025, … in turn; city 0 is therefore the shipped Zhangye scenario
  byte for byte (its ``facilities.csv`` is seed 2024). A seed whose city has no feasible plan
  is skipped: a random draw can put more must-cover cells on a county than its target leaves
  facilities (seed 2101: 肃南县 needs 4 pharmacies to keep its covered cells, its 2028 target
  is 3). Each city is checked once by solving it (HiGHS, at most 60 s) and the verdict is cached as ``feasibility.txt``, with the reason when infeasible;
* every city keeps Zhangye's county outlines, census, urban areas (``make_urban_areas.py`` has
  no randomness), 2024 counts, targets (表2/表3) and yearly quotas (表6–表9): the province's
  targets and quotas are the real ones scaled by ``k``, city by city;
* each city is loaded through the normal loader (:func:`dingdian.scenario.loader.load_scenario`: cells,
  population, coverage, crowding), from a ``scenario.yaml`` written next to its cached
  ``facilities.csv`` that points at Zhangye's other files by absolute path, so it is loaded with
  ``allow_outside=True`` (no beds or nursing file);
* its names are then prefixed with the city, ``市001·`` … (facility ids, counties, streets,
  cells), and the cities' problems are concatenated into one :class:`~dingdian.models.data.SiteProblem`.
  The cities share no facility, cell, county or quota, so the province's optimum is the sum of
  the cities' optima.

Sizes (facilities with applicants, cells with a coverage or crowding row): 1× 2,067 facilities
(1,681 existing), 10× ≈ 20.7 k, 100× ≈ 207 k, always six years 2025–2030.

Deterministic: the same ``k`` gives the same problem. Generated ``facilities.csv`` files are
cached under ``benchmarks/.cache/`` (or ``$DINGDIAN_BENCH_CACHE``), keyed by the seed and a hash
of the generator script, so that the loader's time can be measured apart from the generation.

    python benchmarks/generate.py --scale 10      # generate (cache) and print the problem size
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.util
import os
import time
from pathlib import Path

import yaml

from dingdian.models.data import SiteProblem
from dingdian.result import INFEASIBLE
from dingdian.run.backends import solve
from dingdian.run.explain import explain_infeasible
from dingdian.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]

ZHANGYE = ROOT / "scenarios" / "zhangye"
GENERATOR = ZHANGYE / "make_facilities.py"
FIRST_SEED = 2024
FEASIBILITY_LIMIT = 60.0  # seconds for the one-off check of a city
DEFAULT_CACHE = Path(__file__).resolve().parent / ".cache"
_GENERATOR: dict = {}  # the generator module and its World, loaded once


def city_name(i: int) -> str:
    """The prefix of city ``i`` (0-based): ``市001`` …"""
    return f"市{i + 1:03d}"


def cache_dir() -> Path:
    return Path(os.environ.get("DINGDIAN_BENCH_CACHE", DEFAULT_CACHE))


def _generator():
    spec = importlib.util.spec_from_file_location("zhangye_make_facilities", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def city_scenario(seed: int, cache: Path | None = None) -> Path:
    """The ``scenario.yaml`` of the city drawn with ``seed`` (generated once, then cached)."""
    digest = hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:10]
    folder = (cache or cache_dir()) / f"zhangye-{digest}-seed{seed}"
    path = folder / "scenario.yaml"
    if path.is_file():
        return path
    if not _GENERATOR:  # one module and one World for every city of a run
        gen = _generator()
        _GENERATOR.update(module=gen, world=gen.World(ZHANGYE / "scenario.yaml"))
    text, *_ = _GENERATOR["module"].generate(seed, _GENERATOR["world"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "facilities.csv").write_bytes(text.encode("utf-8"))
    config = yaml.safe_load((ZHANGYE / "scenario.yaml").read_text(encoding="utf-8"))
    config.pop("beds", None)
    config.pop("nursing", None)
    config["files"] = {k: str(ZHANGYE / v) for k, v in config["files"].items()}
    config["files"]["facilities"] = "facilities.csv"
    config["synthetic"] = f"benchmark city: make_facilities.py seed {seed}"
    tmp = folder / "scenario.yaml.tmp"
    tmp.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path


def prefixed(problem: SiteProblem, prefix: str) -> SiteProblem:
    """``problem`` with every facility id, county, street and cell prefixed by ``prefix``."""
    def p(name: str) -> str:
        return f"{prefix}{name}" if name else name

    def ids(names) -> tuple[str, ...]:
        return tuple(p(n) for n in names)

    rep = dataclasses.replace
    return rep(
        problem,
        facilities=tuple(rep(f, id=p(f.id), county=p(f.county), street=p(f.street),
                             cell=p(f.cell), moves_from=p(f.moves_from))
                         for f in problem.facilities),
        targets=tuple(rep(t, county=p(t.county)) for t in problem.targets),
        quotas=tuple(rep(q, area=p(q.area)) for q in problem.quotas),
        cover=tuple(rep(c, cell=p(c.cell), county=p(c.county), facilities=ids(c.facilities))
                    for c in problem.cover),
        crowd=tuple(rep(c, cell=p(c.cell), facilities=ids(c.facilities)) for c in problem.crowd),
        near=tuple(rep(n, facility=p(n.facility), others=ids(n.others)) for n in problem.near),
        zone_budget=tuple(rep(z, county=p(z.county)) for z in problem.zone_budget),
        roles=tuple(rep(r, county=p(r.county)) for r in problem.roles),
        exit_plan=tuple(rep(x, county=p(x.county)) for x in problem.exit_plan),
    )


def merge(problems: list[SiteProblem]) -> SiteProblem:
    """One problem holding every city's rows (the cities must share years, options, weights)."""
    first = problems[0]
    for other in problems[1:]:
        for attr in ("base_year", "years", "options", "weights", "gate", "green_channel"):
            if getattr(other, attr) != getattr(first, attr):
                raise ValueError(f"cities differ in {attr}")
    def cat(attr):
        return tuple(row for q in problems for row in getattr(q, attr))

    return dataclasses.replace(first, facilities=cat("facilities"), targets=cat("targets"),
                               quotas=cat("quotas"), cover=cat("cover"), crowd=cat("crowd"),
                               near=cat("near"), zone_budget=cat("zone_budget"),
                               roles=cat("roles"), exit_plan=cat("exit_plan"))


def city_feasible(seed: int, cache: Path | None = None) -> bool:
    """Whether the city of ``seed`` has a feasible plan (solved once, the verdict cached)."""
    path = city_scenario(seed, cache)
    mark = path.parent / "feasibility.txt"
    if not mark.is_file():
        problem = load_scenario(path, allow_outside=True).problem
        status = solve(problem, "highs", time_limit=FEASIBILITY_LIMIT, unique=False).status
        if status == INFEASIBLE:
            status += ": " + "; ".join(explain_infeasible(problem, "highs"))
        mark.write_text(status + "\n", encoding="utf-8")
    return not mark.read_text(encoding="utf-8").startswith(INFEASIBLE)


def city_seeds(count: int, cache: Path | None = None) -> list[int]:
    """The seeds of the first ``count`` feasible cities: 2024, 2025, … (see the docstring)."""
    seeds, seed = [], FIRST_SEED
    while len(seeds) < count:
        if city_feasible(seed, cache):
            seeds.append(seed)
        seed += 1
    return seeds


def generate(scale: int, cache: Path | None = None) -> list[int]:
    """Make sure the ``scale`` cities' files exist in the cache and are checked (not timed)."""
    return city_seeds(scale, cache)


def load_province(scale: int, cache: Path | None = None) -> SiteProblem:
    """The scale-``scale`` problem: cities ``市001`` … loaded by the normal loader, merged."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    cities = []
    for i, seed in enumerate(city_seeds(scale, cache)):
        scenario = load_scenario(city_scenario(seed, cache), allow_outside=True)
        cities.append(prefixed(scenario.problem, f"{city_name(i)}·"))
    return merge(cities)


def size(problem: SiteProblem) -> dict[str, int]:
    return {"facilities": len(problem.facilities),
            "existing": sum(f.existing for f in problem.facilities),
            "cover_rows": len(problem.cover), "crowd_rows": len(problem.crowd),
            "targets": len(problem.targets), "quotas": len(problem.quotas)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    generate(args.scale)
    t1 = time.perf_counter()
    problem = load_province(args.scale)
    t2 = time.perf_counter()
    print(f"scale {args.scale}: generated in {t1 - t0:.1f} s, loaded in {t2 - t1:.1f} s: "
          f"{size(problem)}")


if __name__ == "__main__":
    main()
