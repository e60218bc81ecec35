//! A `command` agent's stdout line, parsed: never a panic, never an event only bosun
//! or a human may produce.
#![no_main]

use bosun_core::EventKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &str| {
    match EventKind::from_agent_line(line) {
        EventKind::Status { .. } | EventKind::Approval { .. } => panic!("a bosun event from {line:?}"),
        EventKind::Message { role, from, .. } => {
            assert!(from.is_none() && role.as_deref().is_none_or(|r| r == "assistant"), "a human's words from {line:?}");
        }
        _ => {}
    }
});
