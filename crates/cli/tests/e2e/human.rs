//! The human in the loop with the `command` runtime: say, approvals, reply, limits.

use serde_json::{Value, json};

use crate::harness::{USER, World, wait_for};

fn messages(w: &World, id: i64) -> Vec<String> {
    w.events(id).iter().filter(|e| e["type"] == "message").map(|e| e["text"].as_str().unwrap().to_string()).collect()
}

#[test]
fn say_reaches_the_running_agent_and_a_queued_one_at_start() {
    let mut w = World::new("app");
    w.agent_with(
        "listener",
        "interactive: true\nmax_concurrent: 1\n",
        &[
            json!({"read_prompt": true}),
            json!({"say": "{prompt}"}),
            json!({"listen": 1}),
            json!({"write": {"path": "done.txt", "content": "x"}}),
        ],
    );
    w.start(&[]);
    let first = w.add("First", "listener");
    let second = w.add("Second", "listener");
    wait_for("the agent to read its prompt", || messages(&w, first).iter().any(|m| m.starts_with("prompt:")).then_some(()));
    assert_eq!(w.task(second)["status"], "queued");
    assert_eq!(w.json(&["say", &second.to_string(), "mention the changelog"])["delivered"], "at_start");
    assert_eq!(w.json(&["say", &first.to_string(), "use the existing retry helper"])["delivered"], "now");
    w.wait_status(first, "review");
    let events = w.events(first);
    let said = events.iter().find(|e| e["type"] == "message" && e["role"] == "user").expect("the message is in the log");
    assert_eq!(said["text"], "use the existing retry helper");
    assert_eq!(said["from"], USER, "the sender is the CLI's $USER: {said}");
    assert!(messages(&w, first).contains(&"heard: use the existing retry helper".to_string()));
    // The queued task's message arrived with its prompt; it still listens for one more.
    wait_for("the second agent to start", || messages(&w, second).iter().any(|m| m.contains("mention the changelog")).then_some(()));
    w.bosun(&["say", &second.to_string(), "thanks"]);
    w.wait_status(second, "review");
    // Nothing can be said to a task in review: reply is for that.
    let out = w.try_bosun(&["say", &first.to_string(), "hello?"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bosun reply"));
}

#[test]
fn approvals_deny_approve_always_and_policy() {
    let mut w = World::new("app");
    w.agent_with(
        "careful",
        "interactive: true\n",
        &[
            json!({"read_prompt": true}),
            json!({"ask": {"id": "a1", "tool": "Bash", "kind": "command", "command": "rm -rf build"}}),
            json!({"ask": {"id": "a2", "tool": "Bash", "kind": "command", "command": "cargo test --workspace"}}),
            json!({"ask": {"id": "a3", "tool": "Write", "kind": "write", "path": "notes.md"}}),
            json!({"write": {"path": "notes.md", "content": "ok\n"}}),
        ],
    );
    w.start(&[]);
    let id = w.add("Careful work", "careful");
    let t = w.wait_status(id, "needs_input");
    assert_eq!(t["runs"][0]["status"], "needs_input");
    let pending = w.json(&["approvals"]);
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!((pending[0]["task_id"].as_i64(), pending[0]["tool"].as_str()), (Some(id), Some("Bash")));
    assert_eq!(pending[0]["command"], "rm -rf build");
    assert_eq!(pending[0]["agent"], "careful");
    assert!(w.bosun(&["approvals"]).contains("rm -rf build"));

    let denied = w.json(&["deny", &id.to_string(), "--reason", "not in prod"]);
    assert_eq!(denied["status"], "denied");
    wait_for("the second ask", || {
        w.json(&["approvals"]).as_array().unwrap().first().filter(|a| a["command"] == "cargo test --workspace").map(|_| ())
    });
    assert!(messages(&w, id).contains(&"denied: not in prod".to_string()));
    let pending = w.json(&["approvals"]);
    assert_eq!(pending[0]["always"], "Bash(cargo test --workspace)", "what --always will save is shown first");
    let out = w.bosun(&["approve", &id.to_string(), "--always"]);
    assert!(out.contains("saved rule Bash(cargo test --workspace)"), "{out}");
    let t = w.wait_status(id, "review");
    let msgs = messages(&w, id);
    assert!(msgs.contains(&"approved".to_string()), "{msgs:?}");
    // The write inside the worktree was allowed by the policy, without a human.
    let answers: Vec<Value> = w.events(id).into_iter().filter(|e| e["type"] == "approval").collect();
    let by: Vec<(&str, bool, &str)> =
        answers.iter().map(|a| (a["id"].as_str().unwrap(), a["allow"].as_bool().unwrap(), a["by"].as_str().unwrap())).collect();
    assert_eq!(by, vec![("a1", false, "user"), ("a2", true, "user"), ("a3", true, "policy")]);
    let sources: Vec<&str> = answers.iter().map(|a| a["source"].as_str().unwrap()).collect();
    assert_eq!(sources, [format!("human:{USER}").as_str(), &format!("human:{USER}"), "bosun"], "who answered is recorded");
    let events = w.events(id);
    let pos = |ty: &str, id: &str| events.iter().position(|e| e["type"] == ty && e["id"] == id).unwrap();
    assert!(pos("approval_request", "a3") < pos("approval", "a3"), "an ask is logged before its answer");
    assert!(w.json(&["approvals"]).as_array().unwrap().is_empty());
    assert_eq!(t["runs"][0]["status"], "succeeded");

    // `--always` saved exactly `cargo test --workspace` for the profile in this repo:
    // the next run's same ask passes; another command, or the same one chained with
    // something else, is asked again.
    w.agent_with(
        "careful",
        "interactive: true\n",
        &[
            json!({"read_prompt": true}),
            json!({"ask": {"id": "b1", "tool": "Bash", "kind": "command", "command": "cargo test --workspace"}}),
            json!({"ask": {"id": "b2", "tool": "Bash", "kind": "command", "command": "cargo test --workspace && touch PWNED"}}),
        ],
    );
    let second = w.add("Another", "careful");
    wait_for("the chained command to be asked", || {
        w.json(&["approvals"]).as_array().unwrap().iter().find(|a| a["request_id"] == "b2").map(|_| ())
    });
    let pending = w.json(&["approvals"]);
    assert_eq!(pending[0]["always"], Value::Null, "no rule can cover a chained command");
    assert!(w.bosun(&["approvals"]).contains("cannot cover this"));
    let out = w.bosun(&["approve", &second.to_string(), "--always"]);
    assert!(out.contains("no rule saved"), "{out}");
    w.wait_status(second, "review");
    let by: Vec<(String, String)> = w
        .events(second)
        .into_iter()
        .filter(|e| e["type"] == "approval")
        .map(|e| (e["id"].as_str().unwrap().to_string(), e["by"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(by, [("b1".into(), "policy".into()), ("b2".into(), "user".into())]);
}

/// A rule saved in one repo does not apply in another.
#[test]
fn an_always_rule_is_scoped_to_its_repo() {
    let mut w = World::new("app");
    let steps = [json!({"read_prompt": true}), json!({"ask": {"id": "e1", "tool": "Bash", "kind": "command", "command": "echo safe"}})];
    w.agent_with("careful", "interactive: true\n", &steps);
    w.start(&[]);
    let id = w.add("Here", "careful");
    w.wait_status(id, "needs_input");
    assert!(w.bosun(&["approve", &id.to_string(), "--always"]).contains("saved rule Bash(echo safe)"));
    w.wait_status(id, "review");
    // The same ask in the same repo passes by the rule ...
    let again = w.add("Here again", "careful");
    w.wait_status(again, "review");
    // ... and in another repo it is asked.
    let other = w.path("other");
    std::fs::create_dir_all(&other).unwrap();
    crate::harness::git(&other, &["init", "-q", "-b", "main"]);
    std::fs::write(other.join("README.md"), "other\n").unwrap();
    crate::harness::git(&other, &["add", "."]);
    crate::harness::git(&other, &["commit", "-qm", "init"]);
    let elsewhere: i64 = w.bosun(&["add", "Elsewhere", "--repo", other.to_str().unwrap(), "--agent", "careful"]).trim().parse().unwrap();
    w.wait_status(elsewhere, "needs_input");
}

/// `bosun rules` lists saved rules with the answer each came from, and the profile
/// files' `allow:` entries with their file; `rules rm` revokes a saved one, after
/// which the same ask is asked again. A profile's rule cannot be removed that way.
#[test]
fn always_rules_are_listed_and_revoked() {
    let mut w = World::new("app");
    let steps = [json!({"read_prompt": true}), json!({"ask": {"id": "e1", "tool": "Bash", "kind": "command", "command": "echo safe"}})];
    w.agent_with("careful", "interactive: true\nallow: [\"Bash(cargo test *)\"]\n", &steps);
    w.start(&[]);
    let id = w.add("Here", "careful");
    let repo = w.wait_status(id, "needs_input")["repo"].as_str().unwrap().to_string();
    w.bosun(&["approve", &id.to_string(), "--always"]);
    w.wait_status(id, "review");

    let rules = w.json(&["rules"]);
    let rules = rules.as_array().unwrap();
    assert_eq!(rules.len(), 2, "{rules:?}");
    let saved = &rules[0];
    assert_eq!((saved["profile"].as_str(), saved["repo"].as_str()), (Some("careful"), Some(repo.as_str())), "{saved}");
    assert_eq!(saved["pattern"], "Bash(echo safe)");
    let from = &saved["origin"];
    assert_eq!(from["kind"], "approval", "{from}");
    assert_eq!((from["approval"]["task_id"].as_i64(), from["approval"]["command"].as_str()), (Some(id), Some("echo safe")));
    assert_eq!(from["approval"]["answered_by"], USER);
    assert!(from["saved_at"].is_string(), "{from}");
    let profile = &rules[1];
    assert_eq!((profile["id"].is_null(), profile["pattern"].as_str()), (true, Some("Bash(cargo test *)")), "{profile}");
    assert_eq!(profile["origin"]["kind"], "profile");
    assert!(profile["origin"]["file"].as_str().unwrap().ends_with("config/agents/careful.md"), "{profile}");
    let table = w.bosun(&["rules"]);
    assert!(table.contains(&format!("T-{id} asked `echo safe`, approved by {USER}")), "{table}");
    assert!(table.contains("profile file ") && table.contains("(every repo)"), "{table}");
    assert!(w.json(&["rules", "--agent", "other"]).as_array().unwrap().is_empty());
    assert_eq!(w.json(&["rules", "--repo", w.repo.to_str().unwrap()]).as_array().unwrap().len(), 2);

    // What cannot be revoked says why, and loses nothing.
    let out = w.try_bosun(&["rules", "rm", "Bash(cargo test *)"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("profile file") && err.contains("cannot be removed with `rules rm`"), "{err}");
    let out = w.try_bosun(&["rules", "rm", "999"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "bosun: no saved allow rule 999 (`bosun rules` lists them with their ids)");
    assert_eq!(w.json(&["rules"]).as_array().unwrap().len(), 2);

    // The rule holds until it is revoked; then the same ask is asked again.
    let again = w.add("Here again", "careful");
    w.wait_status(again, "review");
    let rule_id = saved["id"].as_i64().unwrap().to_string();
    let out = w.bosun(&["rules", "rm", &rule_id]);
    assert!(out.contains("revoked rule") && out.contains("Bash(echo safe)"), "{out}");
    assert_eq!(w.json(&["rules"]).as_array().unwrap().len(), 1, "only the profile's rule is left");
    let third = w.add("Here once more", "careful");
    w.wait_status(third, "needs_input");
    assert_eq!(w.json(&["approvals"])[0]["command"], "echo safe");
}

#[test]
fn reply_runs_the_task_again_with_the_feedback() {
    let mut w = World::new("app");
    w.agent(
        "echo",
        None,
        &[json!({"read_stdin": true}), json!({"say": "{prompt}"}), json!({"write": {"path": "{now_ns}.txt", "content": "x"}})],
    );
    w.start(&[]);
    let id = w.add("Write the login test", "echo");
    w.wait_status(id, "review");
    let t = w.json(&["reply", &id.to_string(), "also cover the logout path"]);
    assert_eq!(t["status"], "queued");
    let t = w.wait_status(id, "review");
    let events = w.events(id);
    let replied = events.iter().find(|e| e["type"] == "message" && e["role"] == "user").expect("the reply is in the log");
    assert_eq!((replied["text"].as_str(), replied["from"].as_str()), (Some("also cover the logout path"), Some(USER)), "{replied}");
    assert_eq!(t["runs"].as_array().unwrap().len(), 2);
    let last_prompt = messages(&w, id).into_iter().rfind(|m| m.contains("# Task:")).unwrap();
    assert!(last_prompt.contains("Write the login test") && last_prompt.contains("also cover the logout path"), "{last_prompt}");
    // Both runs' work is on the one branch, in the one worktree.
    let files = crate::harness::git(&w.repo, &["diff", "--name-only", "main...bosun/1-write-the-login-test"]);
    assert_eq!(files.lines().count(), 2, "{files}");
    let out = w.try_bosun(&["reply", &id.to_string(), ""]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_silent_agent_hits_its_idle_timeout() {
    let mut w = World::new("app");
    w.agent_with("silent", "idle_timeout: 1\n", &[json!({"say": "thinking"}), json!({"wait_file": w.path("shared/never")})]);
    w.start(&[]);
    let id = w.add("Hang", "silent");
    let t = w.wait_status(id, "failed");
    assert_eq!(t["status_reason"], "no output for 1s (the profile's idle_timeout)");
}

#[test]
fn runs_without_a_reported_cost_are_priced_from_the_table() {
    let mut w = World::new("app");
    w.agent_with("gpt", "model: gpt-5.5\n", &[json!({"usage": {"input_tokens": 1000000, "output_tokens": 100000}})]);
    w.agent_with("local", "model: llama3.1\n", &[json!({"usage": {"input_tokens": 1000, "output_tokens": 1000}})]);
    w.agent_with("reported", "model: gpt-5.5\n", &[json!({"usage": {"input_tokens": 1000000, "output_tokens": 0, "cost_usd": 0.5}})]);
    std::fs::write(w.path("config/prices.toml"), "[models.llama]\ninput = 1.0\noutput = 2.0\n").unwrap();
    w.start(&[]);
    let cost = |agent: &str| {
        let id = w.add(&format!("Priced by {agent}"), agent);
        w.wait_status(id, "review")["runs"][0]["cost_usd"].as_f64().unwrap()
    };
    assert!((cost("gpt") - 2.25).abs() < 1e-9, "built-in gpt-5 prices: 1.25 in + 10 out per million");
    assert!((cost("local") - 0.003).abs() < 1e-9, "prices.toml covers the local model");
    // A `command` agent that prints its own cost is not charged that: any program can
    // print any number. It is charged what its tokens cost (the real CLIs' own
    // reports are charged as they are: see real_clis.rs and codex.rs).
    assert!((cost("reported") - 1.25).abs() < 1e-9, "the price table, not the agent's 0.5");
    // What a run costs is bosun's word: every usage event is bosun's.
    for id in 1..=3 {
        let events = w.events(id);
        let usage = events.iter().find(|e| e["type"] == "usage").unwrap();
        assert_eq!(usage["source"], "bosun", "{usage}");
    }
}

/// A message kept for a task's next run is delivered once: not lost when that run
/// fails to start, but handed to the run that does.
#[test]
fn a_message_survives_a_start_that_failed() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent("holder", None, &[json!({"wait_file": gate}), json!({"write": {"path": "a.txt", "content": "a"}})]);
    std::fs::write(w.path("config/agents/broken.md"), "---\nname: broken\nruntime: command\ncommand: [\"/nonexistent/agent\"]\n---\n")
        .unwrap();
    w.agent("echo", None, &[json!({"echo_env": ["BOSUN_PROMPT"]}), json!({"write": {"path": "b.txt", "content": "b"}})]);
    w.start(&["--max-concurrent", "1"]);
    let holder = w.add("Hold the only slot", "holder");
    wait_for("the holder to run", || (w.task(holder)["status"] == "running").then_some(()));
    let id = w.add("Start and fail", "broken");
    assert_eq!(w.json(&["say", &id.to_string(), "remember the changelog"])["delivered"], "at_start");
    std::fs::write(&gate, "").unwrap();
    let t = w.wait_status(id, "failed");
    assert!(t["status_reason"].as_str().unwrap().contains("/nonexistent/agent"), "{t}");
    w.bosun(&["retry", &id.to_string(), "--agent", "echo"]);
    w.wait_status(id, "review");
    let prompt = messages(&w, id).into_iter().find(|m| m.starts_with("BOSUN_PROMPT=")).expect("the agent printed its prompt");
    assert!(prompt.contains("remember the changelog"), "the message reached the run that started: {prompt}");
}

/// Saying something to an agent that cannot hear it is refused, never "delivered".
#[test]
fn say_to_an_agent_that_takes_no_messages_is_refused() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent("deaf", None, &[json!({"say": "working"}), json!({"wait_file": gate})]);
    w.start(&[]);
    let id = w.add("Busy", "deaf");
    wait_for("the agent to run", || messages(&w, id).contains(&"working".to_string()).then_some(()));
    let out = w.try_bosun(&["say", &id.to_string(), "use the helper"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot take a message now") && err.contains("interactive: true"), "{err}");
    assert!(!messages(&w, id).contains(&"use the helper".to_string()), "nothing claims it was said");
    std::fs::write(&gate, "").unwrap();
    w.wait_status(id, "review");
}
