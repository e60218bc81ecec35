//! `bosun-bench`: bosun's benchmark harness (see BENCHMARKS.md).

fn main() {}
