//! The daemon under test: a sealed temporary directory, `bosun serve` as a child
//! process, a small HTTP client for its API, and a sampler of its RSS and CPU time.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

/// Where the `bosun` and `bosun-fake-agent` binaries are.
#[derive(Clone)]
pub struct Bins {
    pub bosun: PathBuf,
    pub fake_agent: PathBuf,
}

impl Bins {
    /// The given paths, else the binaries next to this executable.
    pub fn find(bosun: Option<PathBuf>, fake_agent: Option<PathBuf>) -> Result<Bins> {
        let exe = std::env::current_exe().context("cannot find this executable")?;
        let dir = exe.parent().context("this executable has no directory")?;
        let bins = Bins { bosun: bosun.unwrap_or(dir.join("bosun")), fake_agent: fake_agent.unwrap_or(dir.join("bosun-fake-agent")) };
        for (p, flag) in [(&bins.bosun, "--bosun"), (&bins.fake_agent, "--fake-agent")] {
            if !p.is_file() {
                bail!("{} not found: build with `cargo build --release -p bosun` or pass {flag}", p.display());
            }
        }
        Ok(bins)
    }
}

/// A fresh temporary directory holding HOME, the data dir, the config dir and the
/// agents' scripts; removed when dropped.
pub struct Sandbox {
    pub dir: PathBuf,
    bins: Bins,
}

impl Sandbox {
    pub fn new(bins: &Bins) -> Result<Sandbox> {
        let dir = std::env::temp_dir().join(format!("bosun-bench-{}-{}", std::process::id(), crate::now_ns()));
        for sub in ["home", "data", "config/agents", "scripts"] {
            std::fs::create_dir_all(dir.join(sub)).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        Ok(Sandbox { dir, bins: bins.clone() })
    }

    pub fn bins(&self) -> &Bins {
        &self.bins
    }

    /// The sealed environment every process of the benchmark gets (the daemon, git, agents).
    pub fn sealed_env(&self) -> Vec<(&'static str, PathBuf)> {
        let home = self.dir.join("home");
        vec![
            ("HOME", home.clone()),
            ("GIT_CONFIG_GLOBAL", "/dev/null".into()),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            ("XDG_CONFIG_HOME", home.join(".config")),
            ("XDG_DATA_HOME", home.join(".local/share")),
        ]
    }

    /// The script file of the profile `name` (see [`Sandbox::agent`]).
    pub fn script(&self, name: &str) -> PathBuf {
        self.dir.join(format!("scripts/{name}.jsonl"))
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Writes the profile `name`: the fake agent running `steps`.
    pub fn agent(&self, name: &str, steps: &[Value]) -> Result<()> {
        let script = self.script(name);
        std::fs::write(&script, bosun_fake_agent::script(steps))?;
        let command = json!([self.bins.fake_agent, "--script", script]);
        let profile = format!("---\nname: {name}\nruntime: command\ncommand: {command}\n---\nA bosun-bench agent.\n");
        std::fs::write(self.dir.join(format!("config/agents/{name}.md")), profile)?;
        Ok(())
    }

    /// Starts `bosun serve` on a free port with a sealed environment; returns once it answers.
    pub async fn start(&self, max_concurrent: usize) -> Result<Daemon> {
        self.start_with_env(max_concurrent, &[]).await
    }

    /// [`Sandbox::start`] with extra environment for the daemon (agent CLI paths).
    pub async fn start_with_env(&self, max_concurrent: usize, env: &[(&str, String)]) -> Result<Daemon> {
        self.start_with(max_concurrent, env, &[]).await
    }

    /// [`Sandbox::start_with_env`] with extra `serve` arguments (`--pool N`).
    pub async fn start_with(&self, max_concurrent: usize, env: &[(&str, String)], args: &[String]) -> Result<Daemon> {
        let mut child = Command::new(&self.bins.bosun)
            .args(["serve", "--addr", "127.0.0.1:0", "--stop-grace", "2", "--max-concurrent", &max_concurrent.to_string()])
            .args(args)
            .args([OsStr::new("--data-dir"), self.data_dir().as_os_str(), "--config-dir".as_ref(), self.dir.join("config").as_os_str()])
            .envs(self.sealed_env())
            .env("BOSUN_LOG", "info")
            .env("NO_COLOR", "1")
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", self.bins.bosun.display()))?;
        // Read the address from stderr, then keep draining it into a log file.
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = self.dir.join("daemon.log");
        let (tx, rx) = std::sync::mpsc::channel();
        let log_path = log.clone();
        std::thread::spawn(move || {
            let mut file = std::fs::File::create(log_path).ok();
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("bosun serving ").and_then(|r| r.split_whitespace().next())
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(url.to_string());
                }
                if let Some(f) = file.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
            }
        });
        let pid = child.id();
        let mut daemon = Daemon { child: Some(child), pid, url: String::new(), http: reqwest::Client::new(), log };
        daemon.url = rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| anyhow!("the daemon did not print its address in 30 s{}", daemon.log_tail()))?;
        // It wrote its own token before saying where it serves: every request sends it
        // (none for a daemon from before authentication, to compare against).
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(token) = std::fs::read_to_string(self.data_dir().join("token")) {
            headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {}", token.trim()).parse()?);
        }
        daemon.http = reqwest::Client::builder().default_headers(headers).build()?;
        let since = Instant::now();
        while daemon.http.get(format!("{}/api/health", daemon.url)).send().await.is_err() {
            check_deadline(since, Duration::from_secs(30), "the daemon to answer /api/health", &daemon)?;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(daemon)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Fails, naming what was awaited, once `timeout` has passed since `since`.
pub fn check_deadline(since: Instant, timeout: Duration, what: &str, daemon: &Daemon) -> Result<()> {
    if since.elapsed() > timeout {
        bail!("timed out after {timeout:?} waiting for {what}{}", daemon.log_tail());
    }
    Ok(())
}

/// The running `bosun serve` and a client for its API. Stopped if dropped.
pub struct Daemon {
    child: Option<Child>,
    pub pid: u32,
    pub url: String,
    pub http: reqwest::Client,
    log: PathBuf,
}

impl Daemon {
    pub async fn get(&self, path: &str) -> Result<Value> {
        let resp = self.http.get(format!("{}{path}", self.url)).header("accept", "application/json").send().await?;
        let status = resp.status();
        let body = resp.text().await?;
        if !status.is_success() {
            bail!("GET {path}: {status}: {body}");
        }
        serde_json::from_str(&body).with_context(|| format!("GET {path}: not JSON"))
    }

    /// Queues a scratch task (no repo) for `agent`; returns its id.
    pub async fn create(&self, title: &str, agent: &str) -> Result<i64> {
        self.create_with(&json!({"title": title, "agent": agent})).await
    }

    /// Queues the task `body` (a `POST /api/tasks` body); returns its id.
    pub async fn create_with(&self, body: &Value) -> Result<i64> {
        let resp = self.http.post(format!("{}/api/tasks", self.url)).json(body).send().await?;
        let status = resp.status();
        let body: Value = resp.json().await?;
        body["id"].as_i64().ok_or_else(|| anyhow!("POST /api/tasks: {status}: {body}"))
    }

    /// Queues `n` scratch tasks for `agent` and polls every `poll` until none is queued
    /// or running; fails if any ended otherwise than in `review`. Returns their ids and
    /// how many logs lacked their final event then (see [`Daemon::incomplete_logs`]).
    pub async fn run_tasks(&self, n: usize, agent: &str, skip: u64, timeout: Duration, poll: Duration) -> Result<(Vec<i64>, u64)> {
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            ids.push(self.create(&format!("{agent} {i}"), agent).await?);
        }
        let since = Instant::now();
        while !self.get("/api/tasks?status=queued,running,needs_input&limit=1").await?.as_array().is_some_and(Vec::is_empty) {
            check_deadline(since, timeout, "every task to finish", self)?;
            tokio::time::sleep(poll).await;
        }
        let bad = self.get("/api/tasks?status=failed,stopped,interrupted,blocked,done").await?;
        if let Some(t) = bad.as_array().and_then(|a| a.first()) {
            bail!("task {} ended {} ({}){}", t["id"], t["status"], t["status_reason"], self.log_tail());
        }
        let late = self.incomplete_logs(&ids, skip, Duration::from_secs(30)).await?;
        Ok((ids, late))
    }

    /// How many of the tasks' logs lacked the final `review` status event at the first
    /// look (the daemon stores it after every event of the agent, before the task shows
    /// `review`, so: none); then waits until each has it. Reads events after seq `skip`.
    pub async fn incomplete_logs(&self, ids: &[i64], skip: u64, timeout: Duration) -> Result<u64> {
        let (since, mut late) = (Instant::now(), 0);
        for id in ids {
            for look in 0.. {
                let page = self.get(&format!("/api/tasks/{id}/events?after={skip}&limit=10000")).await?;
                if page.as_array().into_iter().flatten().any(|e| e["type"] == "status" && e["status"] == "review") {
                    break;
                }
                late += u64::from(look == 0);
                check_deadline(since, timeout, &format!("the final event of task {id}"), self)?;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        Ok(late)
    }

    /// Every stored event of a task, read through the JSON API in pages.
    pub async fn events(&self, id: i64) -> Result<Vec<Value>> {
        let mut all: Vec<Value> = Vec::new();
        loop {
            let after = all.last().and_then(|e| e["seq"].as_i64()).unwrap_or(0);
            let page = self.get(&format!("/api/tasks/{id}/events?after={after}&limit=10000")).await?;
            let page = page.as_array().context("events page is not an array")?;
            all.extend(page.iter().cloned());
            if page.len() < 10_000 {
                return Ok(all);
            }
        }
    }

    /// SIGTERM (the daemon then stops its agents), and waits for it to exit; SIGKILL
    /// after 30 s.
    pub fn stop(mut self) -> Result<()> {
        self.terminate()
    }

    fn terminate(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        let _ = Command::new("kill").args(["-TERM", &self.pid.to_string()]).status();
        let since = Instant::now();
        while child.try_wait()?.is_none() {
            if since.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the daemon did not exit within 30 s of SIGTERM{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// The last lines of the daemon's log, to explain a failure.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!("\n--- daemon log tail ---\n{}", lines[lines.len().saturating_sub(20)..].join("\n"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.terminate();
    }
}

/// What the sampler saw of the daemon process over a measured interval.
pub struct ProcUsage {
    /// VmHWM at the end: the peak resident set since the daemon started.
    pub peak_rss_mb: f64,
    /// The largest VmRSS seen by the once-a-second samples.
    pub max_sampled_rss_mb: f64,
    /// (utime + stime) / wall time, in percent of one core.
    pub mean_cpu_pct: f64,
}

/// Samples the daemon's VmRSS every second, and its CPU time at start and end.
pub struct Sampler {
    pid: u32,
    max_kb: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
    cpu0: f64,
    t0: Instant,
}

impl Sampler {
    pub fn start(pid: u32) -> Result<Sampler> {
        let max_kb = Arc::new(AtomicU64::new(0));
        let max = max_kb.clone();
        let task = tokio::spawn(async move {
            let mut every_second = tokio::time::interval(Duration::from_secs(1));
            loop {
                every_second.tick().await;
                max.fetch_max(status_kb(pid, "VmRSS:").unwrap_or(0), Ordering::Relaxed);
            }
        });
        Ok(Sampler { pid, max_kb, task, cpu0: cpu_seconds(pid)?, t0: Instant::now() })
    }

    pub fn finish(self) -> Result<ProcUsage> {
        let cpu = cpu_seconds(self.pid)? - self.cpu0;
        let wall = self.t0.elapsed().as_secs_f64();
        self.task.abort();
        let max_kb = self.max_kb.load(Ordering::Relaxed).max(status_kb(self.pid, "VmRSS:").unwrap_or(0));
        let hwm = status_kb(self.pid, "VmHWM:").context("cannot read VmHWM of the daemon")?;
        Ok(ProcUsage { peak_rss_mb: hwm as f64 / 1024.0, max_sampled_rss_mb: max_kb as f64 / 1024.0, mean_cpu_pct: 100.0 * cpu / wall })
    }
}

/// The process's resident memory now (VmRSS), in MB.
pub fn rss_mb(pid: u32) -> Result<f64> {
    Ok(status_kb(pid, "VmRSS:").context("cannot read VmRSS of the daemon")? as f64 / 1024.0)
}

/// A `kB` field of /proc/PID/status.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix(field))?.split_whitespace().next()?.parse().ok()
}

/// utime + stime (fields 14 and 15 of /proc/PID/stat) in seconds, with the clock
/// tick rate asked of `getconf` (100 on every common Linux).
fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // Skip the command name (it may hold spaces): what follows starts at field 3.
    let rest: Vec<&str> = stat.rsplit_once(')').context("odd /proc stat")?.1.split_whitespace().collect();
    let ticks: f64 = rest[11].parse::<f64>()? + rest[12].parse::<f64>()?;
    let tck = Command::new("getconf").arg("CLK_TCK").output().ok();
    Ok(ticks / tck.and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok()).unwrap_or(100.0))
}
