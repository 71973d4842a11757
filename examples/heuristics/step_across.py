"""Example heuristic plug-in (outside the package): a witness for the child across a hyperplane.

The node's witness ``w`` lies at signed distance ``d`` from neuron j's hyperplane and
at least ``slack`` from every other row of the node.  Stepping across the hyperplane
to distance ``min(slack, |d|) / 2`` on the other side moves ``w`` by less than its slack
plus ``|d|``, so the point often still satisfies the node's other rows -- then it
certifies the child without an LP.  When it does not, the search rejects the point
(it checks every witness against every row of the child) and solves the LP as usual:
a wrong witness costs time, never a region.

Use it with ``relu-shallow count NET --no-heuristic geometry --heuristic-file
examples/heuristics/step_across.py`` or in an ablation set named ``step_across``.
"""

import numpy as np

from enumerator.plugins import hookimpl

NAME = "step_across"


@hookimpl
def child_witness(*, node, layer, neuron, state):
    d = float(layer.G[neuron] @ node.witness + layer.off[neuron])  # signed distance to the hyperplane
    if (d > 0) == state or node.lowdim:
        return None  # the witness's own side: the built-in ``witness`` heuristic covers it
    step = abs(d) + 0.5 * min(node.slack, abs(d))
    return node.witness - np.sign(d) * step * layer.G[neuron]
