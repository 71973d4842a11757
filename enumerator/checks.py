"""Argument checks at the entry of the search API: wrong types and values fail at once
with one clear message instead of deep inside the search.

Checked: ``network`` is a :class:`ReLUNetwork`; ``domain`` a :class:`Domain` (or None)
of the network's dimension (domains validate their own bounds and ``slack_cap`` when
built, and the search refuses extents it cannot resolve, :mod:`enumerator.scaling`);
``options`` a :class:`SearchOptions` (or None) with an integer
``max_regions`` >= 0 and a finite ``time_limit`` > 0; ``backend`` a string.
"""

from __future__ import annotations

import math
import numbers


from enumerator.domain import Domain
from enumerator.network import ReLUNetwork
from enumerator.options import SearchOptions

__all__ = ["check_search_inputs"]


def _type_name(value) -> str:
    return "None" if value is None else type(value).__name__


def check_search_inputs(network, domain, options, backend) -> None:
    """Raise TypeError / ValueError / DomainError for arguments a search cannot run on.

    Raises
    ------
    TypeError
        An argument of the wrong type (the message names it and the type given).
    ValueError
        ``max_regions`` < 0 or ``time_limit`` not a finite positive number.
    DomainError
        A domain of the wrong dimension.
    """
    if not isinstance(network, ReLUNetwork):
        raise TypeError(f"network must be a ReLUNetwork (see ReLUNetwork.from_arrays / from_npz), "
                        f"got {_type_name(network)}")
    if domain is not None:
        if not isinstance(domain, Domain):
            raise TypeError(f"domain must be a Box, Polytope or Unbounded (or None), got {_type_name(domain)}")
        domain.check_dimension(network.n_inputs)
    if options is not None:
        if not isinstance(options, SearchOptions):
            raise TypeError(f"options must be a SearchOptions (or None), got {_type_name(options)}")
        mr, tl = options.max_regions, options.time_limit
        if mr is not None and (isinstance(mr, bool) or not isinstance(mr, numbers.Integral)):
            raise TypeError(f"max_regions must be an int or None, got {mr!r}")
        if tl is not None and (isinstance(tl, bool) or not isinstance(tl, numbers.Real) or not math.isfinite(tl)):
            raise ValueError(f"time_limit must be a finite number of seconds or None, got {tl!r}")
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a backend name such as 'highs', got {_type_name(backend)}")
