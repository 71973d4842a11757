"""relu-shallow: the three-layer network with extended-real weights, built from the
enumerated regions, its exact evaluation, verification, files and explanations.

The names below are imported on first use (PEP 562), so that the command line's
``--help`` does not load the search, numba or scipy.  ``shallow.build`` and
``shallow.verify`` stay the functions of those names even after their submodules
(of the same names) are imported, as with eager imports.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from enumerator.lazy import lazy_exports

#: public name -> module that defines it
_EXPORTS = {
    "FORMAT_VERSION": "shallow.build", "build": "shallow.build",
    "Conversion": "shallow.conversion", "IncompleteConversion": "shallow.conversion", "convert": "shallow.conversion",
    "ShallowFormatError": "shallow.io", "load_shallow": "shallow.io", "save_shallow": "shallow.io",
    "ExtendedLayer": "shallow.network", "InfinityConflict": "shallow.network", "ShallowNetwork": "shallow.network",
    "MismatchError": "shallow.verify", "VerifyReport": "shallow.verify", "verify": "shallow.verify",
    "ReluShallowError": "solvers.errors",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


class _Package(types.ModuleType):
    """This package's module type: importing a submodule does not bind it over a public
    function of the same name (``build``, ``verify``)."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == f"{__name__}.{name}":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from shallow.build import FORMAT_VERSION, build
    from shallow.conversion import Conversion, IncompleteConversion, convert
    from shallow.io import ShallowFormatError, load_shallow, save_shallow
    from shallow.network import ExtendedLayer, InfinityConflict, ShallowNetwork
    from shallow.verify import MismatchError, VerifyReport, verify
    from solvers.errors import ReluShallowError
