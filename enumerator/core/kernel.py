"""The compiled depth-first search of the geometry core (numba, ``cache=True``).

Everything here is a plain top-level ``@numba.njit`` function over arrays; the Python
driver (:mod:`enumerator.core.driver`) allocates and validates every array, calls
:func:`search` and reads the records back.  Nothing raises inside: :func:`search`
returns a code.

State of the search (all arrays owned by the driver, so the kernel can return and be
re-entered where it stopped):

* an explicit stack of node records ``(depth, bit, cut, level, side, n_gen)``: a node
  of depth ``m`` fixes neurons ``0..m-1``; ``bit``/``cut`` are the state of neuron
  ``m-1`` and whether its row cuts; its polytope's generators live in slab
  ``(level, side)`` (``level = -1``: no generators yet, R^n above depth n);
* the current path: neuron states, cut flags, every neuron's exact pre-activation row
  ``z = ZA[k] . x + Z0[k]`` given the earlier layers' states, and the signed unit rows
  ``RG[k] . x + RH[k] >= 0`` of the cut neurons;
* slabs of generators, two per depth: ``GV[level, side, i] = (x, t)`` is a vertex
  (``t = 1``) or a unit extreme ray (``t = 0``) of the node polytope (the extreme rays of
  its homogenisation ``{(x, t): t >= 0, a.x + c t >= 0}``), and ``GI[...]`` the bitset of
  facets it lies on (domain facets first, then ``n_dom + neuron``).

A split by neuron ``k`` evaluates ``s(g) = ZA[k] . x_g + Z0[k] t_g`` at every generator.
All positive (negative) beyond the tolerance: the neuron keeps one state on the whole
node (no row).  Both signs: both children are full-dimensional (a hyperplane strictly
between two points of a full-dimensional polytope splits its interior); their
generators are those on their side plus, for every adjacent pair across the
hyperplane, the point where the edge meets it (double description: the polytopes stay
simple, so two generators are adjacent iff they share ``n - 1`` facets; with at most 64
facets and many generators the edges are found by sorting facet-set keys,
O(v n log v), else pairwise).  A generator
within tolerance of the hyperplane, or a child over the generator budget, hands the
node back to the LP search (record ``HANDOFF``).  Leaves get a witness (vertex mean
plus a multiple of the mean ray, clipped into the box) and its certified slack (least
distance to a cut row, as in the LP: the domain is hard and carries no slack); ``REGION`` if it is at least ``leaf_slack * max(1, |x|_inf)`` (at least the LP
search's threshold, frame units; :func:`enumerator.certifier.kernel_rules`), else ``THIN`` (the driver decides it by LP).

Frontier events (parallel search, :mod:`enumerator.parallel.frontier`; off when
``fdepth < 0``): every node popped at depth ``fdepth`` and every ``HANDOFF`` above it
is an *event*, numbered ``fcount[0] = 0, 1, ...`` in the (deterministic) depth-first
order.  Event ``i`` is searched only if ``fown[i]`` (``i < len(fown)``); otherwise it is
skipped, or emitted as a ``FRONTIER`` / ``HANDOFF`` record with its witness when
``femit``.  On reaching event ``fend`` the kernel returns ``PAUSE`` with that node back
on the stack (its counters undone), so a later call with a larger ``fend`` goes on
from there.  The subtrees of the events partition the tree: each region lies below
exactly one event.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

import solvers.numba_cache  # noqa: F401  (before the decorators: the per-user cache folder)

# record kinds
REGION, THIN, HANDOFF, START_HANDOFF, FRONTIER = 0, 1, 2, 3, 4
# return codes
DONE, BATCH_FULL, PAUSE = 0, 1, 2
# counters
C_NODES, C_SPLITS, C_FIXED, C_HANDOFFS = 0, 1, 2, 3
# stack record columns
S_DEPTH, S_BIT, S_CUT, S_LEVEL, S_SIDE, S_NGEN = 0, 1, 2, 3, 4, 5

_ONE = np.uint64(1)
_ZERO = np.uint64(0)


class Network(NamedTuple):
    """The network and domain in the frame (read-only): ``n`` inputs, ``n_dom`` domain
    facets, ``nw`` words per facet bitset, ``bounded`` domain ``[lo, hi]`` of size
    ``extent``; layers as ``starts``, ``widths``, flat weights ``Wflat`` (offsets
    ``Woff``) and biases ``bflat``; over R^n the root cone's ``Ainv`` and vertex ``v0``."""

    n: int
    n_dom: int
    nw: int
    bounded: bool
    lo: np.ndarray
    hi: np.ndarray
    extent: float
    starts: np.ndarray
    widths: np.ndarray
    Wflat: np.ndarray
    Woff: np.ndarray
    bflat: np.ndarray
    Ainv: np.ndarray
    v0: np.ndarray


class Path(NamedTuple):
    """The current path: rows ``ZA x + Z0`` (norms ``NRM``) of every neuron, signed unit
    rows ``RG``, ``RH`` of the cut ones, ``state`` and ``cut`` flags, the ``forced``
    states of a resumed prefix, and the explicit ``stack`` of records (``sp[0]`` of them)."""

    ZA: np.ndarray
    Z0: np.ndarray
    NRM: np.ndarray
    RG: np.ndarray
    RH: np.ndarray
    state: np.ndarray
    cut: np.ndarray
    forced: np.ndarray
    stack: np.ndarray
    sp: np.ndarray


class Slabs(NamedTuple):
    """Generators ``GV`` and facet bitsets ``GI`` per (level, side), and the scratch of a
    split (``vals``, ``scratch_v``, ``scratch_i``; ``keys``, ``owner`` for the sorted edge
    search, used above ``sort_pairs`` generator pairs)."""

    GV: np.ndarray
    GI: np.ndarray
    vals: np.ndarray
    scratch_v: np.ndarray
    scratch_i: np.ndarray
    keys: np.ndarray
    owner: np.ndarray
    sort_pairs: int


class Records(NamedTuple):
    """The output batch: ``nout[0]`` records of ``kind``, ``depth``, ``state``, ``cut``,
    witness ``x`` and its ``slack``."""

    kind: np.ndarray
    depth: np.ndarray
    state: np.ndarray
    cut: np.ndarray
    x: np.ndarray
    slack: np.ndarray
    nout: np.ndarray


class Frontier(NamedTuple):
    """Frontier events (module docstring): split ``depth`` (-1: off), events searched
    (``own``), the pause event ``end``, ``emit`` the others, the event ``count`` so far."""

    depth: int
    own: np.ndarray
    end: int
    emit: bool
    count: np.ndarray


@nb.njit(cache=True)
def _shared_facets(GI, a_lvl, a_side, p, q, nw):
    count = 0
    for w in range(nw):
        x = GI[a_lvl, a_side, p, w] & GI[a_lvl, a_side, q, w]
        while x:
            x &= x - _ONE
            count += 1
    return count


@nb.njit(cache=True)
def _norm(v):
    """Euclidean norm without under- or overflow (largest entry factored out)."""
    m = 0.0
    for q in range(v.shape[0]):
        m = max(m, abs(v[q]))
    if m == 0.0 or not np.isfinite(m):
        return m
    s = 0.0
    for q in range(v.shape[0]):
        s += (v[q] / m) ** 2
    return m * np.sqrt(s)


@nb.njit(cache=True)
def _new_generator(GV, GI, lvl, side, p, q, vals, scratch_v, scratch_i, r, n, nw, bounded, fbit_w, fbit):
    """Write into scratch row ``r`` the point where the edge (p, q) meets the hyperplane
    (``vals[p] > 0 > vals[q]``): a positive combination, normalised to a vertex
    (``t = 1``) or a unit ray (``t = 0``), on the edge's facets and the new one."""
    sp, sq = vals[p], vals[q]
    wp, wq = -sq / (sp - sq), sp / (sp - sq)
    for d in range(n + 1):
        scratch_v[r, d] = wp * GV[lvl, side, p, d] + wq * GV[lvl, side, q, d]
    tt = scratch_v[r, n]
    if bounded:
        scratch_v[r, n] = 1.0
    elif tt > 0.0:
        for d in range(n):
            scratch_v[r, d] /= tt
        scratch_v[r, n] = 1.0
    else:
        nr = _norm(scratch_v[r, :n])
        for d in range(n):
            scratch_v[r, d] /= nr
        scratch_v[r, n] = 0.0
    for w in range(nw):
        scratch_i[r, w] = GI[lvl, side, p, w] & GI[lvl, side, q, w]
    scratch_i[r, fbit_w] |= fbit


@nb.njit(cache=True)
def _layer_rows(layer, starts, widths, Wflat, Woff, bflat, state, ZA, Z0, NRM, n):
    """Rows of ``layer``'s neurons given the states of the layer before (dense layers)."""
    st, w = starts[layer], widths[layer]
    p, wp = starts[layer - 1], widths[layer - 1]
    base = Woff[layer]
    for j in range(w):
        row = base + j * wp
        acc0 = bflat[st + j]
        for q in range(n):
            ZA[st + j, q] = 0.0
        for i in range(wp):
            if state[p + i]:
                wji = Wflat[row + i]
                acc0 += wji * Z0[p + i]
                for q in range(n):
                    ZA[st + j, q] += wji * ZA[p + i, q]
        Z0[st + j] = acc0
        NRM[st + j] = _norm(ZA[st + j])


@nb.njit(cache=True)
def _witness(GV, lvl, side, nv, n, depth, cut, RG, RH, bounded, lo, hi, slack_cap, x):
    """Write a witness of the node polytope into ``x`` (inside the domain); return its
    certified slack: least distance to a cut row (the domain's facets carry no slack,
    as in the LP), capped by ``slack_cap``.  (Leaf helpers take the plain arrays they
    touch: they run once per region.)"""
    for q in range(n):
        x[q] = 0.0
    nvert = 0
    nray = 0
    for g in range(nv):
        if GV[lvl, side, g, n] > 0.0:
            nvert += 1
            for q in range(n):
                x[q] += GV[lvl, side, g, q]
    if nvert == 0:
        return -1.0
    for q in range(n):
        x[q] /= nvert
    spread = 0.0  # largest coordinate offset of a vertex from the mean
    for g in range(nv):
        if GV[lvl, side, g, n] > 0.0:
            for q in range(n):
                spread = max(spread, abs(GV[lvl, side, g, q] - x[q]))
        else:
            nray += 1
    if nray > 0:
        step = (1.0 + spread) / nray
        for g in range(nv):
            if GV[lvl, side, g, n] == 0.0:
                for q in range(n):
                    x[q] += step * GV[lvl, side, g, q]
    if bounded:  # the domain is hard (no slack), as in the LP; the mean is inside up to rounding
        for q in range(n):
            x[q] = min(max(x[q], lo[q]), hi[q])
    slack = slack_cap
    for k in range(depth):
        if cut[k]:
            d = RH[k]
            for q in range(n):
                d += RG[k, q] * x[q]
            slack = min(slack, d)
    return slack


@nb.njit(cache=True)
def _push(stack, sp, depth, bit, cut, level, side, ngen):
    """Push a child record: ``depth`` neurons decided, the last one ``bit`` (``cut``: it
    adds a row), its generators at ``GV[level, side, :ngen]`` (level -1: none yet)."""
    r = sp[0]
    stack[r, S_DEPTH] = depth
    stack[r, S_BIT] = bit
    stack[r, S_CUT] = cut
    stack[r, S_LEVEL] = level
    stack[r, S_SIDE] = side
    stack[r, S_NGEN] = ngen
    sp[0] = r + 1


@nb.njit(cache=True)
def _handoff_event(front, counters, sp, t, m):
    """A ``HANDOFF`` above the frontier depth is a frontier event: 0 emit it, 1 skip
    it, 2 pause (the node back on the stack ``t``, its counters undone)."""
    e = front.count[0]
    if e >= front.end:
        sp[0] = t + 1
        counters[C_HANDOFFS] -= 1
        if m > 0:
            counters[C_NODES] -= 1
        return 2
    front.count[0] = e + 1
    if e < front.own.shape[0] and front.own[e]:
        return 0
    return 0 if front.emit else 1


@nb.njit(cache=True)
def _emit(kind, depth, state, cut, x, slack, n, out_kind, out_depth, out_state, out_cut, out_x, out_slack, nout):
    r = nout[0]
    out_kind[r] = kind
    out_depth[r] = depth
    for k in range(depth):
        out_state[r, k] = state[k]
        out_cut[r, k] = cut[k]
    for q in range(n):
        out_x[r, q] = x[q]
    out_slack[r] = slack
    nout[0] = r + 1


@nb.njit(cache=True)
def _hand_off(is_forced, m, x, net, path, GV, lvl, side, nv, slack_cap, counters, t, front, rec):
    """A node the geometry cannot decide (a vertex near the hyperplane, or over the
    vertex budget): counted, then -- unless it is a frontier event this run skips --
    emitted for the LP search (``START_HANDOFF`` on a forced path, else ``HANDOFF``
    with its vertex-mean witness).  Returns ``PAUSE`` when the frontier says so, else 0."""
    counters[C_HANDOFFS] += 1
    if m < front.depth:
        skip = _handoff_event(front, counters, path.sp, t, m)
        if skip == 2:
            return PAUSE
        if skip == 1:
            return 0
    kind, slack = START_HANDOFF, 0.0
    if not is_forced:
        kind = HANDOFF
        slack = _witness(GV, lvl, side, nv, net.n, m, path.cut, path.RG, path.RH, net.bounded, net.lo, net.hi,
                         slack_cap, x)
    _emit(kind, m, path.state, path.cut, x, slack, net.n,
          rec.kind, rec.depth, rec.state, rec.cut, rec.x, rec.slack, rec.nout)
    return 0


@nb.njit(cache=True)
def _root_cone(GV, GI, lvl, n, n_dom, nw, state, Ainv, v0):
    """Generators of ``{x : sign(z_i) = state_i, i < n}`` for the first n (independent)
    rows ``z = A x + c`` of layer 0: the vertex ``v0 = -A^-1 c`` and the rays
    ``+-A^-1 e_i`` (unit), into slab ``(lvl, 0)``.  Facet 0 is ``t >= 0``."""
    for q in range(n):
        GV[lvl, 0, 0, q] = v0[q]
    GV[lvl, 0, 0, n] = 1.0
    for w in range(nw):
        GI[lvl, 0, 0, w] = np.uint64(0)
    for i in range(n):
        f = n_dom + i
        GI[lvl, 0, 0, f // 64] |= _ONE << np.uint64(f % 64)
    for i in range(n):
        sgn = 1.0 if state[i] else -1.0
        norm = _norm(Ainv[:, i].copy())
        for q in range(n):
            GV[lvl, 0, i + 1, q] = sgn * Ainv[q, i] / norm
        GV[lvl, 0, i + 1, n] = 0.0
        for w in range(nw):
            GI[lvl, 0, i + 1, w] = np.uint64(0)
        GI[lvl, 0, i + 1, 0] |= _ONE  # t >= 0
        for j in range(n):
            if j != i:
                f = n_dom + j
                GI[lvl, 0, i + 1, f // 64] |= _ONE << np.uint64(f % 64)
    return n + 1


@nb.njit(cache=True)
def search(net, rules, path, slabs, rec, front, counters):
    """Run the search from the nodes on ``path.stack`` (``path.sp[0]`` of them) until
    the stack is empty (returns ``DONE``), the output batch ``rec`` is full
    (``BATCH_FULL``) or a frontier event pauses it (``PAUSE``).

    ``path.forced``: neuron states every node must follow (resuming a subtree); a
    forced node that geometry cannot follow is emitted as ``START_HANDOFF``.  ``front``:
    frontier events (module docstring).  ``rules``: the certifier's thresholds
    (:class:`enumerator.certifier.KernelRules`): ``tol`` of the near-zero test
    ``|s(g)| <= tol * (|a| (sqrt(n) |x_g|_inf + extent) + |c| t_g)`` (a bound on the
    rounding of ``s`` and of ``x_g``), the leaf threshold, the slack cap and the
    constant-row norm.  ``counters``: int64[4] (``C_*``).
    """
    n, n_dom, nw, bounded, lo, hi, scale, starts, widths, Wflat, Woff, bflat, Ainv, v0 = net
    tol, slack_min, slack_cap, const_norm = rules
    ZA, Z0, NRM, RG, RH, state, cut, forced, stack, sp = path
    GV, GI, vals, scratch_v, scratch_i, keys, owner, sort_pairs = slabs
    fdepth, fown, fend, femit, fcount = front
    out_kind, out_depth, out_state, out_cut, out_x, out_slack, nout = rec
    n_forced = forced.shape[0]
    N = state.shape[0]
    L = starts.shape[0]
    vmax = GV.shape[2]
    B = out_kind.shape[0]
    x = np.empty(n)
    rootn = np.sqrt(n)
    while sp[0] > 0:
        if nout[0] >= B:
            return BATCH_FULL
        sp[0] -= 1
        t = sp[0]
        m = stack[t, S_DEPTH]
        lvl = stack[t, S_LEVEL]
        side = stack[t, S_SIDE]
        nv = stack[t, S_NGEN]
        if m > 0:
            counters[C_NODES] += 1
            k = m - 1
            state[k] = stack[t, S_BIT]
            cut[k] = stack[t, S_CUT]
            if cut[k]:
                sgn = (1.0 if state[k] else -1.0) / NRM[k]
                for q in range(n):
                    RG[k, q] = sgn * ZA[k, q]
                RH[k] = sgn * Z0[k]
        if not bounded and m < n:  # R^n above depth n: every sign pattern of n independent rows
            for b in range(2):
                if m < n_forced and forced[m] != b:
                    continue
                _push(stack, sp, m + 1, b, 1, -1, 0, 0)
            continue
        if lvl < 0:
            lvl, side = m, 0
            nv = _root_cone(GV, GI, lvl, n, n_dom, nw, state, Ainv, v0)
        if m == fdepth:
            e = fcount[0]
            if e >= fend:  # not this call's: back on the stack
                sp[0] = t + 1
                if m > 0:
                    counters[C_NODES] -= 1
                return PAUSE
            fcount[0] = e + 1
            if e >= fown.shape[0] or not fown[e]:
                if femit:
                    slack = _witness(GV, lvl, side, nv, n, m, cut, RG, RH, bounded, lo, hi, slack_cap, x)
                    _emit(FRONTIER, m, state, cut, x, slack, n,
                          out_kind, out_depth, out_state, out_cut, out_x, out_slack, nout)
                continue
        if m == N:
            slack = _witness(GV, lvl, side, nv, n, m, cut, RG, RH, bounded, lo, hi, slack_cap, x)
            big = 1.0
            for q in range(n):
                big = max(big, abs(x[q]))
            _emit(REGION if slack >= slack_min * big else THIN, m, state, cut, x, slack, n,
                  out_kind, out_depth, out_state, out_cut, out_x, out_slack, nout)
            continue
        k = m
        for layer in range(1, L):
            if starts[layer] == k:
                _layer_rows(layer, starts, widths, Wflat, Woff, bflat, state, ZA, Z0, NRM, n)
        is_forced = k < n_forced
        a_norm = NRM[k]
        if a_norm <= const_norm:  # constant row: decided by the sign of its value, never cuts
            b = 1 if Z0[k] > 0.0 else 0
            if is_forced and forced[k] != b:
                _emit(START_HANDOFF, m, state, cut, x, 0.0, n,
                      out_kind, out_depth, out_state, out_cut, out_x, out_slack, nout)
                continue
            _push(stack, sp, m + 1, b, 0, lvl, side, nv)
            continue
        npos = 0
        nneg = 0
        near = False
        c0 = Z0[k]
        for g in range(nv):
            s = c0 * GV[lvl, side, g, n]
            xn = 0.0
            for q in range(n):
                s += ZA[k, q] * GV[lvl, side, g, q]
                xn = max(xn, abs(GV[lvl, side, g, q]))
            thr = tol * (a_norm * (rootn * xn + scale) + abs(c0) * GV[lvl, side, g, n])
            vals[g] = s
            if abs(s) <= thr:
                near = True
                break
            if s > 0.0:
                npos += 1
            else:
                nneg += 1
        if near:
            if _hand_off(is_forced, m, x, net, path, GV, lvl, side, nv, slack_cap, counters, t, front, rec) == PAUSE:
                return PAUSE
            continue
        if nneg == 0 or npos == 0:  # the hyperplane misses the node: one child, no row
            b = 1 if nneg == 0 else 0
            if is_forced and forced[k] != b:
                _emit(START_HANDOFF, m, state, cut, x, 0.0, n,
                      out_kind, out_depth, out_state, out_cut, out_x, out_slack, nout)
                continue
            counters[C_FIXED] += 1
            _push(stack, sp, m + 1, b, 0, lvl, side, nv)
            continue
        # both sides: new generators on the edges that cross the hyperplane
        nnew = 0
        over = False
        fbit_w = (n_dom + k) // 64
        fbit = _ONE << np.uint64((n_dom + k) % 64)
        if nw == 1 and npos * nneg > sort_pairs:
            # an edge is a set of n - 1 facets: key every negative generator's n edges
            # (its facet set minus one facet), sort, and look up the positive ones'
            nk = 0
            for q in range(nv):
                if vals[q] < 0.0:
                    b = GI[lvl, side, q, 0]
                    rest = b
                    while rest:
                        low = rest & (_ZERO - rest)
                        keys[nk] = b ^ low
                        owner[nk] = q
                        nk += 1
                        rest ^= low
            order = np.argsort(keys[:nk])
            skeys = keys[:nk][order]
            for p in range(nv):
                if vals[p] <= 0.0:
                    continue
                b = GI[lvl, side, p, 0]
                rest = b
                while rest and not over:
                    low = rest & (_ZERO - rest)
                    key = b ^ low
                    rest ^= low
                    i = np.searchsorted(skeys, key)
                    while i < nk and skeys[i] == key:
                        if nnew >= vmax:
                            over = True
                            break
                        _new_generator(GV, GI, lvl, side, p, owner[order[i]], vals, scratch_v, scratch_i,
                                       nnew, n, nw, bounded, fbit_w, fbit)
                        nnew += 1
                        i += 1
                if over:
                    break
        else:
            for p in range(nv):
                if vals[p] <= 0.0:
                    continue
                for q in range(nv):
                    if vals[q] >= 0.0 or _shared_facets(GI, lvl, side, p, q, nw) != n - 1:
                        continue
                    if nnew >= vmax:
                        over = True
                        break
                    _new_generator(GV, GI, lvl, side, p, q, vals, scratch_v, scratch_i,
                                   nnew, n, nw, bounded, fbit_w, fbit)
                    nnew += 1
                if over:
                    break
        if over or npos + nnew > vmax or nneg + nnew > vmax:
            if _hand_off(is_forced, m, x, net, path, GV, lvl, side, nv, slack_cap, counters, t, front, rec) == PAUSE:
                return PAUSE
            continue
        counters[C_SPLITS] += 1
        # children into level m + 1: side 1 the active child, side 0 the inactive one
        cl = m + 1
        for b in range(2):
            cnt = 0
            for g in range(nv):
                if (vals[g] > 0.0) == (b == 1):
                    for d in range(n + 1):
                        GV[cl, b, cnt, d] = GV[lvl, side, g, d]
                    for w in range(nw):
                        GI[cl, b, cnt, w] = GI[lvl, side, g, w]
                    cnt += 1
            for g in range(nnew):
                for d in range(n + 1):
                    GV[cl, b, cnt, d] = scratch_v[g, d]
                for w in range(nw):
                    GI[cl, b, cnt, w] = scratch_i[g, w]
                cnt += 1
            if is_forced and forced[k] != b:
                continue
            _push(stack, sp, m + 1, b, 1, cl, b, cnt)
    return DONE
