"""The root of every error relu-shallow raises on purpose.

It lives here, in the lowest package of the one-way flow (experiments -> shallow ->
enumerator -> solvers), so that every package can subclass it without importing a
higher one; :mod:`enumerator.errors` and :mod:`shallow` re-export it.

Every error class of the project derives from :class:`ReluShallowError` *and* keeps the
built-in base it had before (``ValueError`` for bad input, ``RuntimeError`` for a search
or solver failure, ``ArithmeticError`` for an evaluation conflict), so code that catches
``ValueError`` keeps working.  Catching ``ReluShallowError`` catches every error the
library raises deliberately; anything else that escapes it is a bug.  The command line
prints a ``ReluShallowError`` as one line (exit 1) and anything else as "internal error"
(``-v`` shows the traceback).
"""

from __future__ import annotations

__all__ = ["InputError", "ReluShallowError"]


class ReluShallowError(Exception):
    """Base class of every error raised deliberately by relu-shallow (input errors, search
    and solver failures); its message is one line naming the problem."""


class InputError(ReluShallowError, ValueError):
    """A value given to a library function is invalid (an option, a point, an architecture
    string); the message names it and what is allowed.  Errors about one kind of input
    have their own classes (``NetworkError``, ``DomainError``, ...)."""
