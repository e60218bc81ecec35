//! Who may do what: the three scopes, the principal a request is made by, and which
//! scope each route needs. The server's middleware asks [`required_scope`] and
//! [`needs_credential`]; nothing here knows HTTP beyond a method name and a path.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a credential may do. Ordered: each scope allows everything the ones below it do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// See everything: tasks, events, diffs, approvals, agents.
    Read,
    /// Also change tasks: add, say, reply, approve, stop, merge, ...
    Operate,
    /// Also manage access and settings: tokens, devices, pairings, notification channels.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Operate, Scope::Admin];

    /// Does a credential of this scope cover a request that needs `needed`?
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Operate => "operate",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is none of `read`, `operate`, `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{given}`{}; scopes: read, operate, admin", .suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownScope {
    pub given: String,
    pub suggestion: Option<Scope>,
}

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Scope, UnknownScope> {
        let lower = s.trim().to_ascii_lowercase();
        if let Some(scope) = Scope::ALL.into_iter().find(|sc| sc.as_str() == lower) {
            return Ok(scope);
        }
        let suggestion = Scope::ALL
            .into_iter()
            .map(|sc| (strsim::damerau_levenshtein(&lower, sc.as_str()), sc))
            .filter(|(d, _)| *d <= 3)
            .min_by_key(|(d, _)| *d)
            .map(|(_, sc)| sc)
            .or_else(|| Scope::ALL.into_iter().find(|sc| !lower.is_empty() && sc.as_str().starts_with(&lower)));
        Err(UnknownScope { given: s.to_string(), suggestion })
    }
}

/// What a stored credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A named API token (`bosun token create`, and the daemon's own local token).
    Token,
    /// A browser's session, from pairing or from a pasted token.
    Session,
    /// A pairing code: single use, short-lived, exchanged for a session.
    Pairing,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Token => "token",
            CredentialKind::Session => "session",
            CredentialKind::Pairing => "pairing",
        }
    }

    pub fn parse(s: &str) -> Option<CredentialKind> {
        [CredentialKind::Token, CredentialKind::Session, CredentialKind::Pairing].into_iter().find(|k| k.as_str() == s)
    }
}

/// How the caller of a request proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// The daemon's own token (`<data-dir>/token`), which the CLI on this machine uses.
    Local,
    /// A named API token.
    Token,
    /// A browser session (a paired device or a pasted token).
    Session,
}

/// Who made a request: the credential that authenticated it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Principal {
    /// The credential's id (what `bosun devices revoke` takes).
    pub id: i64,
    /// The token's or device's name, recorded as the author of what it does.
    pub name: String,
    pub scope: Scope,
    pub kind: PrincipalKind,
}

impl Principal {
    /// The name things this principal does are recorded under (`human:<name>`).
    pub fn author(&self) -> &str {
        &self.name
    }
}

/// The name the daemon's own token is stored under when `$USER` is unknown.
pub const LOCAL_TOKEN_NAME: &str = "local";

/// Secrets start with this, so a leaked one is recognisable (and greppable).
pub const SECRET_PREFIX: &str = "bosun_";

/// The browser session cookie's name.
pub const SESSION_COOKIE: &str = "bosun_session";

/// How long a pairing code may wait to be used, in seconds.
pub const PAIRING_TTL_SECS: i64 = 5 * 60;

/// Action links (`/act/...`, Approve / Deny buttons in notifications) carry their own
/// single-use capability: the authentication middleware leaves this prefix alone.
pub const ACTION_LINKS: &str = "/act/";

/// The pairing exchange: opening `<public_url>/pair?code=...` logs a browser in.
pub const PAIR_PATH: &str = "/pair";

/// API routes anyone may call: `health` (is it up, which version: what a probe or a
/// client checks before it has a credential; it says nothing else), `login` (it takes
/// a token in its body) and the OpenAPI document (the API's shape is no secret).
pub const PUBLIC_API: &[&str] = &["/api/health", "/api/login", "/api/openapi.json"];

/// Routes that need `admin` whatever the method: who has access, and settings.
pub const ADMIN_PREFIXES: &[&str] = &["/api/tokens", "/api/devices", "/api/pairings", "/api/notify", "/api/settings", "/api/sources"];

/// `POST /api/logout` ends the caller's own session: every scope may.
pub const LOGOUT_PATH: &str = "/api/logout";

/// Does a request for `path` need a credential? Every `/api/...` route but
/// [`PUBLIC_API`]; the board's pages and assets, the pairing exchange and action links
/// are outside `/api/`.
pub fn needs_credential(path: &str) -> bool {
    path.starts_with("/api/") && !PUBLIC_API.contains(&path)
}

/// The scope a request needs: admin routes need `admin`; otherwise reading (GET,
/// HEAD) needs `read` and everything else `operate`. Logging out needs only `read`.
pub fn required_scope(method: &str, path: &str) -> Scope {
    if ADMIN_PREFIXES.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?')))
    {
        return Scope::Admin;
    }
    if path == LOGOUT_PATH {
        return Scope::Read;
    }
    match method.to_ascii_uppercase().as_str() {
        "GET" | "HEAD" => Scope::Read,
        _ => Scope::Operate,
    }
}

/// A device's name from its browser's User-Agent, when pairing was not given one:
/// the platform and the browser ("iPhone Safari", "Android Chrome"), else "browser".
pub fn device_name(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or("");
    let has = |s: &str| ua.contains(s);
    let platform =
        [("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Macintosh", "Mac"), ("Windows", "Windows"), ("Linux", "Linux")]
            .into_iter()
            .find(|(needle, _)| has(needle))
            .map(|(_, name)| name);
    let browser = if has("Edg/") {
        Some("Edge")
    } else if has("Firefox/") || has("FxiOS") {
        Some("Firefox")
    } else if has("Chrome/") || has("CriOS") {
        Some("Chrome")
    } else if has("Safari/") {
        Some("Safari")
    } else {
        None
    };
    match (platform, browser) {
        (Some(p), Some(b)) => format!("{p} {b}"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => "browser".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_ordered() {
        assert!(Scope::Admin.allows(Scope::Operate) && Scope::Admin.allows(Scope::Read) && Scope::Admin.allows(Scope::Admin));
        assert!(Scope::Operate.allows(Scope::Read) && Scope::Operate.allows(Scope::Operate));
        assert!(!Scope::Operate.allows(Scope::Admin));
        assert!(!Scope::Read.allows(Scope::Operate));
    }

    #[test]
    fn scopes_parse_and_suggest() {
        for sc in Scope::ALL {
            assert_eq!(sc.as_str().parse::<Scope>(), Ok(sc));
            assert_eq!(sc.to_string().to_uppercase().parse::<Scope>(), Ok(sc));
        }
        let e = "oprate".parse::<Scope>().unwrap_err();
        assert_eq!(e.suggestion, Some(Scope::Operate));
        assert_eq!(e.to_string(), "unknown scope `oprate` (did you mean `operate`?); scopes: read, operate, admin");
        assert_eq!("adm".parse::<Scope>().unwrap_err().suggestion, Some(Scope::Admin));
        assert_eq!("write-everything".parse::<Scope>().unwrap_err().suggestion, None);
    }

    #[test]
    fn devices_are_named_from_their_browser() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_name(Some(iphone)), "iPhone Safari");
        let android = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36";
        assert_eq!(device_name(Some(android)), "Android Chrome");
        assert_eq!(device_name(Some("curl/8.0")), "browser");
        assert_eq!(device_name(None), "browser");
    }

    #[test]
    fn routes_need_their_scope() {
        assert_eq!(required_scope("GET", "/api/tasks"), Scope::Read);
        assert_eq!(required_scope("HEAD", "/api/tasks/1"), Scope::Read);
        assert_eq!(required_scope("get", "/api/events"), Scope::Read);
        assert_eq!(required_scope("POST", "/api/tasks"), Scope::Operate);
        assert_eq!(required_scope("DELETE", "/api/rules/3"), Scope::Operate);
        for admin in
            ["/api/tokens", "/api/devices", "/api/devices/4", "/api/pairings", "/api/notify", "/api/notify/channels/2", "/api/settings"]
        {
            assert_eq!(required_scope("GET", admin), Scope::Admin, "{admin}");
            assert_eq!(required_scope("POST", admin), Scope::Admin, "{admin}");
        }
        // A prefix match is on whole segments.
        assert_eq!(required_scope("GET", "/api/devicesx"), Scope::Read);
        assert_eq!(required_scope("POST", "/api/logout"), Scope::Read);
    }

    #[test]
    fn only_the_public_routes_go_without_a_credential() {
        assert!(needs_credential("/api/tasks"));
        assert!(needs_credential("/api/events"));
        assert!(needs_credential("/api/devices/1"));
        for public in ["/api/health", "/api/login", "/api/openapi.json", "/", "/tasks/3", "/assets/app.js", "/pair", "/act/abc"] {
            assert!(!needs_credential(public), "{public}");
        }
    }
}
