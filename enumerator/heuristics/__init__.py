"""Pruning heuristics of the search, one module each; all are exact (skip LPs, never
regions) and each is switched by a field of :class:`enumerator.options.Heuristics`."""
