"""Errors raised while reading a scenario.

Every problem found in a scenario's files is reported as one :class:`ScenarioError` whose
``str()`` is a single line a planner can act on, naming the file, the data row (1-based, the
header excluded: "row 12" is the 12th data line of the CSV) and the field::

    facilities.csv row 12, field 'lon': point (99.1, 38.2) lies outside 甘州区
"""

from __future__ import annotations


class ScenarioError(Exception):
    """A scenario file is missing, malformed or inconsistent.

    ``file`` is the file's name as the planner sees it (``facilities.csv``), ``row`` the 1-based
    data row or ``None`` when the error is not tied to a row, ``field`` the column or YAML path
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
        self.message = " ".join(str(message).split())  # one line, whatever the cause said
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.field is not None:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"

    def __reduce__(self):  # keep the fields when pickled (multiprocessing backends)
        return (type(self), (self.file, self.row, self.field, self.message))
