"""relu-shallow: the three-layer network, explanations and the command line."""
