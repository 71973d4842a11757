"""Pictures of the regions of a 2-input network, or of a plane through a wider one.

A plane ``x(z1, z2) = origin + z1 u + z2 v`` through the input space turns the network
into a 2-input network: compose its first layer with the plane (``W0 [u v]``, ``b0 + W0
origin``); its regions are exactly the original regions cut by the plane (same
patterns).  The plane is a 2-D :class:`enumerator.slices.AffineSlice` whose window is
``(z1, z2)`` in a square, intersected with the network's domain, so it is a polygon
(:func:`plane_slice`).  The axes are named after the plane's directions.

Fills: ``region`` (a light colour per region), ``output`` (a heat map of one output),
``class`` (the predicted class: ``argmax`` of the outputs, or ``y > 0`` for one
output; exact polygons, the region cut by the class's half-planes, with a legend) or
``none``.  Region edges get thinner past :data:`THIN_EDGES_FROM` regions, so a dense net
stays readable.

Each region's polygon is exact: the vertices of ``{x : G x <= h}`` (its rows and the
window's, :func:`enumerator.polytope.region_halfspaces`) by
``scipy.spatial.HalfspaceIntersection`` from the region's Chebyshev centre, in convex
hull order.  The polygons partition the window, so their areas sum to its area up to
rounding.  The decision boundary is exact too: on each region the output is affine, so
the boundary (``f = 0`` for one output, ``f_k = f_l`` above the other outputs for
several) is a line clipped to the region, a segment in closed form.

Drawing uses matplotlib's object API (no pyplot state), Agg canvas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enumerator import Box, Domain, DomainError, enumerate_regions
from enumerator.files import atomic_output
from enumerator.models import as_network
from enumerator.polytope import Halfspaces, domain_halfspaces, max_slack, region_halfspaces
from enumerator.slices import AffineSlice, affine_slice
from shallow.classes import class_cut, n_classes
from solvers.errors import InputError

__all__ = ["plane_slice", "region_polygons", "class_polygons", "decision_segments", "plot_regions", "PlotResult",
           "THIN_EDGES_FROM"]

#: Region count from which the region edges are drawn thinner (width ~ 1/sqrt(count)).
THIN_EDGES_FROM = 2000


def plane_slice(domain: Domain, origin, u, v, lo: float = -1.0, hi: float = 1.0, names=None) -> AffineSlice:
    """The window ``(z1, z2) in [lo, hi]^2`` of the plane through ``origin`` spanned by
    ``u``, ``v``, intersected with ``domain`` (:func:`enumerator.slices.affine_slice`).

    Raises
    ------
    DomainError
        If ``u`` and ``v`` are not independent, or the window misses the domain's interior.
    """
    return affine_slice(domain, origin, [u, v], window=(lo, hi), names=names)


def _polygon(hs: Halfspaces) -> np.ndarray | None:
    """Vertices (k, 2) of the polytope ``hs`` in counter-clockwise order; None if it has no interior."""
    from scipy.spatial import ConvexHull, HalfspaceIntersection

    radius, centre = max_slack(hs)
    if not radius > 0:
        return None
    vertices = HalfspaceIntersection(np.hstack([hs.G, -hs.h[:, None]]), centre).intersections
    return vertices[ConvexHull(vertices).vertices]


def class_polygons(regions, domain: Domain, polygons=None) -> list[tuple[int, np.ndarray]]:
    """``(class, polygon)`` pieces of the regions of a 2-input network: each region cut
    where one class is predicted (:func:`shallow.classes.class_cut`), exact like
    :func:`region_polygons`.  A region whose vertices (``polygons``, from
    :func:`region_polygons`, computed if not given) all predict one class strictly is
    that class's whole (the set where a class wins is convex); only the others are cut."""
    polygons = region_polygons(regions, domain) if polygons is None else polygons
    out = []
    for r, vertices in zip(regions, polygons):
        if vertices is None:
            continue
        Y = vertices @ r.C.T + r.d
        if Y.shape[1] == 1:
            winners = {1} if np.all(Y[:, 0] > 0) else {0} if np.all(Y[:, 0] < 0) else None
        else:
            top = np.sort(Y, axis=1)
            winners = set(np.argmax(Y, axis=1).tolist()) if np.all(top[:, -1] > top[:, -2]) else None
        if winners is not None and len(winners) == 1:
            out.append((winners.pop(), vertices))
            continue
        hs = region_halfspaces(r, domain)
        for k in range(n_classes(r.C.shape[0])):
            cut = class_cut(hs, r.C, r.d, k)
            polygon = None if cut is None else _polygon(cut)
            if polygon is not None:
                out.append((k, polygon))
    return out


def region_polygons(regions, domain: Domain) -> list[np.ndarray]:
    """Exact polygon (vertices (k, 2), counter-clockwise) of each region of a 2-input
    network over the bounded ``domain``."""
    return [_polygon(region_halfspaces(r, domain)) for r in regions]


def polygon_area(vertices: np.ndarray) -> float:
    """Shoelace area of a polygon with vertices in order."""
    x, y = vertices[:, 0], vertices[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _clip_line(point: np.ndarray, direction: np.ndarray, G: np.ndarray, h: np.ndarray):
    """The segment of the line ``point + tau direction`` inside ``G x <= h``, or None."""
    lo, hi = -np.inf, np.inf
    rate, room = G @ direction, h - G @ point
    for r, b in zip(rate, room):
        if abs(r) < 1e-15:
            if b < 0:
                return None
        elif r > 0:
            hi = min(hi, b / r)
        else:
            lo = max(lo, b / r)
    if not hi - lo > 1e-12 or not np.isfinite(hi - lo):
        return None
    return np.stack([point + lo * direction, point + hi * direction])


def decision_segments(regions, domain: Domain) -> list[np.ndarray]:
    """Segments (2, 2) of the decision boundary (one output: ``f = 0``; several: where
    the two largest outputs tie) within each region, exact (see the module docstring)."""
    out = []
    for r in regions:
        hs = region_halfspaces(r, domain)
        m = r.C.shape[0]
        pairs = [(0, None)] if m == 1 else [(k, l) for k in range(m) for l in range(k + 1, m)]
        for k, l in pairs:
            a, c = (r.C[0], r.d[0]) if l is None else (r.C[k] - r.C[l], r.d[k] - r.d[l])
            if not np.linalg.norm(a) > 0:
                continue
            G, h = hs.G, hs.h
            if l is not None:  # both above every other output
                others = [j for j in range(m) if j not in (k, l)]
                G = np.vstack([G, r.C[others] - r.C[k]])
                h = np.concatenate([h, r.d[k] - r.d[others]])
            seg = _clip_line(-c * a / (a @ a), np.array([-a[1], a[0]]), G, h)
            if seg is not None:
                out.append(seg)
    return out


@dataclass(frozen=True, eq=False)
class PlotResult:
    """What :func:`plot_regions` drew: the polygons, their areas and the window's area."""

    polygons: list
    areas: np.ndarray
    domain_area: float
    n_segments: int


def plot_regions(network, path, *, domain: Domain | None = None, plane: AffineSlice | None = None,
                 fill: str = "region", output: int = 0, boundary: bool = True, points=None, labels=None,
                 backend: str = "highs", title: str | None = None, dpi: int = 100,
                 size: tuple[float, float] = (6.4, 6.0), class_names=None) -> PlotResult:
    """Draw the regions of ``network`` (2 inputs, or the plane ``plane`` through it) to ``path`` (PNG/SVG/PDF).

    Parameters
    ----------
    network : ReLUNetwork, path, torch.nn.Module or scikit-learn MLP
        Anything :func:`enumerator.models.as_network` accepts.
    domain : Domain or None
        Bounded 2-D domain of a 2-input network (default ``[-1, 1]^2``); ignored with ``plane``.
    plane : AffineSlice or None
        A 2-D slice with a bounded domain (:func:`plane_slice`); the axes carry its names.
    fill : {"region", "output", "class", "none"}
        Colour each region, show output ``output`` as a heat map under the region
        edges, colour the predicted class (:func:`class_polygons`, with a legend), or nothing.
    boundary : bool
        Draw the exact decision boundary (see :func:`decision_segments`).
    points, labels : arrays (k, 2) and (k,) or None
        Data points to overlay (in plot coordinates), coloured by label.
    dpi, size : int, (width, height) in inches
        Resolution and size of the picture.
    class_names : sequence of str or None
        Legend entries of ``fill="class"`` (default ``class 0``, ``class 1``, ...).

    Raises
    ------
    DomainError
        If the network does not have 2 inputs and no plane is given, or the domain is unbounded.
    """
    network = as_network(network)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.colors import CenteredNorm
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    if fill not in ("region", "output", "class", "none"):
        raise InputError(f"unknown fill '{fill}'; choose region, output, class or none")
    if plane is not None:
        if plane.k != 2:
            raise DomainError(f"plot draws a 2-D plane; the slice has {plane.k} directions")
        net2, dom2 = plane.restrict(network), plane.domain
        names = tuple(f"z{i + 1}: {name}" for i, name in enumerate(plane.names))
    elif network.n_inputs == 2:
        net2, dom2, names = network, domain or Box.cube(2), ("x0", "x1")
    else:
        raise DomainError(f"the network has {network.n_inputs} inputs: plot a plane through it (--through or "
                          "--origin/--directions)")
    if not (np.all(np.isfinite(dom2.lower)) and np.all(np.isfinite(dom2.upper))):
        raise DomainError("plot needs a bounded domain")
    if not 0 <= output < network.n_outputs:
        raise InputError(f"output {output} does not exist: the network has {network.n_outputs} outputs")
    if not (dpi > 0 and len(size) == 2 and min(size) > 0):
        raise InputError(f"dpi and size must be positive, got {dpi} and {tuple(size)}")
    regions = enumerate_regions(net2, dom2, backend=backend).regions
    polygons = region_polygons(regions, dom2)
    window = _polygon(domain_halfspaces(dom2))
    areas = np.array([polygon_area(p) if p is not None else 0.0 for p in polygons])
    segments = decision_segments(regions, dom2) if boundary else []

    fig = Figure(figsize=tuple(size), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    drawn = [p for p in polygons if p is not None]
    width = 0.5 if len(drawn) < THIN_EDGES_FROM else max(0.05, 0.5 * float(np.sqrt(THIN_EDGES_FROM / len(drawn))))
    edges = "0.25" if len(drawn) < THIN_EDGES_FROM else "0.4"
    faces = "none"
    if fill == "output":
        lo, hi = dom2.lower, dom2.upper
        s, t = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
        Z = net2(np.c_[s.ravel(), t.ravel()])[:, output].reshape(s.shape)
        inside = dom2.contains(np.c_[s.ravel(), t.ravel()]).reshape(s.shape)
        image = ax.imshow(np.where(inside, Z, np.nan), origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]),
                          cmap="RdBu_r", norm=CenteredNorm(), aspect="auto")
        fig.colorbar(image, ax=ax, shrink=0.8, label=f"output y{output}")
    elif fill == "region":
        order = np.random.default_rng(0).permutation(len(drawn))
        faces = [_pastel(i) for i in order]
    elif fill == "class":
        pieces = class_polygons(regions, dom2, polygons)
        count = n_classes(network.n_outputs)
        class_names = list(class_names) if class_names else [f"class {k}" for k in range(count)]
        if len(class_names) != count:
            raise InputError(f"{len(class_names)} class names for {count} classes")
        colours = [_class_colour(k) for k in range(count)]
        ax.add_collection(PolyCollection([p for _, p in pieces], facecolors=[colours[k] for k, _ in pieces],
                                         edgecolors="none"))
        present = sorted({k for k, _ in pieces})
        ax.legend(handles=[Patch(facecolor=colours[k], edgecolor="0.3", label=class_names[k]) for k in present],
                  title="predicted class", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    ax.add_collection(PolyCollection(drawn, facecolors=faces, edgecolors=edges, linewidths=width))
    if segments:
        ax.add_collection(LineCollection(segments, colors="black", linewidths=2.2, label="decision boundary"))
    if points is not None:
        points = np.asarray(points, float)
        colors = None if labels is None else np.asarray(labels)
        ax.scatter(points[:, 0], points[:, 1], c=colors, cmap="bwr", s=8, edgecolors="black",
                   linewidths=0.3, zorder=3)
    ax.set_xlim(window[:, 0].min(), window[:, 0].max())
    ax.set_ylim(window[:, 1].min(), window[:, 1].max())
    ax.set_aspect("equal")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(title or f"{len(drawn)} linear regions" + (", decision boundary in black" if segments else ""))
    target = str(path)
    with atomic_output(target) as tmp:
        fig.savefig(tmp, format=target.rsplit(".", 1)[-1].lower() if "." in target else "png",
                    bbox_inches="tight")
    return PlotResult(polygons, areas, polygon_area(window), len(segments))


def _class_colour(k: int) -> tuple[float, float, float]:
    """A saturated-but-light colour per class (tab10 blended half with white)."""
    from matplotlib import colormaps

    r, g, b, _ = colormaps["tab10"](k % 10)
    return (0.45 + 0.55 * r, 0.45 + 0.55 * g, 0.45 + 0.55 * b)


def _pastel(i: int) -> tuple[float, float, float]:
    """A light colour from matplotlib's tab20 cycle (blended with white)."""
    from matplotlib import colormaps

    r, g, b, _ = colormaps["tab20"](i % 20)
    return (0.72 + 0.28 * r, 0.72 + 0.28 * g, 0.72 + 0.28 * b)
