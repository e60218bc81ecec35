//! The environment an agent starts with: built from an allow-list, never the daemon's
//! whole environment, so a secret the daemon happens to hold does not reach every agent.
//!
//! An agent's environment is, in order (a later source wins over an earlier one):
//!
//! 1. from the daemon's own environment, the names in [`BASE`]: what a login needs so
//!    the user's tools and their logins keep working (`HOME`, so `~/.claude`,
//!    `~/.codex`, `~/.gemini` and `~/.gitconfig` are found; `PATH`; the user and
//!    locale; the terminal; `TMPDIR` and the `XDG_*` dirs; `SSH_AUTH_SOCK`; proxies;
//!    TLS trust);
//! 2. from the daemon's environment, the runtime's own key and base-URL variables,
//!    declared next to the runtime (`claude::ENV`, `codex::ENV`, `acp::GEMINI_ENV`;
//!    the `command` and `acp` runtimes add none);
//! 3. from the daemon's environment, the names in the profile's `pass_env:`;
//! 4. [`SpawnSpec::env`](crate::SpawnSpec::env), set as given: the profile's `env:` and
//!    what bosun adds (`PATH` with bosun's own directory);
//!
//! and finally bosun's own `BOSUN_*` facts of the run, which nothing overrides.
//!
//! A name ending in `*` is a prefix (`LC_*`, `ANTHROPIC_*`), in the lists here and in
//! `pass_env:` alike (so `pass_env: ["*"]` is the old, inherit-everything behaviour,
//! asked for by name); names are matched case-sensitively (the proxy variables are
//! listed in both cases). Git's variables are in no list, and the ones that say where
//! a repository is ([`NEVER`]: `GIT_DIR`, `GIT_WORK_TREE`, ...) are not inherited even
//! through `pass_env:`: a daemon started from inside a git hook must not point an
//! agent's git elsewhere. Nor is `BOSUN_TOKEN`: the user's token is not handed to
//! agents (an agent runs as the user, though, so its permissions decide whether it
//! may read `<data-dir>/token` like any other file).

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};

/// Taken from the daemon's environment for every agent, whatever its runtime.
pub const BASE: &[&str] = &[
    "HOME",
    "PATH",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TERM",
    "COLORTERM",
    "TZ",
    "TMPDIR",
    "XDG_*",
    "SSH_AUTH_SOCK",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
];

/// Never inherited, whatever the lists say: where git finds a repository.
pub const NEVER: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    // The user's bosun token: an agent must not act as the user on the daemon.
    "BOSUN_TOKEN",
];

/// Does `name` match `pattern` (an exact name, or a prefix ending in `*`)?
fn matches(pattern: &str, name: &OsStr) -> bool {
    let name = name.as_encoded_bytes();
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix.as_bytes()),
        None => name == pattern.as_bytes(),
    }
}

/// The environment of an agent (see the module documentation): `inherited` is the
/// daemon's environment (`std::env::vars_os()`), `runtime` the runtime's own
/// patterns, `pass` the profile's `pass_env:`, `set` what is set whatever the daemon
/// has. Sorted by name, each name once.
pub fn build<K, V>(
    inherited: impl IntoIterator<Item = (K, V)>,
    runtime: &[&str],
    pass: &[String],
    set: &[(String, String)],
) -> Vec<(OsString, OsString)>
where
    K: Into<OsString>,
    V: Into<OsString>,
{
    let patterns: Vec<&str> = BASE.iter().chain(runtime).copied().chain(pass.iter().map(String::as_str)).collect();
    let mut env: BTreeMap<OsString, OsString> = inherited
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .filter(|(k, _)| patterns.iter().any(|p| matches(p, k)) && !NEVER.iter().any(|n| matches(n, k)))
        .collect();
    env.extend(set.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))));
    env.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(env: &[(OsString, OsString)]) -> Vec<&str> {
        env.iter().map(|(k, _)| k.to_str().unwrap()).collect()
    }

    fn get<'a>(env: &'a [(OsString, OsString)], name: &str) -> Option<&'a str> {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.to_str().unwrap())
    }

    const DAEMON: &[(&str, &str)] = &[
        ("HOME", "/home/u"),
        ("PATH", "/usr/bin"),
        ("USER", "u"),
        ("LANG", "C.UTF-8"),
        ("LC_ALL", "C"),
        ("LC_TIME", "en_GB.UTF-8"),
        ("XDG_CONFIG_HOME", "/home/u/.config"),
        ("SSH_AUTH_SOCK", "/tmp/ssh"),
        ("https_proxy", "http://proxy:3128"),
        ("NO_PROXY", "localhost"),
        ("SSL_CERT_FILE", "/etc/ca.pem"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("GITHUB_TOKEN", "ghp_secret"),
        ("DATABASE_URL", "postgres://secret"),
        ("GIT_DIR", "/elsewhere/.git"),
        ("GIT_WORK_TREE", "/elsewhere"),
        ("GIT_INDEX_FILE", "/elsewhere/.git/index"),
        ("ANTHROPIC_API_KEY", "sk-ant"),
        ("ANTHROPIC_BASE_URL", "http://127.0.0.1:1"),
        ("CLAUDE_CONFIG_DIR", "/home/u/.claude"),
        ("CLAUDECODE", "1"),
        ("OPENAI_API_KEY", "sk-oa"),
        ("MY_KEY", "mine"),
        ("MY_KEYS", "not mine"),
        ("LOCAL", "local"),
    ];

    #[test]
    fn only_the_allow_list_is_inherited() {
        let env = build(DAEMON.iter().copied(), &[], &[], &[]);
        assert_eq!(
            names(&env),
            [
                "HOME",
                "LANG",
                "LC_ALL",
                "LC_TIME",
                "NO_PROXY",
                "PATH",
                "SSH_AUTH_SOCK",
                "SSL_CERT_FILE",
                "USER",
                "XDG_CONFIG_HOME",
                "https_proxy"
            ]
        );
        assert_eq!(get(&env, "HOME"), Some("/home/u"));
    }

    #[test]
    fn a_runtime_adds_its_own_keys_and_no_one_else_s() {
        let claude = build(DAEMON.iter().copied(), &["ANTHROPIC_*", "CLAUDE_*"], &[], &[]);
        for name in ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_CONFIG_DIR"] {
            assert!(get(&claude, name).is_some(), "{name}");
        }
        for name in ["OPENAI_API_KEY", "CLAUDECODE", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"] {
            assert_eq!(get(&claude, name), None, "{name}");
        }
    }

    #[test]
    fn pass_env_names_are_exact_unless_a_prefix() {
        let env = build(DAEMON.iter().copied(), &[], &["MY_KEY".into(), "ABSENT".into()], &[]);
        assert_eq!(get(&env, "MY_KEY"), Some("mine"));
        assert_eq!(get(&env, "MY_KEYS"), None);
        assert_eq!(get(&env, "ABSENT"), None, "a name the daemon lacks is not invented");
        let env = build(DAEMON.iter().copied(), &[], &["MY_*".into()], &[]);
        assert_eq!((get(&env, "MY_KEY"), get(&env, "MY_KEYS")), (Some("mine"), Some("not mine")));
    }

    #[test]
    fn git_s_repository_variables_never_pass_even_when_asked() {
        let asked: Vec<String> = ["GIT_DIR", "GIT_*", "*"].map(String::from).to_vec();
        let env = build(DAEMON.iter().copied(), &[], &asked, &[]);
        assert_eq!(get(&env, "GITHUB_TOKEN"), Some("ghp_secret"), "`*` asks for everything else");
        for name in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
            assert_eq!(get(&env, name), None, "{name}");
        }
    }

    #[test]
    fn what_is_set_wins_over_everything() {
        let set =
            [("PATH".to_string(), "/bosun:/usr/bin".to_string()), ("MY_KEY".into(), "from the profile".into()), ("NEW".into(), "x".into())];
        let env = build(DAEMON.iter().copied(), &[], &["MY_KEY".into()], &set);
        assert_eq!(get(&env, "PATH"), Some("/bosun:/usr/bin"));
        assert_eq!(get(&env, "MY_KEY"), Some("from the profile"));
        assert_eq!(get(&env, "NEW"), Some("x"));
        assert_eq!(names(&env).iter().filter(|n| **n == "PATH").count(), 1);
    }

    #[test]
    fn values_that_are_not_utf8_survive() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(vec![b'/', 0xff, b'x']);
        let env = build([(OsString::from("HOME"), odd.clone())], &[], &[], &[]);
        assert_eq!(env, [(OsString::from("HOME"), odd)]);
    }
}
