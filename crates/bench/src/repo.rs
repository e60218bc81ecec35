//! `dispatch --repo-files N` (or `--repo PATH`): task → agent running for tasks in a
//! git repo, against the floor measured in the same run — a bare `git worktree add -b`
//! of the same repo plus one fork+exec of the same agent — so what is bosun's own is
//! the difference, whatever the machine's load.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::daemon::{Bins, Daemon, Sandbox, check_deadline};
use crate::{Figure, Report, fig, now_ns, percentile, sorted};

/// Where the tasks' repo comes from.
pub enum Source {
    /// A fresh repo of this many files in one commit.
    Files(usize),
    /// A local clone of this repo (the original is never touched).
    Clone(PathBuf),
}

/// What one run of the scenario is.
pub struct Plan {
    pub source: Source,
    pub tasks: usize,
    /// `serve --pool K` (0: off).
    pub pool: usize,
    /// Post this many tasks at once instead of one at a time (`burst.rs`).
    pub burst: Option<usize>,
    /// Fill the pools of this many repos like it and weigh the daemon (`pools.rs`).
    pub repos: Option<usize>,
}

pub async fn run(bins: &Bins, plan: &Plan) -> Result<Report> {
    let sandbox = Sandbox::new(bins)?;
    sandbox.agent("dispatch", &[json!({"emit": {"type": "message", "text": "started {now_ns}"}})])?;
    let repo = sandbox.dir.join("repo");
    let files = make_repo(&sandbox, &repo, &plan.source)?;
    let args = if plan.pool > 0 { vec!["--pool".to_string(), plan.pool.to_string()] } else { vec![] };
    let daemon = sandbox.start_with(8, &[], &args).await?;
    if let Some(tasks) = plan.burst {
        let report = crate::burst::run(&sandbox, &daemon, &repo, files, tasks, plan.pool).await;
        daemon.stop()?;
        return report;
    }
    if let Some(repos) = plan.repos {
        let report = crate::pools::run(&sandbox, &daemon, repo, &plan.source, repos, plan.pool).await;
        daemon.stop()?;
        return report;
    }
    let store = open_store(&sandbox).await?;
    if plan.pool > 0 {
        // The daemon fills the pool of a repo it knows: after its first task.
        bosun_once(&daemon, &repo, plan.tasks).await?;
    }
    let (mut bosun, mut floor, mut own, mut warm) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for i in 0..plan.tasks {
        if plan.pool > 0 {
            wait_pool_full(&daemon, &store, plan.pool).await?;
        }
        // Alternate which goes first, so neither always meets a warmer cache.
        let ((b, id), f) = if i % 2 == 0 {
            let f = floor_once(&sandbox, &repo, i)?;
            (bosun_once(&daemon, &repo, i).await?, f)
        } else {
            let b = bosun_once(&daemon, &repo, i).await?;
            (b, floor_once(&sandbox, &repo, i)?)
        };
        warm += usize::from(started_warm(&daemon, id).await?);
        bosun.push(b);
        floor.push(f);
        own.push(b - f);
    }
    daemon.stop()?;

    let (b, f, o) = (sorted(bosun), sorted(floor), sorted(own));
    let ratio = percentile(&b, 50.0) / percentile(&f, 50.0);
    let mut figures: Vec<Figure> = vec![
        fig("task→agent p50", percentile(&b, 50.0), "ms"),
        fig("task→agent p99", percentile(&b, 99.0), "ms"),
        fig("floor p50 (worktree add + spawn)", percentile(&f, 50.0), "ms"),
        fig("floor p99", percentile(&f, 99.0), "ms"),
        fig("bosun's own p50 (pairwise)", percentile(&o, 50.0), "ms").at_most(10.0),
        fig("bosun's own p99 (pairwise)", percentile(&o, 99.0), "ms"),
        fig("ratio p50 (task→agent / floor)", ratio, "x"),
    ];
    if plan.pool > 0 {
        figures[0] = fig("task→agent p50", percentile(&b, 50.0), "ms").at_most(10.0);
        figures[1] = fig("task→agent p99", percentile(&b, 99.0), "ms").at_most(25.0);
        // Warm, the floor's checkout is what the pool saves: no target on the difference.
        figures[4] = fig("bosun's own p50 (pairwise)", percentile(&o, 50.0), "ms");
        figures.push(fig("tasks started warm", warm as f64, "tasks"));
    }
    Ok(Report { scenario: "dispatch-repo", params: json!({"files": files, "tasks": plan.tasks, "pool": plan.pool}), figures })
}

/// Makes the repo the tasks use; returns how many files it tracks.
pub(crate) fn make_repo(sandbox: &Sandbox, repo: &Path, source: &Source) -> Result<usize> {
    match source {
        Source::Clone(from) => {
            let (from, to) = (from.to_string_lossy(), repo.to_string_lossy());
            git(sandbox, &sandbox.dir, &["clone", "-q", "--local", "--", &from, &to])?;
        }
        Source::Files(n) => {
            for i in 0..*n {
                let path = repo.join(format!("src/d{}/f{i}.txt", i / 100));
                std::fs::create_dir_all(path.parent().expect("a parent"))?;
                std::fs::write(&path, format!("file {i}\n"))?;
            }
            std::fs::create_dir_all(repo)?;
            git(sandbox, repo, &["init", "-q", "-b", "main"])?;
            git(sandbox, repo, &["add", "-A"])?;
            git(sandbox, repo, &["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", "files"])?;
        }
    }
    let listed = git(sandbox, repo, &["ls-files", "-z"])?;
    Ok(listed.split('\0').filter(|s| !s.is_empty()).count())
}

fn git(sandbox: &Sandbox, dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .envs(sandbox.sealed_env())
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!("git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The floor: `git worktree add -b` of the repo's head, then the agent started in it;
/// milliseconds from before the add to the agent's own first timestamp.
fn floor_once(sandbox: &Sandbox, repo: &Path, i: usize) -> Result<f64> {
    let dir = sandbox.dir.join(format!("floor/{i}"));
    let t0 = now_ns();
    let (branch, path) = (format!("bench-floor-{i}"), dir.to_string_lossy().into_owned());
    git(sandbox, repo, &["worktree", "add", "-q", "-b", &branch, "--", &path, "HEAD"])?;
    let mut child = Command::new(&sandbox.bins().fake_agent)
        .arg("--script")
        .arg(sandbox.script("dispatch"))
        .current_dir(&dir)
        .envs(sandbox.sealed_env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start the fake agent")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped")).read_line(&mut line)?;
    child.wait()?;
    let ns = started_ns(&line).with_context(|| format!("the floor's agent said {line:?}"))?;
    Ok(ns.saturating_sub(t0) as f64 / 1e6)
}

/// One task in the repo: milliseconds from before the POST to the agent's first
/// timestamp, and its id; waits until the task is in review.
async fn bosun_once(daemon: &Daemon, repo: &Path, i: usize) -> Result<(f64, i64)> {
    let t0 = now_ns();
    let id = daemon.create_with(&json!({"title": format!("repo task {i}"), "agent": "dispatch", "repo": repo})).await?;
    Ok((started_after(daemon, id, t0).await?, id))
}

/// Milliseconds from `t0` to task `id`'s agent's first timestamp, once it is in review.
pub(crate) async fn started_after(daemon: &Daemon, id: i64, t0: u128) -> Result<f64> {
    let since = Instant::now();
    loop {
        let task = daemon.get(&format!("/api/tasks/{id}")).await?;
        match task["status"].as_str() {
            Some("queued" | "running") => {}
            Some("review") => break,
            other => bail!("task {id} ended {other:?}: {}{}", task["status_reason"], daemon.log_tail()),
        }
        check_deadline(since, Duration::from_secs(60), &format!("task {id} to reach review"), daemon)?;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let events = daemon.get(&format!("/api/tasks/{id}/events?limit=50")).await?;
    let ns = (events.as_array().into_iter().flatten())
        .find_map(|e| started_ns(e["text"].as_str()?))
        .with_context(|| format!("task {id} has no `started` event with a time: {events}"))?;
    Ok(ns.saturating_sub(t0) as f64 / 1e6)
}

/// The time in `started <ns>`, as a message text or a whole JSON line holding one.
fn started_ns(text: &str) -> Option<u128> {
    let text = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => v["text"].as_str()?.to_string(),
        Err(_) => text.to_string(),
    };
    text.strip_prefix("started ")?.trim().parse().ok()
}

/// The daemon's store, read beside it (WAL: readers do not hold up its writes).
pub(crate) async fn open_store(sandbox: &Sandbox) -> Result<bosun_store::SqliteStore> {
    let db = sandbox.data_dir().join("bosun.db");
    bosun_store::SqliteStore::open(&db).await.with_context(|| format!("cannot open {}", db.display()))
}

/// How many of the pool's entries are ready.
pub(crate) async fn pool_ready(store: &bosun_store::SqliteStore) -> Result<usize> {
    use bosun_store::Store;
    let entries = store.pool().pool_entries().await?;
    Ok(entries.iter().filter(|e| e.state == bosun_store::pool::PoolState::Ready).count())
}

/// Waits until the daemon's pool for the repo holds `k` ready worktrees, so each
/// measured task meets a warm pool.
pub(crate) async fn wait_pool_full(daemon: &Daemon, store: &bosun_store::SqliteStore, k: usize) -> Result<()> {
    let since = Instant::now();
    while pool_ready(store).await? < k {
        check_deadline(since, Duration::from_secs(300), "the pool to fill", daemon)?;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Whether task `id` got a pool worktree: its `.git` file names the registration of
/// the directory it was checked out in, a pool entry's number for a warm one.
pub(crate) async fn started_warm(daemon: &Daemon, id: i64) -> Result<bool> {
    let task = daemon.get(&format!("/api/tasks/{id}")).await?;
    let worktree = task["worktree"].as_str().with_context(|| format!("task {id} has no worktree"))?;
    let dotgit = std::fs::read_to_string(Path::new(worktree).join(".git"))?;
    Ok(dotgit.trim().rsplit('/').next().is_some_and(|name| name.chars().all(|c| c.is_ascii_digit())))
}
