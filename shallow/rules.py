"""The regions as readable rules: "if these inequalities hold then y = C x + d".

One rule per region: its conditions are the pre-activation inequalities of the neurons
that carry a *facet* of the region inside the domain (``z_j(x) > 0`` for an active
neuron, ``z_j(x) <= 0`` for an inactive one, with ``z_j(x) = a_j . x + c_j``), read off
the region adjacency graph (:mod:`enumerator.results.graph`).  Every other row of the pattern
is redundant within the domain (a full-dimensional polytope is the intersection of its
facet half-spaces), so on the domain's interior the rules hold exactly where the
region does; on a boundary shared by two regions both rules may hold, and both give
the same value (the network is continuous).  Faces thinner than the graph's
``facet_slack`` count as redundant.

With ``merge``, adjacent regions with equal affine maps (one linear piece) become one
rule whose condition is the disjunction of their conditions.

Given the domain, each rule also says which class it predicts
(:func:`shallow.classes.predicted_classes`: ``argmax`` of the outputs, or ``y > 0``
for one output): one class, or several where a decision boundary crosses its regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from enumerator import Domain
from enumerator.results.graph import pieces
from shallow.classes import predicted_classes
from shallow.explain import affine_text

__all__ = ["Rule", "build_rules", "rules_markdown", "rules_json"]


@dataclass(frozen=True, eq=False)
class Rule:
    """One rule: ``y = C x + d`` wherever one of ``conditions`` holds.

    Attributes
    ----------
    regions : tuple of int
        Region indices (graph nodes) it covers.
    conditions : list of list of dict
        One list per region (they are alternatives); each dict is one inequality:
        ``neuron``, ``a`` (coefficients), ``c`` (constant), ``relation`` (``">"`` or ``"<="``),
        read ``a . x + c  relation  0``.
    C, d : ndarray (m, n), (m,)
    classes : tuple of int
        The classes predicted on the rule's regions (empty when not computed).
    """

    regions: tuple
    conditions: list
    C: np.ndarray
    d: np.ndarray
    classes: tuple = ()

    @property
    def predicted_class(self) -> int | None:
        """The class predicted wherever the rule holds, or None (several, or not computed)."""
        return self.classes[0] if len(self.classes) == 1 else None

    def holds(self, X: np.ndarray) -> np.ndarray:
        """Bool (k,): which rows of ``X`` (k, n) satisfy one of the alternatives."""
        out = np.zeros(len(X), dtype=bool)
        for alternative in self.conditions:
            ok = np.ones(len(X), dtype=bool)
            for cond in alternative:
                z = X @ np.asarray(cond["a"]) + cond["c"]
                ok &= z > 0 if cond["relation"] == ">" else z <= 0
            out |= ok
        return out


def build_rules(graph: nx.Graph, merge: bool = False, domain: Domain | None = None,
                backend: str = "highs") -> list[Rule]:
    """Rules from a region graph (:func:`enumerator.results.graph.region_graph`), one per region
    or, with ``merge``, one per linear piece (largest first); with ``domain``, each
    with its predicted classes."""
    groups = sorted(pieces(graph), key=lambda g: (-len(g), min(g))) if merge else [{i} for i in sorted(graph.nodes)]
    rules = []
    for group in groups:
        members = sorted(group)
        conditions = []
        for i in members:
            region, facets = graph.nodes[i]["region"], graph.nodes[i]["facets"]
            conditions.append([{"neuron": int(j), "a": region.A[j].tolist(), "c": float(region.c[j]),
                                "relation": ">" if region.states[j] else "<="} for j in facets])
        first = graph.nodes[members[0]]["region"]
        classes = () if domain is None else tuple(sorted({k for i in members for k in predicted_classes(
            graph.nodes[i]["region"], domain, backend=backend)}))
        rules.append(Rule(tuple(members), conditions, first.C, first.d, classes))
    return rules


def rules_markdown(rules: list[Rule], domain: Domain, title: str = "Rules") -> str:
    """The rules as a Markdown document."""
    lines = [f"# {title}", "", f"For x in {domain.describe()}; `z > 0` means the neuron is on.", ""]
    for k, rule in enumerate(rules):
        names = ", ".join(map(str, rule.regions))
        lines.append(f"## Rule {k + 1} (region{'s' if len(rule.regions) > 1 else ''} {names})")
        lines.append("")
        for a_idx, alternative in enumerate(rule.conditions):
            if len(rule.conditions) > 1:
                lines.append(f"{'If' if a_idx == 0 else 'or if'} (region {rule.regions[a_idx]}):")
            else:
                lines.append("If:" if alternative else "Always (no neuron changes state in the domain):")
            for cond in alternative:
                lines.append(f"- `{affine_text(cond['a'], cond['c'])} {cond['relation']} 0` (neuron {cond['neuron']})")
            lines.append("")
        lines.append("then:")
        lines.append("")
        for i in range(len(rule.d)):
            lines.append(f"- `y{i} = {affine_text(rule.C[i], rule.d[i])}`")
        if len(rule.classes) == 1:
            lines.append(f"- predicted class: {rule.classes[0]}")
        elif rule.classes:
            lines.append(f"- predicted class: {' or '.join(map(str, rule.classes))} (a decision boundary crosses "
                         "the rule's region)")
        lines.append("")
    return "\n".join(lines)


def rules_json(rules: list[Rule], domain: Domain) -> dict:
    """The rules as a JSON-ready dict: ``domain`` and ``rules`` (regions, conditions, C,
    d, ``classes`` predicted on the rule and ``predicted_class``: the class if there is
    one, else null)."""
    return {"domain": domain.to_metadata(),
            "rules": [{"regions": list(r.regions), "conditions": r.conditions, "C": r.C.tolist(), "d": r.d.tolist(),
                       "classes": list(r.classes), "predicted_class": r.predicted_class} for r in rules]}
