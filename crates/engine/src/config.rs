//! Where the daemon keeps its files and the limits it runs under.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::StartError;

#[derive(Debug, Clone)]
pub struct Config {
    /// `bosun.db`, `worktrees/`, `workspaces/`, `logs/`.
    pub data_dir: PathBuf,
    /// User-level configuration: `agents/*.md`.
    pub config_dir: PathBuf,
    /// Runs at once, over all profiles.
    pub max_concurrent: usize,
    /// Between SIGTERM and SIGKILL when stopping an agent.
    pub stop_grace: Duration,
    /// How often open pull requests are checked for being merged (None: never).
    pub pr_refresh: Option<Duration>,
    /// Where the daemon is reached, for links back to tasks (set by the server).
    pub public_url: String,
    /// Host names the API answers to besides loopback and the bound address
    /// (requests naming any other `Host` are refused).
    pub allowed_hosts: Vec<String>,
    /// This engine's name among those sharing a store: runs record it, and crash
    /// recovery only interrupts its own.
    pub node: String,
    /// The program whose `hold` verb holds an agent's pipes (the `bosun` binary): with
    /// it, agents outlive the daemon and a restarted daemon takes them back. None:
    /// agents are the daemon's children and die with it.
    pub holder_exe: Option<PathBuf>,
    /// How long an HTTP client may take to send a request's headers.
    pub header_timeout: Duration,
    /// At shutdown, stop the agents (their tasks become `interrupted`) instead of
    /// leaving them running with their holders for the next daemon.
    pub stop_agents_on_exit: bool,
    /// How long a notification's Approve/Deny link works.
    pub action_link_ttl: Duration,
    /// Accept push subscriptions to http:// and to loopback or private addresses
    /// (`serve --allow-local-push`, hidden: for tests with a local push receiver).
    pub allow_local_push: bool,
    /// Where runs get cgroups of their own (probed at start: `Engine::start`); None:
    /// not available, a run's processes are found by process group and token.
    pub cgroups: Option<bosun_agents::cgroup::Cgroups>,
    /// Warm worktrees per repo where its `.bosun/config.toml` says no `[pool] size`
    /// (`serve --pool N`; 0: none).
    pub pool_size: usize,
}

impl Config {
    pub fn new(data_dir: PathBuf, config_dir: PathBuf) -> Config {
        Config {
            data_dir,
            config_dir,
            max_concurrent: 8,
            stop_grace: Duration::from_secs(5),
            pr_refresh: Some(Duration::from_secs(120)),
            public_url: "http://127.0.0.1:7777".into(),
            allowed_hosts: Vec::new(),
            node: "local".into(),
            holder_exe: None,
            header_timeout: Duration::from_secs(10),
            stop_agents_on_exit: false,
            action_link_ttl: Duration::from_secs(3600),
            allow_local_push: false,
            cgroups: None,
            pool_size: 0,
        }
    }

    /// The daemon's own admin token (mode 0600), which the CLI on this machine reads.
    pub fn token_file(&self) -> PathBuf {
        bosun_api::paths::token_file(&self.data_dir)
    }

    pub fn worktrees_dir(&self) -> PathBuf {
        self.data_dir.join("worktrees")
    }

    /// The warm worktree pool's checkouts (`pool.rs`).
    pub fn pool_dir(&self) -> PathBuf {
        self.data_dir.join("pool")
    }

    pub fn workspaces_dir(&self) -> PathBuf {
        self.data_dir.join("workspaces")
    }

    pub fn run_log(&self, task_id: i64, run_id: i64) -> PathBuf {
        self.data_dir.join("logs").join(task_id.to_string()).join(format!("{run_id}.log"))
    }

    /// Where a run's holder keeps the agent's output and listens (None without a
    /// holder program); `attach` as in [`bosun_agents::Holder::attach`].
    pub fn holder(&self, task_id: i64, run_id: i64, attach: Option<u64>) -> Option<bosun_agents::Holder> {
        let exe = self.holder_exe.clone()?;
        let dir = self.data_dir.join("logs").join(task_id.to_string());
        Some(bosun_agents::Holder {
            exe,
            spool: dir.join(format!("{run_id}.spool")),
            socket: dir.join(format!("{run_id}.sock")),
            log: dir.join(format!("{run_id}.holder.log")),
            grace: self.stop_grace,
            cgroup: self.cgroups.as_ref().map(|c| c.base.join(self.cgroup_name(run_id))),
            cgroup_file: dir.join(format!("{run_id}.cgroup")),
            attach,
        })
    }

    /// A run's cgroup: `bosun-run-<id>-<data dir>`, the data dir as 8 hex digits of
    /// its path's SHA-256 (daemons of several data dirs may share a cgroup, and each
    /// numbers its runs from 1).
    fn cgroup_name(&self, run_id: i64) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.data_dir.as_os_str().as_encoded_bytes());
        let tag: String = digest.as_ref()[..4].iter().map(|b| format!("{b:02x}")).collect();
        format!("bosun-run-{run_id}-{tag}")
    }

    /// Whether a shutdown leaves agents running for the next daemon.
    pub fn agents_outlive_daemon(&self) -> bool {
        self.holder_exe.is_some() && !self.stop_agents_on_exit
    }

    pub fn user_agents_dir(&self) -> PathBuf {
        self.config_dir.join("agents")
    }

    pub(crate) fn prepare_dirs(&self) -> Result<(), StartError> {
        for dir in [self.data_dir.clone(), self.worktrees_dir(), self.workspaces_dir(), self.pool_dir(), self.data_dir.join("logs")] {
            std::fs::create_dir_all(&dir).map_err(|source| StartError::Dir { path: dir.clone(), source })?;
        }
        // The database (credential hashes, push subscriptions' keys, every task's log)
        // is for this user alone: the data dir is closed to others.
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(&self.data_dir)
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&self.data_dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|source| StartError::Dir { path: self.data_dir.clone(), source })?;
        }
        Ok(())
    }

    /// `<config-dir>/prices.toml` over the built-in price table.
    pub(crate) fn load_prices(&self) -> Result<bosun_core::pricing::PriceTable, StartError> {
        let path = self.config_dir.join("prices.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => bosun_core::pricing::PriceTable::parse(&text).map_err(|e| StartError::Prices { path, message: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
            Err(e) => Err(StartError::Prices { path, message: format!("cannot read it: {e}") }),
        }
    }

    /// One daemon per data dir (a second would start the same tasks twice). Takes the
    /// data dir for this daemon: a lock on the directory itself (which
    /// cannot be deleted from under a live daemon, unlike a file in it), and
    /// `daemon.lock` saying who holds it, for the next daemon's refusal. A clean
    /// shutdown removes `daemon.lock`: found on start, the last daemon did not stop
    /// cleanly (the second value is then true).
    pub(crate) fn lock_data_dir(&self) -> Result<(File, bool), StartError> {
        let dir = File::open(&self.data_dir).map_err(|source| StartError::Dir { path: self.data_dir.clone(), source })?;
        let path = self.data_dir.join("daemon.lock");
        if dir.try_lock().is_err() {
            let holder = std::fs::read_to_string(&path)
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "whose daemon.lock, which names it, was deleted".into());
            return Err(StartError::Locked { data_dir: self.data_dir.clone(), holder });
        }
        let unclean = path.exists();
        std::fs::write(&path, format!("pid {} at {}", std::process::id(), self.public_url))
            .map_err(|source| StartError::Dir { path: path.clone(), source })?;
        Ok((dir, unclean))
    }
}

/// `$BOSUN_CONFIG_DIR`, else `$XDG_CONFIG_HOME/bosun`, else `~/.config/bosun`.
pub fn default_config_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BOSUN_CONFIG_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME") {
        return Path::new(&dir).join("bosun");
    }
    home().join(".config").join("bosun")
}

/// `$XDG_DATA_HOME/bosun`, else `~/.local/share/bosun` (the CLI reads the token
/// from the same place: one definition, in `bosun-api`).
pub use bosun_api::paths::default_data_dir;

fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"))
}
