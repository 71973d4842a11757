"""Every float input of the domain is claimed by exactly one region term of the shallow
network (docs/design.md, section 3, shallow.build), and the shallow output equals the deep
forward pass there within rounding.

The claims are counted by an evaluator written here from docs/design.md, section 3 alone: it
reads the raw arrays of the saved `.npz` file, sums every row in the reverse input
order (not the project's order) and calls a layer-2 unit claimed when every unit it
weighs with an infinite coefficient is 0.  Probes: 10^5 random points, and every
1-ulp neighbour (along each axis and each diagonal) of every vertex of every region,
computed exactly with fractions from the regions' rows and the box edges (2-D).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from oracles import random_net

from enumerator import (
    Box,
    Polytope,
    ReLUNetwork,
    SearchOptions,
    Unbounded,
    enumerate_regions,
)
from enumerator.research.random_nets import he_normal_network
from shallow import build, save_shallow
from shallow.build import branching_rows
from shallow.verify import tolerance

# --- an independent reading of the file -------------------------------------------------

def load_raw(path):
    """Per layer: dense W_fin, W_inf, b_fin, b_inf from the coordinate arrays."""
    f = np.load(path)
    layers = []
    for l in range(3):
        shape = tuple(f[f"W{l}_shape"])
        dense = []
        for part in ("fin", "inf"):
            W = np.zeros(shape)
            np.add.at(W, (f[f"W{l}_{part}_row"], f[f"W{l}_{part}_col"]), f[f"W{l}_{part}_val"])
            dense.append(W)
        layers.append((dense[0], dense[1], f[f"b{l}_fin"], f[f"b{l}_inf"]))
    return layers


def first_layer(layer, X):
    """Layer-1 outputs relu(p + inf q), each row summed from the last input to the first,
    then the bias."""
    W_fin, W_inf, b_fin, b_inf = layer
    P, Q = np.zeros((len(X), len(b_fin))), np.zeros((len(X), len(b_fin)))
    for i in reversed(range(X.shape[1])):
        P += X[:, i:i + 1] * W_fin[:, i]
        Q += X[:, i:i + 1] * W_inf[:, i]
    P, Q = P + b_fin, Q + b_inf
    return np.where(Q > 0, np.inf, np.where(Q < 0, 0.0, np.maximum(P, 0.0)))


def claims(layers, X, chunk=10_000):
    """Per point: how many region terms (layer-2 units added to output 0) are claimed."""
    terms = np.flatnonzero(layers[2][0][0] > 0)
    blockers = sp.csr_matrix((layers[1][1][terms] != 0).astype(np.float32)).T  # (units, terms)
    out = []
    for start in range(0, len(X), chunk):
        H = first_layer(layers[0], X[start:start + chunk])
        blocked = sp.csr_matrix((H > 0).astype(np.float32)) @ blockers  # (points, terms)
        out.append(len(terms) - (blocked > 0).sum(axis=1).A.ravel())
    return np.concatenate(out)


def independent_output(layers, X):
    """The full extended-real evaluation (docs/design.md, section 3), for a few points."""
    H = first_layer(layers[0], X)
    W_fin, W_inf, b_fin, b_inf = layers[1]
    inf = np.isinf(H)
    Hf = np.where(inf, 0.0, H)
    P = Hf @ W_fin.T + b_fin
    Q = Hf @ W_inf.T + b_inf
    neg = (inf.astype(float) @ (W_inf < 0).T) > 0  # layer 2 only has -inf weights on units
    assert not ((inf.astype(float) @ (W_inf > 0).T) > 0).any()
    U = np.where(neg | (Q < 0), 0.0, np.where(Q > 0, np.inf, np.maximum(P, 0.0)))
    assert np.isfinite(U).all()
    W3, _, b3, _ = layers[2]
    return U @ W3.T + b3


# --- probes -------------------------------------------------------------------------

def exact_vertices(regions, box):
    """Points where two or more boundaries of a region meet (the region's rows and the
    box edges), solved exactly with fractions, rounded to the nearest float."""
    found = set()
    edges_A = np.vstack([np.eye(2), np.eye(2)])
    edges_c = np.concatenate([-box.upper, -box.lower])
    for r in regions:
        A = np.vstack([r.A, edges_A])
        c = np.concatenate([r.c, edges_c])
        live = np.flatnonzero(A.any(axis=1))
        for i, j in itertools.combinations(live, 2):
            det = A[i, 0] * A[j, 1] - A[i, 1] * A[j, 0]
            if det == 0:
                continue
            x = np.array([(-c[i] * A[j, 1] + c[j] * A[i, 1]) / det, (-A[i, 0] * c[j] + A[j, 0] * c[i]) / det])
            z = r.A @ x + r.c
            s = r.states
            if np.any(np.abs(x) > 1 + 1e-9) or np.any(np.where(s, z < -1e-9, z > 1e-9)):
                continue  # not a vertex of this region
            a = [[Fraction(v) for v in A[k]] for k in (i, j)]
            b = [-Fraction(c[k]) for k in (i, j)]
            d = a[0][0] * a[1][1] - a[0][1] * a[1][0]
            found.add((float((b[0] * a[1][1] - b[1] * a[0][1]) / d), float((a[0][0] * b[1] - a[1][0] * b[0]) / d)))
    return np.array(sorted(found))


def ulp_neighbours(V):
    """Each point and its 8 neighbours one ulp away along the axes and diagonals."""
    out = []
    for dx, dy in itertools.product((-1, 0, 1), repeat=2):
        P = V.copy()
        for i, d in ((0, dx), (1, dy)):
            if d:
                P[:, i] = np.nextafter(P[:, i], d * np.inf)
        out.append(P)
    return np.vstack(out)


# --- nets ---------------------------------------------------------------------------

def dyadic(seed, rows, biases, width2=5):
    """Given first-layer rows, a dyadic second layer and output (multiples of 1/4)."""
    rng = np.random.default_rng(seed)
    W2 = rng.integers(-8, 9, size=(width2, len(rows))) / 4
    b2 = rng.integers(-4, 5, size=width2) / 4
    return ReLUNetwork.from_arrays([np.array(rows), W2, rng.integers(-8, 9, size=(1, width2)) / 4],
                                   [np.array(biases), b2, [0.25]])


def integer_net(arch, seed):
    rng = np.random.default_rng(seed)
    Ws = [rng.integers(-2, 3, size=(b, a)).astype(float) for a, b in zip(arch[:-1], arch[1:])]
    bs = [rng.integers(-2, 3, size=b).astype(float) for b in arch[1:]]
    return ReLUNetwork.from_arrays(Ws, bs)


def duplicated_negated(seed):
    Ws, bs = random_net((2, 5, 5, 1), seed)
    Ws[0] = np.vstack([Ws[0], Ws[0][0], -Ws[0][1]])
    bs[0] = np.append(bs[0], [bs[0][0], -bs[0][1]])
    Ws[1] = np.hstack([Ws[1], np.random.default_rng(seed).normal(size=(5, 2))])
    return ReLUNetwork.from_arrays(Ws, bs)


NETS = {
    # three hyperplanes through (0.75, -1) on the box edge (the case of issue 7)
    "dyadic_box_edge": lambda: dyadic(0, [[1, 0], [1, 1], [1, -1], [0.5, 1]], [-0.75, 0.25, -1.75, 0.625]),
    # four hyperplanes through the origin; layer-2 neurons through it too (b2 may be 0)
    "dyadic_origin": lambda: dyadic(1, [[1, 0], [0, 1], [1, 1], [1, -1]], [0, 0, 0, 0]),
    "integer_0": lambda: integer_net((2, 6, 6, 1), 0),
    "integer_3": lambda: integer_net((2, 6, 6, 1), 3),
    "duplicated_negated": lambda: duplicated_negated(4),
    "random": lambda: he_normal_network((2, 8, 8, 1), seed=0),
}


@pytest.mark.parametrize("name", sorted(NETS))
def test_one_claim_at_every_float_point(name, tmp_path):
    net = NETS[name]()
    box = Box.cube(2)
    all_patterns = enumerate_regions(net, box, options=SearchOptions(include_lower_dim=True)).regions
    full = [r for r in all_patterns if r.full_dimensional]
    V = ulp_neighbours(exact_vertices(all_patterns, box))
    inside = box.contains(V)
    assert inside.sum() > 50 and (~inside).any()
    R = np.random.default_rng(0).uniform(-1, 1, (100_000, 2))
    for label, regions, compress, random in (("all", all_patterns, True, R), ("full-dim-only", full, True, R[:10_000]),
                                             ("uncompressed", all_patterns, False, R[:10_000])):
        shallow = build(net, regions, box, compress=compress)
        save_shallow(shallow, tmp_path / f"{label}.npz")
        layers = load_raw(tmp_path / f"{label}.npz")
        assert np.all(claims(layers, random) == 1), label
        np.testing.assert_array_equal(claims(layers, V), inside.astype(int), err_msg=label)  # 0 outside the box
        X = V[inside]
        tol = tolerance(net, X)
        assert np.abs(independent_output(layers, X) - net(X)).max() <= tol, label
        assert np.abs(shallow(X) - net(X)).max() <= tol, label
        assert np.all(shallow(V[~inside]) == 0), label
        Rs = R[:2000]
        assert np.abs(shallow(Rs) - net(Rs)).max() <= tolerance(net, Rs), label


def test_one_claim_in_3d_integer_net_near_degenerate_points(tmp_path):
    # A 3-12-12-1 net with weights in {-2..2}: before the tree rule, points such as the
    # one below (three pre-activations within 5e-16 of 0) were claimed by no region.
    net = integer_net((3, 12, 12, 1), 0)
    regions = enumerate_regions(net, options=SearchOptions(include_lower_dim=True)).regions
    shallow = build(net, regions)
    save_shallow(shallow, tmp_path / "s.npz")
    layers = load_raw(tmp_path / "s.npz")
    x = np.array([[-0.5720865143373773, -1.0, -0.07208651433737727]])
    near = np.vstack([x] + [np.nextafter(x, x + d) for d in np.vstack([np.eye(3), -np.eye(3)])])
    near = near[Box.cube(3).contains(near)]
    assert (np.abs(net.forward_with_preactivations(x)[1]) < 1e-15).sum() >= 2
    R = np.vstack([near, np.random.default_rng(1).uniform(-1, 1, (10_000, 3))])
    assert np.all(claims(layers, R) == 1)
    X = R[:1000]
    assert np.abs(shallow(X) - net(X)).max() <= tolerance(net, X)


def test_on_and_off_units_are_exact_negations(tmp_path):
    net = integer_net((2, 6, 6, 1), 0)
    shallow = build(net, enumerate_regions(net, options=SearchOptions(include_lower_dim=True)).regions)
    W_fin, W_inf, b_fin, b_inf = (np.asarray(a.toarray()) if hasattr(a, "toarray") else a
                                  for a in (shallow.layers[0].W_fin, shallow.layers[0].W_inf,
                                            shallow.layers[0].b_fin, shallow.layers[0].b_inf))
    on = np.flatnonzero(W_inf.any(axis=1))
    off = {(row.tobytes(), c) for row, c in zip(W_fin + 0.0, b_fin + 0.0)}  # + 0.0: no -0.0
    assert len(on) > 5
    # every on unit (1 - inf z) has its off twin relu(z) with the exactly negated row
    assert all(((-W_inf[u] + 0.0).tobytes(), -b_inf[u] + 0.0) in off for u in on)
    assert np.all(W_fin[on] == 0) and np.all(b_fin[on] == 1.0)


def brute_force_branching(patterns):
    keep = np.zeros(patterns.shape, dtype=bool)
    for r, p in enumerate(patterns):
        for j in range(patterns.shape[1]):
            below = patterns[np.all(patterns[:, :j] == p[:j], axis=1)]
            keep[r, j] = below[:, j].min() != below[:, j].max()
    return keep


def test_branching_rows_against_brute_force():
    rng = np.random.default_rng(0)
    for trial in range(20):
        P = np.unique(rng.integers(0, 2, size=(rng.integers(1, 40), 7)).astype(bool), axis=0)
        P = P[rng.permutation(len(P))]
        keep, rep = branching_rows(P)
        np.testing.assert_array_equal(keep, brute_force_branching(P))
        for r in range(len(P)):  # the representative shares the prefix
            for j in range(7):
                assert np.array_equal(P[rep[r, j], :j], P[r, :j])
    with pytest.raises(ValueError, match="twice"):
        branching_rows(np.array([[True, False], [True, False]]))


@pytest.mark.parametrize("domain", [Polytope(np.array([[1.0, 1.0], [-1.0, 0.25], [0.0, -1.0]]), np.array([1.0, 0.5, 0.75])),
                                    Unbounded(2)], ids=["polytope", "R2"])
def test_one_claim_on_polytope_and_unbounded_domains(domain, tmp_path):
    # No domain units there: every float point of the plane descends to one region.
    net = integer_net((2, 6, 6, 1), 3)
    regions = enumerate_regions(net, domain, options=SearchOptions(include_lower_dim=True)).regions
    shallow = build(net, regions, domain)
    save_shallow(shallow, tmp_path / "s.npz")
    rng = np.random.default_rng(2)
    X = np.vstack([rng.uniform(-2, 2, (20_000, 2)), rng.normal(scale=1e6, size=(2000, 2))])
    assert np.all(claims(load_raw(tmp_path / "s.npz"), X) == 1)
    inside = X[domain.contains(X)][:3000]
    assert len(inside) > 1000
    assert np.abs(shallow(inside) - net(inside)).max() <= tolerance(net, inside)
