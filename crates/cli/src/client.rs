//! The verbs' view of the daemon: the typed API client (`bosun_api::client`), the
//! `--json` switch, and how task ids are written. Every failure of a call becomes a
//! [`Failure`] carrying the client error's message.

use bosun_api::client::{Client, ClientError, ClientOptions};
use serde::Serialize;

use crate::Failure;

pub struct Ctx {
    pub api: Client,
    pub json: bool,
}

impl Ctx {
    /// A context for the daemon at `server` (trusting `ca` too), authenticating with
    /// `token` (`--token`), else `BOSUN_TOKEN`, else the daemon's own token file in the
    /// data dir (`BOSUN_DATA_DIR`, else the default one): on the daemon's machine, as
    /// its user, no flag is needed.
    pub fn new(server: &str, ca: Option<&std::path::Path>, json: bool, token: Option<String>) -> Result<Ctx, Failure> {
        let ca_pem = ca
            .map(|path| {
                std::fs::read(path).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Failure(format!("--ca {}: no such file", path.display())),
                    kind => Failure(format!("--ca {}: {kind}", path.display())),
                })
            })
            .transpose()?;
        let host = bosun_api::client::url_host(server).unwrap_or_default();
        let loopback = is_this_machine(&host);
        // A token crosses the network only encrypted.
        if !loopback && server.starts_with("http://") && (token.is_some() || std::env::var_os("BOSUN_TOKEN").is_some()) {
            return Err(Failure(format!(
                "refusing to send a token to {host} over plain http://: use https:// (the daemon serves TLS with --tls-cert, or a proxy does)"
            )));
        }
        let found = find_token(token, loopback);
        let api = Client::with_options(server, ClientOptions { ca_pem, token: found.token.clone() })
            .map_err(|e| match e {
                ClientError::InvalidUrl { .. } => Failure(format!("--server must be an http:// or https:// URL, not {server:?}")),
                ClientError::InvalidToken => Failure(format!("the token from {} is not a valid token", found.source)),
                e => Failure::from(e),
            })?
            .on_unauthorized(found.hint);
        Ok(Ctx { api, json })
    }

    /// Prints `value` as JSON on one line.
    pub fn print_json(&self, value: &impl Serialize) {
        println!("{}", serde_json::to_string(value).expect("values serialize"));
    }
}

/// The token a client verb sends, where it came from, and what to say if the daemon
/// refuses it.
struct FoundToken {
    token: Option<String>,
    source: String,
    hint: String,
}

/// This machine: 127/8, ::1 (and 127/8 mapped into IPv6), localhost, and 0.0.0.0 / ::
/// (which reach this machine's own listeners).
pub fn is_loopback(host: &str) -> bool {
    let local = |ip: std::net::IpAddr| ip.is_loopback() || ip.is_unspecified();
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| match ip {
            std::net::IpAddr::V6(v6) => local(ip) || v6.to_ipv4_mapped().is_some_and(|v4| local(v4.into())),
            v4 => local(v4),
        })
}

/// Whether `host` is this machine: a loopback name or address, or a name or address
/// that is one of this machine's own interfaces (`box.lan` on box itself).
fn is_this_machine(host: &str) -> bool {
    if is_loopback(host) {
        return true;
    }
    let Ok(resolved) = std::net::ToSocketAddrs::to_socket_addrs(&(host, 0)) else { return false };
    let resolved: Vec<std::net::IpAddr> = resolved.map(|a| a.ip()).collect();
    let Ok(interfaces) = nix::ifaddrs::getifaddrs() else { return false };
    let own: Vec<std::net::IpAddr> = interfaces
        .filter_map(|i| i.address)
        .filter_map(|a| {
            a.as_sockaddr_in()
                .map(|v4| std::net::IpAddr::V4(v4.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|v6| std::net::IpAddr::V6(v6.ip())))
        })
        .collect();
    !resolved.is_empty() && resolved.iter().all(|ip| ip.is_loopback() || own.contains(ip))
}

/// The daemon's own token file is read only for a daemon on this machine (a loopback
/// address, or a name of one of its interfaces): `--server` naming another host never
/// gets this machine's admin token.
fn find_token(flag: Option<String>, loopback: bool) -> FoundToken {
    let make = "`bosun token create --name NAME --scope operate` on the daemon's machine makes one";
    let given = |token: String, source: &str| FoundToken {
        token: Some(token),
        source: source.to_string(),
        hint: format!("the daemon refused the token from {source} (revoked, or another daemon's); {make}"),
    };
    if let Some(token) = flag.filter(|t| !t.trim().is_empty()) {
        return given(token, "--token");
    }
    if let Some(token) = std::env::var("BOSUN_TOKEN").ok().filter(|t| !t.trim().is_empty()) {
        return given(token, "BOSUN_TOKEN");
    }
    if !loopback {
        return FoundToken {
            token: None,
            source: "nowhere".into(),
            hint: format!(
                "no token for a daemon on another machine: pass --token or set BOSUN_TOKEN (this machine's own token file is only sent to a daemon on this machine); {make}"
            ),
        };
    }
    let data_dir = std::env::var_os("BOSUN_DATA_DIR").map(std::path::PathBuf::from).unwrap_or_else(bosun_api::paths::default_data_dir);
    let path = bosun_api::paths::token_file(&data_dir);
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => FoundToken {
            token: Some(token.trim().to_string()),
            source: path.display().to_string(),
            hint: format!(
                "the daemon refused the token in {} (is that the data dir of the daemon at this address? set BOSUN_DATA_DIR, or pass --token; if it was revoked, restarting `bosun serve` writes a new one)",
                path.display()
            ),
        },
        Ok(_) | Err(_) => {
            let why = match std::fs::metadata(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist",
                Err(_) => "cannot be read",
                Ok(_) => "cannot be read or is empty",
            };
            FoundToken {
                token: None,
                source: path.display().to_string(),
                hint: format!(
                    "no token: {} {why}; run the CLI as the daemon's user on its machine (set BOSUN_DATA_DIR if it uses --data-dir), or pass --token / set BOSUN_TOKEN",
                    path.display()
                ),
            }
        }
    }
}

/// The root of the git repository `path` is in (any directory inside it, relative or
/// not, a worktree too), as the daemon names repos; None when it is in none.
pub fn repo_root(path: &std::path::Path) -> Result<Option<String>, Failure> {
    let abs = repo_path(path)?;
    Ok(abs.ancestors().find(|dir| dir.join(".git").exists()).map(|root| root.to_string_lossy().into_owned()))
}

/// `--repo PATH` made absolute; a path that is not there is no repository, said as the
/// daemon says it.
pub fn repo_path(path: &std::path::Path) -> Result<std::path::PathBuf, Failure> {
    std::fs::canonicalize(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => Failure(format!("not a git repository: {}", path.display())),
        kind => Failure(format!("repo {}: {kind}", path.display())),
    })
}

/// Parses `12`, `T-12`, `t12` or `#12`.
pub fn parse_task_id(s: &str) -> Result<i64, String> {
    let digits = s.trim().trim_start_matches('#');
    let digits = digits.strip_prefix("T-").or_else(|| digits.strip_prefix("t-")).unwrap_or(digits);
    let digits = digits.strip_prefix('T').or_else(|| digits.strip_prefix('t')).unwrap_or(digits);
    match digits.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a task id (like 12 or T-12)")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_task_id;

    #[test]
    fn only_a_daemon_on_this_machine_gets_its_token_file() {
        for host in ["127.0.0.1", "127.0.0.2", "::1", "localhost", "LOCALHOST", "0.0.0.0", "::ffff:127.0.0.1"] {
            assert!(super::is_loopback(host), "{host}");
        }
        for host in ["box.lan", "10.0.0.2", "192.168.1.5", "::ffff:10.0.0.2", "localhost.evil.example", ""] {
            assert!(!super::is_loopback(host), "{host}");
        }
        // Another machine: the token file is not even read.
        let found = super::find_token(None, false);
        assert!(found.token.is_none() && found.hint.contains("--token"), "{}", found.hint);
    }

    #[test]
    fn task_ids() {
        for s in ["12", "T-12", "t-12", "#12", "T12"] {
            assert_eq!(parse_task_id(s), Ok(12), "{s}");
        }
        for s in ["", "T-", "abc", "-3", "0", "12a"] {
            assert!(parse_task_id(s).is_err(), "{s}");
        }
    }
}
