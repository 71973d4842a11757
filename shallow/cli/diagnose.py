"""Hints at the cause when the search fails on a numerically hostile input.

The search reports *where* it failed ("neither state of neuron 0 is feasible",
"witness ... has forward-pass pattern ..."); :func:`input_hints` says *what in the
input* is likely at fault, so the message points the user the right way.  It is only
consulted after a failure and never refuses an input by itself.
"""

from __future__ import annotations

import numpy as np

__all__ = ["input_hints"]

HUGE, TINY = 1e100, 1e-100  # weight magnitudes far outside what float64 LP rows handle well
NARROW = 1e-6  # domain widths near the search's resolution (slack_min 1e-9)
CANCEL = 1e-12  # |pre-activation| / |its terms| at rounding level


def _weight_hint(network) -> list[str]:
    vals = np.concatenate([np.abs(a).ravel() for W, b in network.layers for a in (W, b)])
    nz = vals[vals > 0]
    out = []
    if nz.size and nz.max() > HUGE:
        out.append(f"weights reach magnitude {nz.max():.3g}, far beyond what float64 LP rows handle "
                   "(rescale the network)")
    if nz.size and nz.min() < TINY:
        out.append(f"weights as small as {nz.min():.3g} underflow in float64 arithmetic (rescale the network)")
    return out


def _domain_hint(domain) -> list[str]:
    lo, hi = np.asarray(domain.lower), np.asarray(domain.upper)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return []
    width = float(np.min(hi - lo))
    out = []
    if width < NARROW:
        out.append(f"the domain is only {width:.3g} wide, close to the search's resolution "
                   "(a region needs an inscribed radius of about 1e-9): rescale the inputs")
    top = float(max(np.max(np.abs(lo)), np.max(np.abs(hi))))
    if top > 1e12:
        out.append(f"the domain reaches coordinates of {top:.3g}: tolerances of 1e-9 are lost in rounding "
                   "there; use a smaller box or --unbounded")
    return out


def _cancellation_hint(network, domain) -> list[str]:
    """Neurons whose pre-activation is rounding noise of its terms at every sample."""
    rng = np.random.default_rng(0)
    X = domain.sample(64, rng)
    H = X
    start = 0
    for li, (W, b) in enumerate(network.layers[:-1]):
        with np.errstate(all="ignore"):
            Z = H @ W.T + b
            T = np.abs(H) @ np.abs(W).T + np.abs(b)
            noise = (np.abs(Z) <= CANCEL * T) & (T > 0)
        bad = np.flatnonzero(noise.all(axis=0))
        if bad.size:
            u = int(bad[0])
            return [f"neuron {start + u} (layer {li}, unit {u}) cancels to rounding: its pre-activation is "
                    f"about {float(np.median(np.abs(Z[:, u]))):.2g} where its terms are about "
                    f"{float(np.median(T[:, u])):.2g} (weights that cancel exactly; remove or fix that neuron)"]
        H = np.maximum(Z, 0.0)
        start += W.shape[0]
    return []


def input_hints(network, domain) -> list[str]:
    """Plain-language causes found in ``network`` / ``domain`` (empty if none)."""
    hints = _weight_hint(network)
    if domain is not None:
        hints += _domain_hint(domain)
        try:
            hints += _cancellation_hint(network, domain)
        except Exception:  # noqa: BLE001 -- a hint must never replace the real error
            pass
    return hints
