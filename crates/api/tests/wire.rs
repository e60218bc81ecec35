//! Every response body survives the trip a client makes: serialized by the server,
//! decoded into its type, serialized again (as `bosun ... --json` prints it) — the
//! same JSON each time, flattened and tagged parts included.

use std::collections::BTreeMap;

use bosun_api::{AgentInfo, AgentsBody, BrokenProfile, GcAction, GcItem, Installed, MASK, PendingApproval, RepoSummary};
use bosun_core::{AgentProfile, Approval, ApprovalStatus, Permissions, Runtime, TaskStatus, ToolKind};
use chrono::{TimeZone, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn round_trip<T: Serialize + DeserializeOwned>(sent: &T) -> Value {
    let wire = serde_json::to_string(sent).unwrap();
    let decoded: T = serde_json::from_str(&wire).unwrap_or_else(|e| panic!("{wire}: {e}"));
    let again = serde_json::to_value(&decoded).unwrap();
    assert_eq!(again, serde_json::from_str::<Value>(&wire).unwrap(), "{wire}");
    again
}

fn approval(input: Option<Value>, answered: bool) -> Approval {
    let at = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
    Approval {
        id: 4,
        task_id: 12,
        run_id: 3,
        request_id: "req-1".into(),
        tool: "Bash".into(),
        kind: Some(ToolKind::Command),
        command: Some("cargo test".into()),
        path: None,
        input,
        status: if answered { ApprovalStatus::Denied } else { ApprovalStatus::Pending },
        answered_by: answered.then(|| "ada".into()),
        message: answered.then(|| "not now".into()),
        created_at: at,
        answered_at: answered.then_some(at),
    }
}

#[test]
fn approvals() {
    for (input, answered) in [(Some(json!({"command": "cargo test", "n": 1.5})), false), (None, true), (Some(json!(null)), false)] {
        round_trip(&approval(input.clone(), answered));
        let pending = PendingApproval { approval: approval(input, answered), title: "fix it".into(), agent: None, always: None };
        let v = round_trip(&vec![pending]);
        assert_eq!((v[0]["task_id"].clone(), v[0]["title"].clone()), (json!(12), json!("fix it")), "flattened: {v}");
    }
}

#[test]
fn agents() {
    let runtimes = [
        Runtime::Command { command: vec!["sh".into(), "-c".into(), "true".into()], interactive: true },
        Runtime::ClaudeCode,
        Runtime::Codex,
        Runtime::Gemini,
        Runtime::Acp { command: vec!["acp-agent".into()] },
    ];
    let agents = runtimes
        .into_iter()
        .map(|runtime| {
            let mut profile = AgentProfile::new("a", runtime);
            profile.model = Some("m".into());
            profile.max_concurrent = Some(2);
            profile.permissions = Permissions::Yolo;
            profile.env = BTreeMap::from([("KEY".to_string(), MASK.to_string())]);
            profile.timeout = Some(60);
            profile.source = Some("/c/agents/a.md".into());
            let installed = Installed { ok: false, program: "x".into(), path: None, version: None, problem: Some("not on PATH".into()) };
            AgentInfo { profile, installed, models: vec!["m".into()], endpoint: None }
        })
        .collect();
    let body = AgentsBody { agents, broken: vec![BrokenProfile { path: "/c/agents/b.md".into(), error: "no front matter".into() }] };
    let v = round_trip(&body);
    assert_eq!(v["agents"][1]["runtime"], "claude-code");
    assert_eq!(v["agents"][0]["command"], json!(["sh", "-c", "true"]));
}

#[test]
fn gc_and_repos() {
    let item = GcItem {
        task_id: 3,
        status: TaskStatus::Done,
        worktree: None,
        branch: Some("bosun/3-x".into()),
        action: GcAction::Remove,
        reason: "merged".into(),
    };
    assert_eq!(round_trip(&vec![item])[0]["action"], "remove");
    round_trip(&vec![RepoSummary { repo: "/r".into(), tasks: 2, by_status: BTreeMap::from([("done".into(), 1), ("review".into(), 1)]) }]);
}
