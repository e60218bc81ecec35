//! Property tests of what agents' bytes can do to bosun: whatever an agent prints
//! or reports, parsing never panics, never speaks for bosun or a human, never lets a
//! rule cover a chained command, and usage figures never wrap.

use bosun_core::policy::{self, Ask};
use bosun_core::{EventKind, ToolKind, Usage};
use proptest::prelude::*;

/// Lines an agent might print: arbitrary text, and JSON objects of every event kind
/// with arbitrary fields (the interesting ones for provenance).
fn agent_line() -> impl Strategy<Value = String> {
    let kinds = prop::sample::select(vec![
        "message",
        "status",
        "approval",
        "approval_request",
        "usage",
        "output",
        "tool_call",
        "tool_result",
        "file_change",
        "error",
        "session",
    ]);
    let field = (
        prop::sample::select(vec!["text", "role", "from", "status", "message", "id", "allow", "by", "input_tokens", "cost_usd"]),
        prop_oneof![
            any::<String>().prop_map(serde_json::Value::from),
            prop::sample::select(vec!["user", "assistant", "human", "bosun", "policy"]).prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
        ],
    );
    let object = (kinds, prop::collection::vec(field, 0..6)).prop_map(|(kind, fields)| {
        let mut map = serde_json::Map::new();
        map.insert("type".into(), kind.into());
        for (k, v) in fields {
            map.insert(k.into(), v);
        }
        serde_json::Value::Object(map).to_string()
    });
    prop_oneof![any::<String>(), object]
}

proptest! {
    #[test]
    fn an_agent_line_never_speaks_for_bosun_or_a_human(line in agent_line()) {
        match EventKind::from_agent_line(&line) {
            EventKind::Status { .. } | EventKind::Approval { .. } => prop_assert!(false, "a bosun event from {line:?}"),
            EventKind::Message { role, from, .. } => {
                prop_assert!(from.is_none() && role.as_deref().is_none_or(|r| r == "assistant"), "a human's words from {line:?}");
            }
            _ => {}
        }
    }

    #[test]
    fn a_command_with_an_operator_is_never_simple(command in "[a-z ;&|<>`()$\n\r'\"\\\\#-]{0,30}") {
        if let Some(argv) = policy::simple_command(&command) {
            prop_assert!(!argv.is_empty());
            let joined = argv.concat();
            for op in [";", "&", "|", "<", ">", "`", "(", ")", "$(", "\n", "\r"] {
                prop_assert!(!joined.contains(op), "{command:?} -> {argv:?}");
            }
        }
    }

    #[test]
    fn no_rule_covers_a_chained_command(
        program in "[a-z]{1,8}",
        arg in "[a-z0-9./-]{0,8}",
        op in prop::sample::select(vec!["&&", "||", ";", "|", ">", "<", "&", "$(", "`", "\n"]),
        tail in "[a-z ]{0,8}",
    ) {
        let safe = format!("{program} {arg}");
        let chained = format!("{safe} {op} {tail}");
        let ask = |command| Ask { tool: "Bash", kind: Some(ToolKind::Command), command: Some(command), path: None };
        let rule = policy::pattern_for(&ask(&safe)).expect("a plain command gets a rule");
        prop_assert!(policy::matches_pattern(&rule, &ask(&safe)), "the rule {rule} covers the ask it came from");
        prop_assert!(!policy::matches_pattern(&rule, &ask(&chained)), "{rule} covers {chained:?}");
        prop_assert!(!policy::matches_pattern(&format!("Bash({program} *)"), &ask(&chained)), "a wildcard covers {chained:?}");
        prop_assert!(policy::pattern_for(&ask(&chained)).is_none(), "no rule is saved for {chained:?}");
    }

    #[test]
    fn usage_never_wraps_and_absurd_reports_are_refused(a in any::<[u64; 3]>(), b in any::<[u64; 3]>(), cost in any::<f64>()) {
        let usage = |t: [u64; 3], cost_usd| Usage { input_tokens: t[0], output_tokens: t[1], cached_tokens: t[2], cost_usd };
        let mut total = usage(a, None);
        total.add(&usage(b, Some(cost)));
        prop_assert!(total.input_tokens >= a[0].max(b[0]) && total.output_tokens >= a[1].max(b[1]) && total.cached_tokens >= a[2].max(b[2]));
        let checked = usage(a, Some(cost)).check();
        let believable = a.iter().all(|&n| n <= bosun_core::task::MAX_REPORTED_TOKENS) && cost.is_finite() && (0.0..=1e6).contains(&cost);
        prop_assert_eq!(checked.is_ok(), believable);
    }
}
