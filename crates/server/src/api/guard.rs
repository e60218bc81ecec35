//! Refuses requests that bosun's own clients would never send, before any handler
//! runs: a `Host` that is not one of the daemon's names (DNS rebinding: a page at
//! `evil.example` resolving to 127.0.0.1), an API request carrying a foreign `Origin`
//! (any web page the user visits can send one to 127.0.0.1), and a state-changing API
//! request without a JSON content type (the only kind a page can send without a CORS
//! preflight, which the daemon never answers). Authentication (`auth.rs`) sits
//! behind these checks, not instead of them.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// The host names this daemon answers to.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Lower-case host names and IP literals (IPv6 without brackets).
    hosts: Vec<String>,
    /// Loopback names, which other programs on this machine share: a page's Origin
    /// on one of them must also have the daemon's own port.
    loopback: Vec<String>,
    port: u16,
}

impl Guard {
    /// Loopback names, the address bound, and the names the user configured
    /// (`--allow-host`, the host of `BOSUN_PUBLIC_URL`).
    pub fn new(bound: SocketAddr, extra: &[String]) -> Guard {
        let mut loopback: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
        if !bound.ip().is_unspecified() {
            loopback.push(bound.ip().to_string());
        }
        let mut hosts = loopback.clone();
        hosts.extend(extra.iter().map(|h| bare(h).to_ascii_lowercase()));
        hosts.sort();
        hosts.dedup();
        Guard { hosts, loopback, port: bound.port() }
    }

    /// A page of this daemon's: http(s), one of its names, and on a loopback name its
    /// port (another local server, `localhost:3000`, is another site).
    fn own_origin(&self, origin: &Uri) -> bool {
        let port = match (origin.scheme_str(), origin.port_u16()) {
            (Some("http" | "https"), Some(port)) => port,
            (Some("http"), None) => 80,
            (Some("https"), None) => 443,
            _ => return false,
        };
        let Some(host) = origin.host().map(|h| bare(h).to_ascii_lowercase()) else { return false };
        self.allows_host(&host) && (!self.loopback.contains(&host) || port == self.port)
    }

    fn allows_host(&self, host: &str) -> bool {
        let host = bare(host).to_ascii_lowercase();
        self.hosts.contains(&host)
    }

    /// Why a request is refused, if it is.
    fn refuse(&self, req: &Request) -> Option<ApiError> {
        let headers = req.headers();
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).and_then(|h| Authority::from_str(h).ok());
        match host {
            Some(a) if self.allows_host(a.host()) => {}
            Some(a) => {
                return Some(forbidden(format!(
                    "this bosun daemon does not answer to the host name `{}` (allow it with `bosun serve --allow-host`)",
                    a.host()
                )));
            }
            None => return Some(forbidden("the request has no valid Host header".into())),
        }
        if !req.uri().path().starts_with("/api/") {
            return None; // the board's pages and assets: a link from anywhere may open them
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let same = origin.to_str().ok().and_then(|o| Uri::from_str(o).ok()).is_some_and(|u| self.own_origin(&u));
            if !same {
                let shown = origin.to_str().unwrap_or("(not text)");
                return Some(forbidden(format!("cross-origin request refused: the page at {shown} may not drive this daemon")));
            }
        }
        if headers.get("sec-fetch-site").is_some_and(|s| s.as_bytes() == b"cross-site") {
            return Some(forbidden("cross-site request refused".into()));
        }
        let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if changes_state && !is_json(req) {
            return Some(ApiError::Rejected(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "requests that change state must send `Content-Type: application/json` (an empty body may be `{}`)".into(),
            ));
        }
        None
    }
}

/// The middleware: refuses, or passes the request on.
pub async fn check(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    match guard.refuse(&req) {
        Some(refusal) => {
            tracing::warn!(method = %req.method(), path = super::log_path(req.uri().path()), "request refused: {}", refusal.message());
            refusal.into_response()
        }
        None => next.run(req).await,
    }
}

fn forbidden(message: String) -> ApiError {
    ApiError::Rejected(StatusCode::FORBIDDEN, message)
}

fn is_json(req: &Request) -> bool {
    let Some(ct) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// A host without IPv6 brackets.
fn bare(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn guard() -> Guard {
        Guard::new("127.0.0.1:7777".parse().unwrap(), &["bosun.example".into()])
    }

    fn req(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
        let mut b = axum::http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::empty()).unwrap()
    }

    const JSON: (&str, &str) = ("content-type", "application/json");

    #[test]
    fn own_clients_pass() {
        let g = guard();
        for host in ["127.0.0.1:7777", "localhost:7777", "[::1]:7777", "LOCALHOST", "bosun.example:443"] {
            assert!(g.refuse(&req("GET", "/api/tasks", &[("host", host)])).is_none(), "{host}");
        }
        let board = [("host", "127.0.0.1:7777"), ("origin", "http://127.0.0.1:7777"), JSON];
        assert!(g.refuse(&req("POST", "/api/tasks/1/merge", &board)).is_none());
        let named = [("host", "bosun.example"), ("origin", "https://bosun.example"), JSON];
        assert!(g.refuse(&req("POST", "/api/tasks/1/merge", &named)).is_none(), "a configured name, behind a proxy");
        let cli = [("host", "127.0.0.1:7777"), ("content-type", "application/json; charset=utf-8")];
        assert!(g.refuse(&req("POST", "/api/tasks/1/stop", &cli)).is_none());
        // A link from anywhere opens the board's pages.
        let link = [("host", "localhost:7777"), ("sec-fetch-site", "cross-site")];
        assert!(g.refuse(&req("GET", "/tasks/12", &link)).is_none());
    }

    #[test]
    fn foreign_requests_are_refused() {
        let g = guard();
        let cases: Vec<(Request, u16)> = vec![
            (req("GET", "/api/tasks", &[("host", "evil.example:7777")]), 403),
            (req("GET", "/", &[("host", "evil.example")]), 403),
            (req("GET", "/api/tasks", &[]), 403),
            (req("POST", "/api/tasks/1/merge", &[("host", "127.0.0.1:7777"), ("origin", "http://evil.example"), JSON]), 403),
            (req("POST", "/api/tasks/1/merge", &[("host", "127.0.0.1:7777"), ("origin", "null"), JSON]), 403),
            (req("GET", "/api/events", &[("host", "127.0.0.1:7777"), ("origin", "https://evil.example")]), 403),
            // Another program on this machine is another site.
            (req("POST", "/api/tasks/1/merge", &[("host", "127.0.0.1:7777"), ("origin", "http://localhost:3000"), JSON]), 403),
            (req("POST", "/api/tasks/1/merge", &[("host", "127.0.0.1:7777"), ("origin", "http://127.0.0.1"), JSON]), 403),
            (req("POST", "/api/tasks/1/merge", &[("host", "127.0.0.1:7777"), ("origin", "ftp://127.0.0.1:7777"), JSON]), 403),
            (req("POST", "/api/tasks/1/stop", &[("host", "127.0.0.1:7777"), ("sec-fetch-site", "cross-site"), JSON]), 403),
            (req("POST", "/api/tasks/1/merge", &[("host", "127.0.0.1:7777")]), 415),
            (req("POST", "/api/tasks/1/merge", &[("host", "127.0.0.1:7777"), ("content-type", "text/plain")]), 415),
        ];
        for (i, (r, status)) in cases.into_iter().enumerate() {
            let refusal = g.refuse(&r).unwrap_or_else(|| panic!("case {i} passed"));
            assert_eq!(refusal.into_response().status().as_u16(), status, "case {i}");
        }
    }
}
