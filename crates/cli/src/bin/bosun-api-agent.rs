//! bosun's agent on a model API (the `api` runtime); everything lives in the `bosun-api-agent` crate.
fn main() {
    std::process::exit(bosun_api_agent::main())
}
