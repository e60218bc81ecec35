//! Task sources end to end, against a fake Notion API (`sources/fake_notion.rs`):
//! the seed's day (a page set to Ready becomes a task routed by its Agent property,
//! the page follows the task to Review and Done with the task link, a summary and the
//! pull request `bosun pr` opened on a fake GitHub; a person's comment reaches the
//! agent on reply), nothing ever made twice
//! (re-syncs, a kill -9 and restart), a person's move during a run stops it and is
//! never written over, and bad settings refused at the door.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::harness::{World, wait_for};

mod fake_notion;
mod webhooks;
use fake_notion::{DATABASE, Shared, TOKEN};

/// A world with a fake Notion, its token in the daemon's environment, the daemon
/// started and a source added for the world's repo; (world, fake, source id).
fn notion_world(agents: impl Fn(&mut World)) -> (World, Shared, i64) {
    notion_world_with(agents, &[])
}

/// [`notion_world`] with more of the daemon's environment (`GITHUB_TOKEN` is only ever the daemon's).
fn notion_world_with(agents: impl Fn(&mut World), daemon_env: &[(&str, &str)]) -> (World, Shared, i64) {
    let fake: Shared = Arc::default();
    let api = fake_notion::serve(fake.clone());
    let mut w = World::new("app");
    agents(&mut w);
    w.env.push(("NOTION_TOKEN".into(), TOKEN.into()));
    w.start_with_env(&[], daemon_env);
    let url = format!("https://www.notion.so/acme/Tasks-{}?v=1", DATABASE.replace('-', ""));
    let repo = w.repo.to_str().unwrap().to_string();
    let s = w.json(&[
        "source",
        "add",
        "notion",
        "--database",
        &url,
        "--token-env",
        "NOTION_TOKEN",
        "--repo",
        &repo,
        "--agent-property",
        "Agent",
        "--tags-property",
        "Tags",
        "--interval",
        "2",
        "--api",
        &api,
    ]);
    (w, fake, s["id"].as_i64().unwrap())
}

/// `bosun source add notion` of the fake's database with its token, `--json`, and `extra`.
fn add_notion(w: &World, api: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["--json", "source", "add", "notion", "--database", DATABASE, "--token-env", "NOTION_TOKEN", "--api", api];
    args.extend_from_slice(extra);
    w.try_bosun(&args)
}

fn tasks(w: &World) -> Vec<Value> {
    w.json(&["ls"]).as_array().unwrap().clone()
}

/// The one task made of page `page`.
fn task_of(w: &World, page: &str) -> Value {
    let matching: Vec<Value> = tasks(w).into_iter().filter(|t| t["body"].as_str().unwrap_or("").contains(&page.replace('-', ""))).collect();
    assert_eq!(matching.len(), 1, "one task for the page: {matching:?}");
    matching[0].clone()
}

#[test]
fn the_seeds_day_a_ready_page_becomes_a_task_and_the_page_follows_it() {
    let (w, fake, source) = notion_world_with(
        |w| {
            w.agent(
                "echoer",
                None,
                &[
                    json!({"read_stdin": true}),
                    json!({"write": {"path": "greeting.txt", "content": "hello\n"}}),
                    json!({"say": "Added the greeting."}),
                ],
            );
            w.agent("other", None, &[json!({"say": "wrong agent"})]);
            // The PR goes to a fake GitHub, pushed over a local remote.
            let bare = w.path("remote.git");
            crate::harness::git(w.dir.path(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
            crate::harness::git(&w.repo, &["remote", "add", "origin", "https://github.com/acme/app.git"]);
            crate::harness::git(&w.repo, &["remote", "set-url", "--push", "origin", bare.to_str().unwrap()]);
            let github: fake_github::Shared = Arc::default();
            w.env.push(("BOSUN_GITHUB_API".into(), fake_github::serve(github)));
        },
        &[("GITHUB_TOKEN", fake_github::TOKEN)],
    );
    let page =
        fake.lock().unwrap().add_page("Add a greeting", "Not started", Some("echoer"), &["docs"], "Write **hello** in greeting.txt.");
    // Not ready: no task, however often it syncs.
    w.bosun(&["source", "sync", &source.to_string()]);
    assert!(tasks(&w).is_empty());
    fake.lock().unwrap().set_status(&page, "Ready");
    let t = wait_for("a task made of the ready page", || {
        let t = tasks(&w);
        (!t.is_empty()).then(|| t[0].clone())
    });
    assert_eq!(t["title"], "Add a greeting");
    assert_eq!(t["agent"], "echoer", "routed by the page's Agent property");
    assert_eq!(t["tags"], json!(["docs"]));
    assert!(t["body"].as_str().unwrap().starts_with("Write **hello** in greeting.txt."), "the body is the page's Markdown: {t}");
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["origin"]["kind"], "notion");
    assert_eq!(t["origin"]["reference"], "\"Add a greeting\"");
    assert!(
        w.bosun(&["show", &id.to_string()])
            .contains(&format!("from:      Notion \"Add a greeting\" https://www.notion.so/{}", page.replace('-', "")))
    );
    let review = w.wait_status(id, "review");
    assert!(w.events(id).iter().any(|e| e["text"].as_str().is_some_and(|s| s.contains("Added the greeting"))));
    // The page follows: In progress with the task link, then Review with the summary.
    let link = format!("/tasks/{id}");
    wait_for("the page in Review with a summary comment", || {
        let n = fake.lock().unwrap();
        let comments = n.bot_comments(&page);
        (n.page(&page).status == "Review" && comments.iter().any(|c| c.contains("ready for review"))).then_some(())
    });
    {
        let n = fake.lock().unwrap();
        let comments = n.bot_comments(&page);
        assert!(comments[0].contains("is working on this") && comments[0].contains(&link), "{comments:?}");
        let summary = comments.iter().find(|c| c.contains("ready for review")).unwrap();
        assert!(summary.contains("Added the greeting.") && summary.contains("1 file changed"), "{summary}");
        // The status moved through In progress (bosun's writes, in order).
        let writes: Vec<&str> = n
            .requests
            .iter()
            .filter(|r| r.method == "PATCH")
            .filter_map(|r| r.body["properties"]["Status"]["status"]["name"].as_str())
            .collect();
        assert_eq!(writes, ["In progress", "Review"], "{writes:?}");
        assert!(n.refused.is_empty(), "every request had the token and the version: {:?}", n.refused);
    }
    assert_eq!(review["runs"].as_array().unwrap().len(), 1);
    // `bosun pr`: the page is told the pull request's URL.
    let pr = w.json(&["pr", &id.to_string()])["pr"]["url"].as_str().unwrap().to_string();
    wait_for("the PR's URL on the page", || fake.lock().unwrap().bot_comments(&page).iter().any(|c| c.contains(&pr)).then_some(()));
    assert_eq!(fake.lock().unwrap().page(&page).status, "Review");
    // A person's comment in review reaches the agent: a new run whose prompt has it.
    fake.lock().unwrap().add_comment(&page, "Ada", "Also say goodbye.");
    wait_for("a second run from the comment", || (w.task(id)["runs"].as_array().unwrap().len() == 2).then_some(()));
    let again = w.wait_status(id, "review");
    let events = w.events(id);
    assert!(
        events.iter().any(|e| e["type"] == "message" && e["text"].as_str().is_some_and(|s| s.contains("Also say goodbye."))),
        "the comment went to the agent"
    );
    assert_eq!(again["runs"].as_array().unwrap().len(), 2);
    // Bosun's own comments are never taken for a person's: no third run.
    w.bosun(&["source", "sync", &source.to_string()]);
    assert_eq!(w.task(id)["runs"].as_array().unwrap().len(), 2);
    // Merged: the page shows Done.
    w.bosun(&["merge", &id.to_string()]);
    wait_for("the page Done", || (fake.lock().unwrap().page(&page).status == "Done").then_some(()));
    let ls = w.json(&["source", "ls"]);
    assert_eq!(ls[0]["created"], 1);
    assert!(ls[0]["last_error"].is_null(), "{ls}");
}

#[test]
fn a_page_is_one_task_across_re_syncs_rate_limits_and_a_kill_9() {
    let (mut w, fake, source) = notion_world(|w| w.agent("echoer", None, &[json!({"say": "done"})]));
    let pages: Vec<String> = {
        let mut n = fake.lock().unwrap();
        (0..5).map(|i| n.add_page(&format!("Page {i}"), "Ready", Some("echoer"), &[], "body")).collect()
    };
    // Five ready pages come two per answer: bosun follows next_cursor.
    fake.lock().unwrap().limit_next = 2; // and is told to slow down twice first
    // (The poller syncs too: whichever sync made them, there are five.)
    w.bosun(&["source", "sync", &source.to_string()]);
    assert_eq!(tasks(&w).len(), 5);
    assert!(fake.lock().unwrap().rate_limited >= 2, "the 429s were answered, and waited out");
    for _ in 0..3 {
        w.bosun(&["source", "sync", &source.to_string()]);
    }
    w.kill_daemon();
    w.restart_on_same_address();
    w.bosun(&["source", "sync", &source.to_string()]);
    for p in &pages {
        task_of(&w, p);
    }
    assert_eq!(tasks(&w).len(), 5);
    // The query asked only for what changed: after the first sync, the cursor.
    let n = fake.lock().unwrap();
    let queries: Vec<&Value> = n.requests.iter().filter(|r| r.path.ends_with("/query")).map(|r| &r.body).collect();
    assert!(queries.last().unwrap()["filter"]["and"][1]["last_edited_time"]["on_or_after"].is_string(), "{queries:?}");
}

#[test]
fn a_person_moving_the_page_during_the_run_stops_it_and_is_not_overwritten() {
    let (w, fake, _source) = notion_world(|w| {
        let gate = w.path("never");
        w.agent("gated", None, &[json!({"say": "working"}), json!({"wait_file": gate.to_str().unwrap()}), json!({"say": "passed"})]);
    });
    let page = fake.lock().unwrap().add_page("Long job", "Ready", Some("gated"), &[], "body");
    let t = wait_for("the task running", || tasks(&w).into_iter().find(|t| t["status"] == "running"));
    let id = t["id"].as_i64().unwrap();
    wait_for("the page In progress", || (fake.lock().unwrap().page(&page).status == "In progress").then_some(()));
    // A person puts it back.
    fake.lock().unwrap().set_status(&page, "Not started");
    let stopped = w.wait_status(id, "stopped");
    assert!(
        w.events(id).iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains("moved to \"Not started\" in Notion by a person"))),
        "{stopped}"
    );
    // Nothing bosun does afterwards writes over the person's choice.
    w.bosun(&["source", "sync", "1"]);
    let n = fake.lock().unwrap();
    assert_eq!(n.page(&page).status, "Not started");
    let patches = n.requests.iter().filter(|r| r.method == "PATCH").count();
    assert_eq!(patches, 1, "only bosun's In progress was written");
}

#[test]
fn bad_settings_are_refused_at_the_door_and_a_failing_source_says_why() {
    let fake: Shared = Arc::default();
    let api = fake_notion::serve(fake.clone());
    let mut w = World::new("app");
    w.agent("echoer", None, &[json!({"say": "hi"})]);
    w.env.push(("NOTION_TOKEN".into(), TOKEN.into()));
    w.env.push(("WRONG_TOKEN".into(), "nope".into()));
    w.start(&[]);
    let add = |extra: &[&str]| {
        let mut args = vec!["source", "add", "notion", "--database", DATABASE, "--api", &api];
        args.extend_from_slice(extra);
        let out = w.try_bosun(&args);
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = add(&["--token-env", "WRONG_TOKEN"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Notion refused the token: API token is invalid."), "{err}");
    let (code, err) = add(&["--token-env", "UNSET_TOKEN"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("UNSET_TOKEN is not set in the daemon's environment"), "{err}");
    let (_, err) = add(&["--token-env", "NOTION_TOKEN", "--agent-property", "Owner"]);
    assert!(err.contains("the Notion database has no property \"Owner\""), "{err}");
    let (_, err) = add(&["--token-env", "NOTION_TOKEN", "--tags-property", "Due"]);
    assert!(err.contains("\"Due\" is a date property"), "{err}");
    let (_, err) = add(&["--token-env", "NOTION_TOKEN", "--label", "x"]);
    assert!(err.contains("a notion source takes no --label"), "{err}");
    let out = w.try_bosun(&["source", "add", "notion", "--database", "https://notion.so/Tasks", "--token-env", "NOTION_TOKEN"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("32 hexadecimal digits"));
    assert!(w.json(&["source", "ls"]).as_array().unwrap().is_empty(), "nothing refused was kept");
    // An unreachable service at add time: said as such.
    let out =
        w.try_bosun(&["source", "add", "notion", "--database", DATABASE, "--token-env", "NOTION_TOKEN", "--api", "http://127.0.0.1:9"]);
    let (code, err) = (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert_eq!(code, Some(1));
    assert!(err.contains("cannot reach Notion at http://127.0.0.1:9"), "{err}");
    // A page whose agent does not exist: the source says so, the daemon goes on.
    let repo = w.repo.to_str().unwrap().to_string();
    let s = w.json(&[
        "source",
        "add",
        "notion",
        "--database",
        DATABASE,
        "--token-env",
        "NOTION_TOKEN",
        "--api",
        &api,
        "--repo",
        &repo,
        "--agent-property",
        "Agent",
    ]);
    fake.lock().unwrap().add_page("Mistyped", "Ready", Some("echoerr"), &[], "body");
    let id = s["id"].as_i64().unwrap().to_string();
    let out = w.bosun(&["source", "sync", &id]);
    assert!(out.contains("but: Notion \"Mistyped\": ") && out.contains("echoerr"), "{out}");
    let ls = w.json(&["source", "ls"]);
    assert!(ls[0]["last_error"].as_str().unwrap().contains("echoerr"), "{ls}");
    assert!(tasks(&w).is_empty());
    // The profile is added (the page untouched): the next sync reads the page again.
    w.agent("echoerr", None, &[json!({"say": "hi"})]);
    w.bosun(&["source", "sync", &id]);
    assert_eq!(tasks(&w).len(), 1, "the page became a task once its agent existed");
    assert!(w.json(&["source", "ls"])[0]["last_error"].is_null());
    assert_eq!(w.try_bosun(&["source", "sync", "99"]).status.code(), Some(1));
}

mod fake_github;

#[test]
fn a_labelled_github_issue_round_trips_to_a_pull_request_that_closes_it() {
    let fake: fake_github::Shared = Arc::default();
    let api = fake_github::serve(fake.clone());
    let mut w = World::new("app");
    let bare = w.path("remote.git");
    crate::harness::git(w.dir.path(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    crate::harness::git(&w.repo, &["remote", "add", "origin", "https://github.com/acme/app.git"]);
    crate::harness::git(&w.repo, &["remote", "set-url", "--push", "origin", bare.to_str().unwrap()]);
    w.agent("worker", None, &[json!({"write": {"path": "fix.txt", "content": "fixed\n"}}), json!({"say": "Fixed the login race."})]);
    w.env.push(("BOSUN_GITHUB_API".into(), api.clone()));
    let (issue, other, unlabelled) = {
        let mut g = fake.lock().unwrap();
        (
            g.add_issue("Login race", "Two logins at once lose one.", &["bosun", "agent:worker", "backend"]),
            g.add_issue("Second", "More work.", &["bosun", "agent:worker"]),
            g.add_issue("Not for bosun", "", &["question"]),
        )
    };
    fake.lock().unwrap().add_issue("Third", "", &["bosun", "agent:worker"]);
    w.start_with_env(&[], &[("GITHUB_TOKEN", fake_github::TOKEN)]);
    // Added from the checkout: its GitHub remote names the repository.
    let repo = w.repo.to_str().unwrap().to_string();
    let s = w.json(&["source", "add", "github", "--repo", &repo, "--label", "bosun", "--interval", "2"]);
    assert_eq!(s["repo"].as_str().map(|r| r.ends_with("/app")), Some(true));
    assert_eq!((s["kind"].as_str(), s["label"].as_str()), (Some("github"), Some("bosun")), "{s}");
    // Three labelled issues, two per page: all three become tasks; the other does not.
    let all = wait_for("three tasks", || {
        let t = tasks(&w);
        (t.len() == 3).then_some(t)
    });
    let t = all.iter().find(|t| t["title"] == "Login race").unwrap().clone();
    assert_eq!(t["agent"], "worker");
    assert_eq!(t["tags"], json!(["backend"]));
    let id = t["id"].as_i64().unwrap();
    w.wait_status(id, "review");
    wait_for("the issue labelled for review with one status comment", || {
        let g = fake.lock().unwrap();
        let i = g.issue(issue);
        let notes = g.bot_comments(issue);
        (i.labels.contains(&"bosun: review".to_string()) && notes.len() == 1 && notes[0].body.contains("ready for review")).then_some(())
    });
    {
        let g = fake.lock().unwrap();
        let i = g.issue(issue);
        assert!(!i.labels.contains(&"bosun: in progress".to_string()), "one phase label at a time: {:?}", i.labels);
        assert!(g.bot_comments(issue)[0].edits >= 1, "the status comment was edited in place, not posted again");
        assert!(g.issue(unlabelled).labels == ["question"]);
        let _ = other;
    }
    // Once nothing changes, the list is answered 304 (free against the rate limit):
    // bosun sent If-None-Match with the last ETag.
    for t in &all {
        w.wait_status(t["id"].as_i64().unwrap(), "review");
    }
    wait_for("a 304 for an unchanged list", || {
        w.bosun(&["source", "sync", &s["id"].to_string()]);
        (fake.lock().unwrap().not_modified >= 1).then_some(())
    });
    // The pull request closes the issue.
    let out = w.bosun(&["pr", &id.to_string()]);
    assert!(out.contains("https://github.example/acme/app/pull/40"), "{out}");
    let body = fake.lock().unwrap().pulls[0]["body"].as_str().unwrap().to_string();
    assert!(body.contains(&format!("Closes #{issue}")), "{body}");
    // A person's comment in review reaches the agent on reply.
    fake.lock().unwrap().comment(issue, "ada", "Please add a test too.");
    wait_for("a second run from the comment", || (w.task(id)["runs"].as_array().unwrap().len() == 2).then_some(()));
    w.wait_status(id, "review");
    assert!(w.events(id).iter().any(|e| e["text"].as_str().is_some_and(|s| s.contains("Please add a test too."))));
    // Merged here: the issue is closed, labelled done, its one status comment says so.
    w.bosun(&["merge", &id.to_string()]);
    wait_for("the issue closed as done", || {
        let g = fake.lock().unwrap();
        let i = g.issue(issue);
        let notes = g.bot_comments(issue);
        (i.closed && i.labels.contains(&"bosun: done".to_string()) && notes.iter().any(|c| c.body.contains("is done"))).then_some(())
    });
    let g = fake.lock().unwrap();
    assert_eq!(g.bot_comments(issue).len(), 1, "still one status comment");
    assert_eq!(g.unauthorized, 0);
}

mod fake_linear;

#[test]
fn a_labelled_linear_issue_moves_through_the_teams_states() {
    let linear: fake_linear::Shared = Arc::default();
    let api = fake_linear::serve(linear.clone());
    let github: fake_github::Shared = Arc::default();
    let gh_api = fake_github::serve(github.clone());
    let mut w = World::new("app");
    let bare = w.path("remote.git");
    crate::harness::git(w.dir.path(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    crate::harness::git(&w.repo, &["remote", "add", "origin", "https://github.com/acme/app.git"]);
    crate::harness::git(&w.repo, &["remote", "set-url", "--push", "origin", bare.to_str().unwrap()]);
    w.agent("worker", None, &[json!({"write": {"path": "fix.txt", "content": "fixed\n"}}), json!({"say": "Fixed it."})]);
    w.env.push(("LINEAR_API_KEY".into(), fake_linear::KEY.into()));
    w.env.push(("WRONG_KEY".into(), "nope".into()));
    w.env.push(("BOSUN_GITHUB_API".into(), gh_api));
    let (issue, started) = {
        let mut l = linear.lock().unwrap();
        (l.add_issue("Fix the export", &["bosun", "agent:worker"], "Todo"), l.add_issue("Someone is on it", &["bosun"], "In Progress"))
    };
    linear.lock().unwrap().add_issue("Unlabelled", &["bug"], "Todo");
    w.start_with_env(&[], &[("GITHUB_TOKEN", fake_github::TOKEN)]);
    let repo = w.repo.to_str().unwrap().to_string();
    let add = |team: &str, key: &str| {
        w.try_bosun(&[
            "source",
            "add",
            "linear",
            "--team",
            team,
            "--label",
            "bosun",
            "--token-env",
            key,
            "--repo",
            &repo,
            "--api",
            &api,
            "--interval",
            "2",
        ])
    };
    let bad = add("ENG", "WRONG_KEY");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Linear refused the token: Authentication required"), "{bad:?}");
    let bad = add("OPS", "LINEAR_API_KEY");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Linear has no team with the key \"OPS\""), "{bad:?}");
    assert!(add("ENG", "LINEAR_API_KEY").status.success());
    let t = wait_for("a task from the Todo issue", || tasks(&w).into_iter().next());
    let id = t["id"].as_i64().unwrap();
    assert_eq!((t["title"].as_str(), t["agent"].as_str()), (Some("Fix the export"), Some("worker")));
    assert_eq!(t["origin"]["reference"], "ENG-1");
    w.wait_status(id, "review");
    wait_for("the issue In Review with a summary comment", || {
        let l = linear.lock().unwrap();
        (l.issue(&issue).state == "s-review" && l.bot_comments(&issue).iter().any(|c| c.contains("ready for review"))).then_some(())
    });
    {
        let l = linear.lock().unwrap();
        assert_eq!(l.moves.iter().filter(|m| m.0 == issue).map(|m| m.1.as_str()).collect::<Vec<_>>(), ["s-progress", "s-review"]);
        assert_eq!(l.issue(&started).state, "In Progress", "an issue already started by a person is not taken");
    }
    assert_eq!(tasks(&w).len(), 1);
    let out = w.bosun(&["pr", &id.to_string()]);
    assert!(out.contains("/pull/40"), "{out}");
    let body = github.lock().unwrap().pulls[0]["body"].as_str().unwrap().to_string();
    assert!(body.contains("Linear: ENG-1 (https://linear.app/acme/issue/ENG-1)"), "{body}");
    linear.lock().unwrap().comment(&issue, "Ada", "Keep the CSV header.");
    wait_for("a second run from the comment", || (w.task(id)["runs"].as_array().unwrap().len() == 2).then_some(()));
    w.wait_status(id, "review");
    w.bosun(&["merge", &id.to_string()]);
    wait_for("the issue Done", || (linear.lock().unwrap().issue(&issue).state == "s-done").then_some(()));
}

#[test]
fn a_write_back_that_fails_is_kept_and_done_once_the_service_is_back() {
    let (w, fake, _source) = notion_world(|w| w.agent("echoer", None, &[json!({"say": "done"})]));
    fake.lock().unwrap().fail_writes = true;
    let page = fake.lock().unwrap().add_page("While Notion is down", "Ready", Some("echoer"), &[], "body");
    let t = wait_for("the task", || tasks(&w).into_iter().next());
    // The task goes on regardless; the page cannot follow yet.
    w.wait_status(t["id"].as_i64().unwrap(), "review");
    wait_for("write attempts refused", || (fake.lock().unwrap().failed_writes >= 2).then_some(()));
    assert_eq!(fake.lock().unwrap().page(&page).status, "Ready");
    // Back up: the queued writes land, in order, and the page ends in Review.
    fake.lock().unwrap().fail_writes = false;
    crate::harness::wait_within(std::time::Duration::from_secs(90), "the page in Review", || {
        (fake.lock().unwrap().page(&page).status == "Review").then_some(())
    });
}

#[test]
fn a_sync_of_a_thousand_pages_reads_only_what_changed() {
    let (w, fake, source) = notion_world(|w| w.agent("echoer", None, &[json!({"say": "done"})]));
    let old: Vec<String> = {
        let mut n = fake.lock().unwrap();
        (0..990).map(|i| n.add_page(&format!("Old {i}"), "Done", None, &[], "old")).collect()
    };
    w.bosun(&["source", "sync", &source.to_string()]);
    let before = fake.lock().unwrap().requests.len();
    {
        let mut n = fake.lock().unwrap();
        for i in 0..10 {
            n.add_page(&format!("New {i}"), "Ready", Some("echoer"), &[], "new");
        }
    }
    let out = w.json(&["source", "sync", &source.to_string()]);
    let n = fake.lock().unwrap();
    let calls: Vec<String> = n.requests[before..].iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    let queries = calls.iter().filter(|c| c.ends_with("/query")).count();
    let bodies = calls.iter().filter(|c| c.ends_with("/markdown")).count();
    // The query returns the ten ready pages only (two per answer here): none of the
    // 990 others is read, and each new page's body once.
    assert!(!old.iter().any(|id| calls.iter().any(|c| c.contains(id.as_str()))), "an unchanged page was read: {calls:?}");
    assert_eq!(bodies, 10, "{calls:?}");
    assert!(queries <= 10, "{calls:?}");
    assert_eq!(out["source"]["created"], 10);
    println!("sync of 1,000 pages with 10 changed: {queries} queries, {bodies} bodies, {} calls in all with the write-backs", calls.len());
}

/// A measurement for BENCHMARKS.md, not a test (`cargo test -p bosun --test e2e
/// sources::measure -- --ignored --nocapture`): from a page turning Ready to its agent
/// running when a sync runs at once (what a poll adds on top is up to one interval; a
/// sync also has the source's request rate to keep: Notion's 3 a second).
#[test]
#[ignore]
fn measure_ready_to_running() {
    let (w, fake, source) = notion_world(|w| {
        let gate = w.path("never");
        w.agent("gated", Some(50), &[json!({"wait_file": gate.to_str().unwrap()})]);
    });
    let http = crate::harness::authed(&w.token());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // Pages turn Ready now and then, not back to back: the source's request budget (its
    // token bucket) has refilled, as it would have.
    measure_to_running(&w, &fake, std::time::Duration::from_secs(4), "ready page -> agent running (sync at once)", |_| {
        rt.block_on(http.post(format!("{}/api/sources/{source}/sync", w.url)).json(&json!({})).send()).unwrap();
    });
}

/// For the measurements: 20 times, a page turns Ready (`pause` apart), `trigger` tells
/// bosun, and the time until its agent runs is taken (each task is then stopped, out of
/// the way of the next: the global limit counts running tasks); prints p50 and max.
fn measure_to_running(w: &World, fake: &Shared, pause: std::time::Duration, what: &str, trigger: impl Fn(&str)) {
    let http = crate::harness::authed(&w.token());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut took = Vec::new();
    for i in 0..20 {
        std::thread::sleep(pause);
        let page = fake.lock().unwrap().add_page(&format!("Job {i}"), "Ready", Some("gated"), &[], "body");
        let started = std::time::Instant::now();
        trigger(&page);
        loop {
            let all: Vec<Value> =
                rt.block_on(async { http.get(format!("{}/api/tasks", w.url)).send().await.unwrap().json().await.unwrap() });
            let mine = all.iter().find(|t| t["body"].as_str().unwrap_or("").contains(&page.replace('-', "")));
            if let Some(t) = mine.filter(|t| t["status"] == "running" && t["runs"][0]["pid"].is_number()) {
                took.push(started.elapsed());
                rt.block_on(http.post(format!("{}/api/tasks/{}/stop", w.url, t["id"])).json(&json!({})).send()).unwrap();
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    took.sort();
    println!("{what}: p50 {:?}, max {:?}", took[took.len() / 2], took[took.len() - 1]);
}

#[test]
fn a_comment_steers_the_running_agent_and_an_ask_is_posted_on_the_page() {
    let (w, fake, _source) = notion_world(|w| {
        w.agent_with(
            "asker",
            "interactive: true\n",
            &[
                json!({"read_prompt": true}),
                json!({"say": "listening"}),
                json!({"listen": 1}),
                json!({"ask": {"id": "a1", "tool": "Bash", "kind": "command", "command": "make deploy"}}),
                json!({"say": "deployed"}),
            ],
        );
    });
    let page = fake.lock().unwrap().add_page("Deploy", "Ready", Some("asker"), &[], "Deploy it.");
    let t = wait_for("the task running", || tasks(&w).into_iter().find(|t| t["status"] == "running"));
    let id = t["id"].as_i64().unwrap();
    wait_for("the agent listening", || w.events(id).iter().any(|e| e["text"] == "listening").then_some(()));
    fake.lock().unwrap().add_comment(&page, "Ada", "Use the staging database.");
    wait_for("the comment heard by the running agent", || {
        w.events(id).iter().any(|e| e["text"] == "heard: Use the staging database.").then_some(())
    });
    let said = w.events(id).into_iter().find(|e| e["type"] == "message" && e["text"] == "Use the staging database.").unwrap();
    assert_eq!(said["from"], "Ada (Notion)", "{said}");
    w.wait_status(id, "needs_input");
    wait_for("the ask on the page", || {
        let n = fake.lock().unwrap();
        (n.page(&page).status == "Needs input" && n.bot_comments(&page).iter().any(|c| c.contains("Bash wants to `make deploy`")))
            .then_some(())
    });
    w.bosun(&["approve", &id.to_string()]);
    w.wait_status(id, "review");
    wait_for("the page in Review", || (fake.lock().unwrap().page(&page).status == "Review").then_some(()));
}

/// The person a page is assigned to picks its agent through a routing rule: the
/// "person → profile" map lives in `routing.toml`, like every other rule.
#[test]
fn the_person_a_page_is_assigned_to_routes_it_to_their_profile() {
    let fake: Shared = Arc::default();
    let api = fake_notion::serve(fake.clone());
    let mut w = World::new("app");
    w.agent("senior", None, &[json!({"say": "senior here"})]);
    w.agent("junior", None, &[json!({"say": "junior here"})]);
    std::fs::write(
        w.path("config/routing.toml"),
        "[[route]]\nwhen = { assignee = \"Ada Lovelace\" }\nagent = \"senior\"\n[[route]]\nwhen = {}\nagent = \"junior\"\n",
    )
    .unwrap();
    w.env.push(("NOTION_TOKEN".into(), TOKEN.into()));
    w.start(&[]);
    let repo = w.repo.to_str().unwrap().to_string();
    let bad = add_notion(&w, &api, &["--repo", &repo, "--assignee-property", "Tags"]);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("the Notion property \"Tags\" is a multi_select property; bosun reads it as people")
    );
    let added = add_notion(&w, &api, &["--repo", &repo, "--assignee-property", "Assignee", "--interval", "3600"]);
    assert!(added.status.success(), "{added:?}");
    let source = serde_json::from_slice::<Value>(&added.stdout).unwrap()["id"].as_i64().unwrap();
    let (ada, other) = {
        let mut n = fake.lock().unwrap();
        let ada = n.add_page("Hard one", "Ready", None, &[], "body");
        n.assign(&ada, "Ada Lovelace");
        let other = n.add_page("Easy one", "Ready", None, &[], "body");
        n.assign(&other, "Bob");
        (ada, other)
    };
    w.bosun(&["source", "sync", &source.to_string()]);
    let (a, b) = (task_of(&w, &ada), task_of(&w, &other));
    assert_eq!((a["agent"].as_str(), a["assignee"].as_str()), (Some("senior"), Some("Ada Lovelace")), "{a}");
    assert_eq!((b["agent"].as_str(), b["assignee"].as_str()), (Some("junior"), Some("Bob")), "{b}");
}
