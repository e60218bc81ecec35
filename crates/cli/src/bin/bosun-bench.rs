//! `bosun-bench`: bosun's benchmark harness (see BENCHMARKS.md); everything lives in the `bosun-bench` crate.
fn main() {
    std::process::exit(bosun_bench::main())
}
