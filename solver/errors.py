"""The errors dingdian raises: bad input, a solver that failed, a planner that found no plan.

Every problem found in a scenario's files is reported as one :class:`ScenarioError` whose
``str()`` is a single line a planner can act on, naming the file, the row as Excel shows it
(the heading is row 1, so "row 13" is the 12th data line) and the field::

    facilities.csv row 13, field 'lon': point (99.1, 38.2) lies outside 甘州区

:class:`ScenarioErrors` carries several at once (``dingdian validate`` lists every problem).

A file's contents are never echoed whole: a value quoted from a file is cut to
:data:`QUOTE_CHARS` characters (:func:`clip`), and a message to :data:`MESSAGE_CHARS`, so a
wrong path (``census: /proc/self/environ``) or a binary file cannot print pages of text.
"""

from __future__ import annotations

#: a value quoted from a file in a message is cut to this many characters (:func:`clip`)
QUOTE_CHARS = 40
#: the longest message (a safety net behind :func:`clip`)
MESSAGE_CHARS = 400


def clip(value, limit: int = QUOTE_CHARS) -> str:
    """``value`` as one line of at most ``limit`` characters, cut with "…" when longer: for
    quoting a cell, a heading or a path from a file in a message."""
    text = "".join(c if c.isprintable() else "?" for c in " ".join(str(value).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ScenarioError(Exception):
    """A scenario file is missing, malformed or inconsistent.

    ``file`` is the file's name as the planner sees it (``facilities.csv``), ``row`` the row as
    a spreadsheet shows it (a GeoJSON's feature number, a YAML file's line is in the message) or
    ``None`` when the error is not tied to a row, ``field`` the column or YAML path
    (``grid.urban_radius_m``) or ``None``, and ``message`` the explanation.
    """

    def __init__(
        self,
        file: str,
        row: int | None = None,
        field: str | None = None,
        message: str = "invalid value",
    ) -> None:
        self.file = str(file)
        self.row = row
        self.field = field
        self.message = clip(message, MESSAGE_CHARS)  # one line, whatever the cause said
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.field is not None:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"

    @property
    def problems(self) -> tuple[ScenarioError, ...]:
        """The single problems this error holds: itself (:class:`ScenarioErrors`: several)."""
        return (self,)

    def lines(self, limit: int | None = None) -> list[str]:
        """One line per problem (see :meth:`ScenarioErrors.lines`)."""
        return [str(self)]

    def __reduce__(self):  # keep the fields when pickled (multiprocessing backends)
        return (type(self), (self.file, self.row, self.field, self.message))


class ScenarioErrors(ScenarioError):
    """Several problems found together (``dingdian validate`` lists them all).

    ``problems`` are the single :class:`ScenarioError` s, in the order found; the attributes
    and ``str()`` are the first one's, followed by how many more there are.
    """

    def __init__(self, problems) -> None:
        flat: list[ScenarioError] = []
        seen: set[str] = set()
        for p in problems:
            for one in p.problems:
                if str(one) not in seen:  # a file read twice (a shared census) says it once
                    seen.add(str(one))
                    flat.append(one)
        if not flat:
            raise ValueError("ScenarioErrors needs at least one problem")
        self._problems = tuple(flat)
        first = flat[0]
        super().__init__(first.file, first.row, first.field, first.message)

    @property
    def problems(self) -> tuple[ScenarioError, ...]:
        return self._problems

    def __str__(self) -> str:
        first = ScenarioError.__str__(self)
        more = len(self.problems) - 1
        return first if not more else f"{first} (and {more} more problem{'s' * (more > 1)})"

    def lines(self, limit: int | None = None) -> list[str]:
        """One line per problem, at most ``limit`` of them, then how many are left out."""
        shown = [str(p) for p in self.problems[:limit]]
        rest = len(self.problems) - len(shown)
        return shown + ([f"… and {rest} more problem{'s' * (rest > 1)}"] if rest else [])

    def __reduce__(self):
        return (type(self), (self._problems,))


class SolverFailed(RuntimeError):
    """The solver is missing or crashed, so there is no plan (not an infeasible plan: that is
    a result). ``str()`` is one line, e.g. ``cbc: CBC executable not found``."""


class PlannerFailed(RuntimeError):
    """A planner beside the site model (``beds``, ``nursing``) found no plan.

    ``status`` is ``infeasible`` (proven impossible), ``no_solution`` (stopped before any plan)
    or ``error``; ``str()`` is one line naming the planner and its file.
    """

    def __init__(self, planner: str, file: str, status: str, message: str = "") -> None:
        self.planner, self.file, self.status = planner, file, status
        self.message = " ".join(str(message).split())
        if status == "infeasible":
            text = f"{planner} ({file}) is infeasible: {self.message}; nothing written"
        else:
            text = f"{planner} ({file}): no plan ({status}) {self.message}"
        super().__init__(text)

    def __reduce__(self):
        return (type(self), (self.planner, self.file, self.status, self.message))
