"""Exit codes of every ``relu-shallow`` command (documented in ``--help`` and the README).

* ``OK`` (0): the command finished and its result is complete;
* ``ERROR`` (1): bad input or a failed check (one clear line on stderr), or ``verify`` FAIL;
* ``USAGE`` (2): wrong options or arguments (click's own code);
* ``INCOMPLETE`` (3): a limit (``--time-limit``, ``--max-regions``, ``--max-memory``) or a
  first Ctrl-C ended the run early; what was printed is a lower bound.  ``count`` still
  writes its ``--checkpoint``; ``convert``, ``compress`` and ``demo`` write nothing
  (a partial network would be wrong), ``verify`` gives no verdict;
* ``ABORTED`` (130): a second Ctrl-C (or any Ctrl-C in ``export``) aborted at once;
  nothing half-written is left (every output is written atomically).
"""

OK = 0
ERROR = 1
USAGE = 2
INCOMPLETE = 3
ABORTED = 130

#: One line for ``--help`` epilogs.
EPILOG = "Exit codes: 0 complete, 1 error or FAIL, 2 usage, 3 incomplete (limit or Ctrl-C), 130 aborted."
