"""The R1 bar at the sizes of issue 7, too slow for the test suite.

1. convert + verify (full mode) on 20 seeds each of 3-12-12-1 nets with integer weights
   in {-2..2}, 2-8-8-1 nets with dyadic weights (multiples of 1/8) and 2-8-8-1 nets
   with duplicated / negated / zero / dead neurons;
2. verify of the 2-8-8-1 He-normal net (seed 0) built with each single region left
   out, over [-1, 1]^2 and over R^2 (the issue counted 24 of 102 and 61 of 111 passes).

Writes ``experiments/results/bench_verify_trust.json``.  Run from the repository root:
``python experiments/bench_verify_trust.py``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from enumerator import (
    Box,
    EnumerationError,
    ReLUNetwork,
    SearchOptions,
    Unbounded,
    enumerate_regions,
)
from enumerator.research.random_nets import he_normal_network, quantized_network
from shallow import build, verify

OUT = Path(__file__).resolve().parent / "results" / "bench_verify_trust.json"


def integer_net(seed):
    return quantized_network((3, 12, 12, 1), seed, weight_steps=2, bias_steps=2)


def dyadic_net(seed):
    return quantized_network((2, 8, 8, 1), seed, weight_steps=8, bias_steps=4, step=1 / 8)


def degenerate_net(seed):
    base = he_normal_network((2, 6, 8, 1), seed=seed)
    (W0, b0), (W1, _), (W2, b2) = base.layers
    W0 = np.vstack([W0, W0[0], -W0[1], np.zeros(2), [0.3, 0.3]])
    b0 = np.append(b0, [b0[0], -b0[1], 0.2, -5.0])
    W1 = np.hstack([W1, np.full((8, 4), 0.5)])
    return ReLUNetwork.from_arrays([W0, W1, W2], [b0, np.zeros(8), b2])


def convert_and_verify(kind, make, seeds=range(20)):
    rows = []
    for seed in seeds:
        net = make(seed)
        t0 = time.perf_counter()
        try:
            regions = enumerate_regions(net, options=SearchOptions(include_lower_dim=True)).regions
        except EnumerationError as exc:  # the enumerator's own check refused; not a verify result
            rows.append({"kind": kind, "seed": seed, "enumeration_error": str(exc)})
            print(json.dumps(rows[-1]), flush=True)
            continue
        report = verify(net, build(net, regions), samples=1000, seed=seed)
        row = {"kind": kind, "seed": seed, "patterns": len(regions), "passed": report.passed,
               "max_abs_error": report.max_abs_error, "tolerance": report.tolerance,
               "probes": report.probes, "seconds": round(time.perf_counter() - t0, 2)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def missing_regions(domain):
    net = he_normal_network((2, 8, 8, 1), seed=0)
    regions = enumerate_regions(net, domain, options=SearchOptions(include_lower_dim=True)).regions
    deep = enumerate_regions(net, domain).regions
    full = [i for i, r in enumerate(regions) if r.full_dimensional]
    passed = [i for i in full if verify(net, build(net, regions[:i] + regions[i + 1:], domain),
                                        samples=200, regions=deep).passed]
    row = {"domain": domain.describe(), "regions": len(full), "missing_region_passed": len(passed)}
    print(json.dumps(row), flush=True)
    return row


def main():
    result = {"convert_verify": [], "missing_region": []}
    for kind, make in (("integer 3-12-12-1", integer_net), ("dyadic 2-8-8-1", dyadic_net),
                       ("degenerate 2-10-8-1", degenerate_net)):
        result["convert_verify"] += convert_and_verify(kind, make)
    result["missing_region"] = [missing_regions(Box.cube(2)), missing_regions(Unbounded(2))]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1))
    done = [r for r in result["convert_verify"] if "passed" in r]
    failed = [r for r in done if not r["passed"]]
    print(f"convert+verify: {len(done) - len(failed)} of {len(done)} PASS "
          f"({len(result['convert_verify']) - len(done)} enumeration errors); "
          f"missing region passed: {[r['missing_region_passed'] for r in result['missing_region']]}")


if __name__ == "__main__":
    main()
