"""Research harnesses built on the search: heuristic ablations
(:mod:`enumerator.research.ablation`), closed-form region counts from the literature
(:mod:`enumerator.research.bounds`) and seeded random networks for tests, benchmarks and
experiments (:mod:`enumerator.research.random_nets`)."""
