//! Routing rules end to end: `routing.toml` and a repo's `[[route]]` choose the agent
//! and model (explicit `--agent`/`--model` win), `route explain` says why, a rule
//! naming an unknown profile is reported with its line, unmatched tasks wait in
//! triage until given an agent, and built-in profiles for installed CLIs.

use serde_json::json;

use crate::harness::World;

fn add(w: &World, args: &[&str]) -> i64 {
    let mut all = vec!["add", "--repo", w.repo.to_str().unwrap()];
    all.extend_from_slice(args);
    w.bosun(&all).lines().next().unwrap().trim().parse().unwrap()
}

const RULES: &str = r#"# first match wins
[[route]]
when = { tags = ["docs"], title = "(?i)typo|readme" }
agent = "writer"
model = "haiku"

[[route]]
when = { assignee = "alice-reviewer" }
agent = "reviewer"

[[route]]
when = { tags = ["ghostly"] }
agent = "ghost"
"#;

#[test]
fn rules_choose_agent_and_model_explicit_choices_win_and_explain_says_why() {
    let mut w = World::new("app");
    for name in ["writer", "reviewer", "generalist"] {
        w.agent(name, None, &[json!({"say": format!("{name} here")})]);
    }
    std::fs::write(w.path("config/routing.toml"), RULES).unwrap();
    // The repo's own rules come first: its fallback catches what the user's rules miss.
    std::fs::create_dir_all(w.repo.join(".bosun")).unwrap();
    std::fs::write(w.repo.join(".bosun/config.toml"), "[[route]]\nwhen = { priority = 9 }\nagent = \"generalist\"\nmodel = \"opus\"\n")
        .unwrap();
    w.start(&[]);

    let typo = add(&w, &["--tag", "docs", "--", "Fix typo in README"]);
    let t = w.wait_status(typo, "review");
    assert_eq!((t["agent"].as_str(), t["runs"][0]["model"].as_str()), (Some("writer"), Some("haiku")), "{t}");
    assert_eq!(t["model"], "haiku", "what the rule chose is kept on the task");
    // A reply runs the same agent and model (the rule chose them once).
    w.bosun(&["reply", &typo.to_string(), "once more"]);
    let t = w.wait_status(typo, "review");
    assert_eq!((t["agent"].as_str(), t["runs"][1]["model"].as_str()), (Some("writer"), Some("haiku")), "{t}");
    let review = add(&w, &["--assignee", "alice-reviewer", "--", "Look at auth"]);
    let t = w.wait_status(review, "review");
    assert_eq!((t["agent"].as_str(), t["assignee"].as_str()), (Some("reviewer"), Some("alice-reviewer")));
    assert!(t["runs"][0]["model"].is_null(), "the profile has no model: the CLI's default");
    let urgent = add(&w, &["--priority", "9", "--tag", "docs", "--", "Fix typo now"]);
    let t = w.wait_status(urgent, "review");
    assert_eq!((t["agent"].as_str(), t["runs"][0]["model"].as_str()), (Some("generalist"), Some("opus")), "the repo's rule first");
    // Explicit choices win over every rule.
    let explicit = add(&w, &["--agent", "reviewer", "--model", "sonnet", "--tag", "docs", "--", "Fix typo again"]);
    let t = w.wait_status(explicit, "review");
    assert_eq!((t["agent"].as_str(), t["runs"][0]["model"].as_str()), (Some("reviewer"), Some("sonnet")));

    // `agents` lists the models each profile runs with: its own, then its rules'.
    let agents = w.json(&["agents", "--repo", w.repo.to_str().unwrap()]);
    let models = |name: &str| agents["agents"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap()["models"].clone();
    assert_eq!((models("writer"), models("generalist"), models("reviewer")), (json!(["haiku"]), json!(["opus"]), json!([])));

    // `route explain`: the match, the misses before it with why, the rule left out.
    let repo = w.repo.to_str().unwrap();
    let out = w.bosun(&["route", "explain", "Fix typo", "--tag", "docs", "--repo", repo]);
    let routing = w.path("config/routing.toml").display().to_string();
    let config = w.repo.join(".bosun/config.toml").display().to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!("left out: {routing} line 11: unknown agent `ghost`: no profile of that name (`bosun agents` lists them)").as_str(),
            format!("misses:  {config} line 1 -> generalist (opus): priority 0 is below 9").as_str(),
            format!("matches: {routing} line 2 -> writer (haiku)").as_str(),
            format!("=> writer, model haiku, by the rule at {routing} line 2").as_str(),
        ],
        "{out}"
    );
    let out = w.bosun(&["route", "explain", "Refactor", "--assignee", "alice-reviewer", "--repo", repo]);
    assert!(out.contains("title does not match /(?i)typo|readme/") || out.contains("no tag `docs`"), "{out}");
    assert!(out.ends_with(&format!("=> reviewer, model the CLI's default, by the rule at {routing} line 7\n")), "{out}");
    let explained = w.json(&["route", "explain", "Anything", "--agent", "writer"]);
    assert_eq!((explained["decision"]["agent"].as_str(), explained["decision"]["by"].as_str()), (Some("writer"), Some("--agent")));
    // A bad model name is refused at the door.
    let out = w.try_bosun(&["add", "--repo", repo, "--model", "two words", "--", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid model"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn unmatched_tasks_wait_in_triage_until_a_human_names_the_agent() {
    let mut w = World::new("app");
    w.agent("writer", None, &[json!({"say": "written"})]);
    w.agent("coder", None, &[json!({"say": "coded"})]);
    std::fs::write(w.path("config/routing.toml"), "[[route]]\nwhen = { tags = [\"docs\"] }\nagent = \"writer\"\n").unwrap();
    w.start(&[]);
    let id = add(&w, &["--tag", "backend", "--", "Refactor auth"]);
    let t = w.wait_status(id, "triage");
    assert!(t["status_reason"].as_str().unwrap().starts_with("no routing rule matches it"), "{t}");
    assert!(t["runs"].as_array().unwrap().is_empty());
    let row = w.bosun(&["ls", "--status", "triage"]);
    assert!(row.contains(&format!("T-{id}")) && row.contains("triage"), "{row}");
    // Retrying without naming the agent is refused; naming it sends it on.
    let out = w.try_bosun(&["retry", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is in triage"), "{}", String::from_utf8_lossy(&out.stderr));
    w.bosun(&["retry", &id.to_string(), "--agent", "coder", "--model", "sonnet"]);
    let t = w.wait_status(id, "review");
    assert_eq!((t["agent"].as_str(), t["runs"][0]["model"].as_str()), (Some("coder"), Some("sonnet")));
    // The rules file changed: the next task sees it at once.
    std::fs::write(w.path("config/routing.toml"), "[[route]]\nwhen = {}\nagent = \"writer\"\n").unwrap();
    let id = add(&w, &["--tag", "backend", "--", "Another"]);
    assert_eq!(w.wait_status(id, "review")["agent"], "writer");
}

#[test]
fn without_rules_a_single_profile_still_takes_untagged_work_and_builtins_do_not_change_that() {
    let Some(claude) = crate::real_clis::cli("claude") else { return };
    let mut w = World::new("app");
    w.agent("solo", None, &[json!({"say": "solo here"})]);
    w.start_with_env(&[], &[("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())]);
    let body = w.json(&["agents"]);
    let names: Vec<(&str, bool)> =
        body["agents"].as_array().unwrap().iter().map(|a| (a["name"].as_str().unwrap(), a["builtin"] == true)).collect();
    assert_eq!(names, vec![("solo", false), ("claude", true)], "{body}");
    let human = w.bosun(&["agents"]);
    let line = human.lines().find(|l| l.starts_with("claude ")).unwrap();
    assert!(line.contains("claude-code") && line.contains("(CLI default)") && line.ends_with("(built-in)"), "{line}");
    let id = add(&w, &["--", "Untagged"]);
    assert_eq!(w.wait_status(id, "review")["agent"], "solo");
    // A user profile of the same name replaces the built-in one.
    w.agent("claude", None, &[json!({"say": "mine"})]);
    let body = w.json(&["agents"]);
    let claude = body["agents"].as_array().unwrap().iter().find(|a| a["name"] == "claude").unwrap().clone();
    assert_eq!((claude["runtime"].as_str(), claude.get("builtin")), (Some("command"), None));
}
