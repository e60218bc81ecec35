//! A command an agent asks to run: a "simple" one never hides an operator that would
//! chain, pipe, redirect or substitute, so no allow rule can cover one that does.
#![no_main]

use bosun_core::policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|command: &str| {
    if let Some(argv) = policy::simple_command(command) {
        assert!(!argv.is_empty());
        let joined = argv.concat();
        for op in [";", "&", "|", "<", ">", "`", "(", ")", "$(", "\n", "\r"] {
            assert!(!joined.contains(op), "{command:?} -> {argv:?}");
        }
    }
});
