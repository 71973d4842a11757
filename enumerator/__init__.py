"""relu-shallow enumerator: network model, domains and the exact region search."""

from enumerator.api import RegionStream, count_regions, enumerate_regions, iter_regions
from enumerator.domain import Box, Domain, DomainError, Polytope, Unbounded, domain_from_metadata, load_polytope
from enumerator.network import NetworkError, ReLUNetwork
from enumerator.options import Heuristics, SearchOptions
from enumerator.region import EnumerationResult, Region, SearchStats, pack_pattern, unpack_pattern
from enumerator.search import EnumerationError, RegionSearch

__all__ = [
    "Box", "Domain", "DomainError", "EnumerationError", "EnumerationResult", "Heuristics",
    "NetworkError", "Polytope", "ReLUNetwork", "Region", "RegionSearch", "RegionStream",
    "SearchOptions", "SearchStats", "Unbounded", "count_regions", "enumerate_regions",
    "domain_from_metadata", "iter_regions", "load_polytope", "pack_pattern", "unpack_pattern",
]
