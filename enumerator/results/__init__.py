"""What is built on the enumerated regions: the region adjacency graph and linear pieces
(:mod:`enumerator.results.graph`) and regions on disk in Apache Parquet
(:mod:`enumerator.results.regionstore`)."""
