//! An agent profile file (YAML front matter + Markdown): any bytes give a profile or an
//! error, never a panic.
#![no_main]

use bosun_core::AgentProfile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = AgentProfile::parse(text, "fuzz");
});
