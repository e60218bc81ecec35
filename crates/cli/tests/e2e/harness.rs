//! A sealed world for end-to-end tests: a temporary HOME, data dir, config dir and
//! git repo; the real `bosun serve` as a child process; the real `bosun` CLI; and
//! the scripted fake agent as the agent. Waits are conditions with a deadline.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BOSUN: &str = env!("CARGO_BIN_EXE_bosun");
pub const FAKE_AGENT: &str = env!("CARGO_BIN_EXE_bosun-fake-agent");
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// `$USER` in the sealed world: the CLI sends it as the sender of what a human says.
pub const USER: &str = "ada-test";

pub struct World {
    pub dir: tempfile::TempDir,
    pub repo: PathBuf,
    daemon: Option<Child>,
    pub url: String,
    /// Set for every process the world runs (`BOSUN_CA` for a daemon serving TLS).
    pub env: Vec<(String, String)>,
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=Test User", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// Polls `cond` until it returns Some, or panics after [`TIMEOUT`] naming `what`.
/// A reqwest client builder that sends `Authorization: Bearer <token>`.
pub fn authed_builder(token: &str) -> reqwest::ClientBuilder {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder().default_headers(headers)
}

/// A reqwest client that sends `Authorization: Bearer <token>`.
pub fn authed(token: &str) -> reqwest::Client {
    authed_builder(token).build().unwrap()
}

/// Serves a fake remote service (`app`) on a free port of 127.0.0.1, from a thread of
/// its own; its base URL.
pub fn serve_fake(app: axum::Router) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move { axum::serve(tokio::net::TcpListener::from_std(listener).unwrap(), app).await.unwrap() });
    });
    url
}

pub fn wait_for<T>(what: &str, cond: impl FnMut() -> Option<T>) -> T {
    wait_within(TIMEOUT, what, cond)
}

/// [`wait_for`] with a timeout of its own (for what a loaded machine makes slow).
pub fn wait_within<T>(timeout: Duration, what: &str, mut cond: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = cond() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Is `pid` a live (non-zombie) process?
pub fn alive(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

impl World {
    /// A world whose repo, at `<tmp>/<repo_name>`, has one commit on `main`.
    pub fn new(repo_name: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "data", "config/agents", "scripts", "shared"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let repo = dir.path().join(repo_name);
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("README.md"), "# app\n").unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "initial"]);
        World { dir, repo, daemon: None, url: String::new(), env: Vec::new() }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn seal(&self, cmd: &mut Command) {
        let home = self.path("home");
        cmd.env("HOME", &home)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env_remove("BOSUN_DATA_DIR")
            .env_remove("BOSUN_CONFIG_DIR")
            .env("LC_ALL", "C")
            .env("USER", USER)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
    }

    /// The daemon's own admin token (it writes `<data-dir>/token` at start).
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.path("data/token")).expect("the daemon wrote its token").trim().to_string()
    }

    /// Writes an agent profile running the fake agent with `steps`.
    pub fn agent(&self, name: &str, max_concurrent: Option<u32>, steps: &[Value]) {
        let limit = max_concurrent.map(|n| format!("max_concurrent: {n}\n")).unwrap_or_default();
        self.agent_with(name, &limit, steps);
    }

    /// Like [`World::agent`] with extra front matter lines (`interactive: true\n`, ...).
    pub fn agent_with(&self, name: &str, front_matter: &str, steps: &[Value]) {
        let script = self.path(&format!("scripts/{name}.jsonl"));
        std::fs::write(&script, bosun_fake_agent::script(steps)).unwrap();
        let command = serde_json::to_string(&[FAKE_AGENT, "--script", script.to_str().unwrap()]).unwrap();
        let profile =
            format!("---\nname: {name}\nruntime: command\ncommand: {command}\n{front_matter}---\nStanding instructions for {name}.\n");
        std::fs::write(self.path(&format!("config/agents/{name}.md")), profile).unwrap();
    }

    /// Starts `bosun serve` on a free port and waits until it answers.
    pub fn start(&mut self, extra: &[&str]) {
        self.start_with_env(extra, &[]);
    }

    pub fn start_with_env(&mut self, extra: &[&str], env: &[(&str, &str)]) {
        self.start_on("127.0.0.1:0", extra, env);
    }

    /// Starts the daemon again on the address it had (clients keep their URL).
    pub fn restart_on_same_address(&mut self) {
        let addr = self.url.trim_start_matches("http://").to_string();
        self.start_on(&addr, &[], &[]);
    }

    pub fn start_on(&mut self, addr: &str, extra: &[&str], env: &[(&str, &str)]) {
        assert!(self.daemon.is_none(), "daemon already running");
        let mut cmd = Command::new(BOSUN);
        cmd.args(["serve", "--addr", addr, "--stop-grace", "2", "--data-dir"])
            .arg(self.path("data"))
            .arg("--config-dir")
            .arg(self.path("config"))
            .args(extra)
            .env("BOSUN_LOG", "info,bosun_engine=debug,bosun_server=debug");
        self.seal(&mut cmd);
        cmd.env_remove("GITHUB_TOKEN").envs(env.iter().copied());
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("bosun serve starts");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        // The daemon's log, kept from its first line (what it says while starting too).
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(self.path("daemon.log")).unwrap();
        let url = loop {
            let line = lines.next().expect("serve printed its address").expect("readable stderr");
            let _ = writeln!(f, "{line}");
            if let Some(rest) = line.strip_prefix("bosun serving ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Keep draining the daemon's log so it never blocks on a full pipe; keep a copy.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let _ = writeln!(f, "{line}");
            }
        });
        self.url = url;
        self.daemon = Some(child);
        wait_for("the daemon to answer", || self.try_bosun(&["ls"]).status.success().then_some(()));
    }

    /// SIGKILLs the daemon (no chance to clean up).
    pub fn kill_daemon(&mut self) {
        let mut child = self.daemon.take().expect("daemon running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Waits for the daemon to die by itself, of SIGKILL (a test's crash point,
    /// `BOSUN_TEST_CRASH_AT`).
    pub fn wait_daemon_crashed(&mut self) {
        use std::os::unix::process::ExitStatusExt;
        let mut child = self.daemon.take().expect("daemon running");
        let status = wait_for("the daemon to crash at its crash point", || child.try_wait().unwrap());
        assert_eq!(status.signal(), Some(9), "the daemon died of SIGKILL: {status}");
    }

    /// SIGTERMs the daemon and waits for it to exit; returns its exit status.
    pub fn stop_daemon(&mut self) -> std::process::ExitStatus {
        let mut child = self.daemon.take().expect("daemon running");
        term(child.id());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "daemon did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The CLI against the world's daemon, as a child to watch (stdout piped).
    pub fn spawn_bosun(&self, args: &[&str]) -> Child {
        let mut cmd = Command::new(BOSUN);
        cmd.args(args).env("BOSUN_URL", &self.url);
        self.seal(&mut cmd);
        cmd.env("BOSUN_DATA_DIR", self.path("data"));
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("bosun runs")
    }

    /// Runs the CLI against the world's daemon.
    pub fn try_bosun(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(BOSUN);
        cmd.args(args).env("BOSUN_URL", &self.url);
        self.seal(&mut cmd);
        // The CLI finds the daemon's token in its data dir, as on a user's machine.
        cmd.env("BOSUN_DATA_DIR", self.path("data"));
        cmd.output().expect("bosun runs")
    }

    /// Runs the CLI and asserts it succeeded; returns stdout.
    pub fn bosun(&self, args: &[&str]) -> String {
        let out = self.try_bosun(args);
        assert!(
            out.status.success(),
            "bosun {args:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.bosun(&all)).expect("--json prints JSON")
    }

    pub fn task(&self, id: i64) -> Value {
        self.json(&["show", &id.to_string()])
    }

    /// Adds a task for `agent` in the world's repo; returns its id.
    pub fn add(&self, title: &str, agent: &str) -> i64 {
        let out = self.bosun(&["add", "--repo", self.repo.to_str().unwrap(), "--agent", agent, "--", title]);
        out.lines().next().unwrap().trim().parse().expect("add prints the id first")
    }

    pub fn wait_status(&self, id: i64, status: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let t = self.task(id);
            if t["status"] == status {
                return t;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.path("daemon.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
                panic!("timed out waiting for task {id} to be {status}: {t}\n--- daemon log tail ---\n{}", tail.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The task's events (as `bosun logs --json` prints them).
    pub fn events(&self, id: i64) -> Vec<Value> {
        self.bosun(&["logs", &id.to_string(), "--json"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

impl World {
    /// Pids of the live processes this world's runs started (agents, their holders,
    /// what they spawned): they all carry `BOSUN_WORKTREE` under the world's dir.
    pub fn run_processes(&self) -> Vec<i32> {
        let needle = format!("BOSUN_WORKTREE={}", self.dir.path().display());
        processes_where(|_, environ| environ.split(|&b| b == 0).any(|var| var.starts_with(needle.as_bytes())))
    }

    /// Pids of this world's holder processes (`bosun hold`).
    pub fn holders(&self) -> Vec<i32> {
        let spool = self.path("data").display().to_string();
        processes_where(|cmdline, _| {
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            args.get(1) == Some(&&b"hold"[..]) && args.iter().any(|a| a.starts_with(spool.as_bytes()))
        })
    }
}

/// Live processes whose `/proc/<pid>/cmdline` and `environ` satisfy `pred`.
fn processes_where(pred: impl Fn(&[u8], &[u8]) -> bool) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        let (Ok(cmdline), Ok(environ)) = (std::fs::read(entry.path().join("cmdline")), std::fs::read(entry.path().join("environ"))) else {
            continue;
        };
        if alive(i64::from(pid)) && pred(&cmdline, &environ) {
            pids.push(pid);
        }
    }
    pids
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            term(child.id());
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // Agents outlive the daemon by design; a test's world must not.
        for pid in self.run_processes() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        // Nor their cgroups (runs whose holders the test killed): emptied by now, or soon.
        let logs = std::fs::read_dir(self.path("data/logs")).into_iter().flatten().flatten();
        for file in logs.flat_map(|task| std::fs::read_dir(task.path()).into_iter().flatten().flatten()) {
            if file.path().extension().is_some_and(|e| e == "cgroup")
                && let Ok(dir) = std::fs::read_to_string(file.path())
            {
                let deadline = Instant::now() + Duration::from_secs(2);
                while std::fs::remove_dir(dir.trim_end()).is_err() && Path::new(dir.trim_end()).exists() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }
}

fn term(pid: u32) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM);
}
