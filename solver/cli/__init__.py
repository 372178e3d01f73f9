"""The ``dingdian`` command line: each command parses its options, calls the library, prints.

One module per command group (:mod:`.main` holds ``validate`` and ``solve`` and registers the
others); the exit codes and the one-line ``error:`` messages are listed in :mod:`.common`.

May import the public API (:mod:`dingdian`) and, for printing, the shared leaves.
"""
