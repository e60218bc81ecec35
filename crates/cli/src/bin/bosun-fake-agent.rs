//! The scripted fake agent binary; everything lives in the `bosun-fake-agent` crate.
fn main() {
    std::process::exit(bosun_fake_agent::main())
}
