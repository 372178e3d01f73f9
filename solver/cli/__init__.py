"""The ``dingdian`` command line: each command parses its options, calls the library, prints.

:mod:`.main` is the ``dingdian`` group and registers one module per command: ``validate`` and
``solve`` (:mod:`.solve`), ``init`` (a new scenario's skeleton), ``scenarios``, ``compare``,
``audit``, ``report`` and ``sweep``. The
exit codes, the console and the one-line ``error:`` are in :mod:`.common`.

May import the public API (:mod:`dingdian`) and, for printing, the shared leaves
(:mod:`dingdian.errors`, :mod:`dingdian.result`) and :mod:`dingdian.models.data` (the kinds).
"""
