"""relu-shallow enumerator: network model, domains and the exact region search."""

from enumerator.api import RegionStream, count_regions, enumerate_regions, iter_regions
from enumerator.domain import Box, Domain, DomainError, Polytope, Unbounded, domain_from_metadata, load_polytope
from enumerator.network import NetworkError, ReLUNetwork
from enumerator.options import Heuristics, SearchOptions
from enumerator.region import EnumerationResult, Region, SearchStats, pack_pattern, unpack_pattern
from enumerator.search import EnumerationError, RegionSearch
from enumerator.subtree import CheckpointError, Subtree, load_checkpoint, save_checkpoint

__all__ = [
    "Box", "CheckpointError", "Domain", "DomainError", "EnumerationError", "EnumerationResult", "Heuristics",
    "NetworkError", "Polytope", "ReLUNetwork", "Region", "RegionSearch", "RegionStream",
    "SearchOptions", "SearchStats", "Subtree", "Unbounded", "count_regions", "domain_from_metadata",
    "enumerate_regions", "iter_regions", "load_checkpoint", "load_polytope", "pack_pattern",
    "save_checkpoint", "unpack_pattern",
]
