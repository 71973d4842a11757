"""relu-shallow: the three-layer network with extended-real weights, built from the
enumerated regions, its exact evaluation, verification, files and explanations."""

from shallow.build import FORMAT_VERSION, build
from shallow.io import ShallowFormatError, load_shallow, save_shallow
from shallow.network import ExtendedLayer, InfinityConflict, ShallowNetwork
from shallow.verify import MismatchError, VerifyReport, verify

__all__ = [
    "FORMAT_VERSION", "ExtendedLayer", "InfinityConflict", "MismatchError", "ShallowFormatError",
    "ShallowNetwork", "VerifyReport", "build", "load_shallow", "save_shallow", "verify",
]
