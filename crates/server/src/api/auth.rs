//! Authentication, after the [guard](super::guard): every `/api/...` route but the
//! public ones ([`bosun_core::auth::PUBLIC_API`]) needs a credential, either
//! `Authorization: Bearer <token>` or the browser's session cookie. None or an invalid
//! one is 401; a scope too small for the route ([`required_scope`]) is 403 naming the
//! scope needed. A cookie-authenticated state change must also carry an `Origin` (the
//! guard has already refused a foreign one), so only the board's own pages can make
//! one. Failed attempts are rate-limited per client address ([`Limiter`]). The
//! principal goes into the request's extensions; handlers take it with [`Caller`].
//! An event stream of a credential that is revoked ends at once.
//!
//! Outside `/api/` nothing is checked here: the board's pages and assets (it must load
//! to show its login page), the pairing exchange (`/pair`, which carries its own
//! single-use code) and action links (`/act/...`, [`bosun_core::auth::ACTION_LINKS`],
//! which carry their own capability).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bosun_core::auth::{Principal, SESSION_COOKIE, needs_credential, required_scope};
use bosun_engine::Engine;
use chrono::Utc;
use cookie::{Cookie, SameSite};
use futures_util::StreamExt;
use tokio::sync::broadcast;

use super::ApiError;
use super::limit::Limiter;

/// What the authentication middleware and the session handlers share.
pub struct Auth {
    pub engine: Arc<Engine>,
    pub limiter: Limiter,
    /// Mark the session cookie `Secure` (the daemon is reached over HTTPS).
    pub secure_cookies: bool,
    /// Ids of credentials just revoked: their open event streams end.
    pub revoked: broadcast::Sender<i64>,
}

impl Auth {
    /// `https`: the daemon serves TLS itself; behind a proxy, an `https://` public URL
    /// says the browser reaches it over HTTPS.
    pub fn new(engine: Arc<Engine>, https: bool) -> Auth {
        let secure_cookies = https || engine.config.public_url.starts_with("https://");
        Auth { engine, limiter: Limiter::default(), secure_cookies, revoked: broadcast::channel(64).0 }
    }

    /// `Set-Cookie` for a new session (kept 400 days, the most browsers keep one).
    pub fn session_cookie(&self, secret: &str) -> HeaderValue {
        let c = Cookie::build((SESSION_COOKIE, secret))
            .http_only(true)
            .same_site(SameSite::Strict)
            .path("/")
            .secure(self.secure_cookies)
            .max_age(cookie::time::Duration::days(400))
            .build();
        HeaderValue::from_str(&c.to_string()).expect("a secret is a valid header value")
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn cleared_cookie(&self) -> HeaderValue {
        let c =
            Cookie::build((SESSION_COOKIE, "")).http_only(true).same_site(SameSite::Strict).path("/").secure(self.secure_cookies).build();
        let mut c = c;
        c.make_removal();
        HeaderValue::from_str(&c.to_string()).expect("a valid header value")
    }

    /// A refusal for a client that failed too often, if `ip` has.
    pub fn too_many(&self, ip: Option<IpAddr>) -> Option<Response> {
        let wait = self.limiter.blocked(ip)?;
        let secs = wait.as_secs().max(1);
        let mut res =
            ApiError::Rejected(StatusCode::TOO_MANY_REQUESTS, format!("too many failed authentication attempts; try again in {secs} s"))
                .into_response();
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        Some(res)
    }
}

/// The client's address (from the connection).
pub fn client_ip(req_extensions: &axum::http::Extensions) -> Option<IpAddr> {
    req_extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// The credential a request presents.
enum Presented {
    Bearer(String),
    Cookie(String),
}

fn presented(headers: &HeaderMap) -> Result<Option<Presented>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or("");
        let token = text.strip_prefix("Bearer ").or_else(|| text.strip_prefix("bearer ")).map(str::trim).filter(|t| !t.is_empty());
        return match token {
            Some(t) => Ok(Some(Presented::Bearer(t.to_string()))),
            None => Err(unauthorized("the Authorization header must be `Bearer <token>`")),
        };
    }
    Ok(session_cookie(headers).map(Presented::Cookie))
}

/// The session cookie's value, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE && !c.value().is_empty())
        .map(|c| c.value().to_string())
}

pub fn unauthorized(message: &str) -> ApiError {
    ApiError::Rejected(StatusCode::UNAUTHORIZED, message.to_string())
}

/// The middleware.
pub async fn check(State(auth): State<Arc<Auth>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !needs_credential(path) {
        return next.run(req).await;
    }
    let ip = client_ip(req.extensions());
    let presented = match presented(req.headers()) {
        Ok(Some(p)) => p,
        Ok(None) => {
            return unauthorized(
                "authentication required: send `Authorization: Bearer <token>` (the CLI reads <data-dir>/token), or log in on the board",
            )
            .into_response();
        }
        Err(refusal) => {
            auth.limiter.failed(ip);
            return refusal.into_response();
        }
    };
    let (secret, by_cookie) = match &presented {
        Presented::Bearer(s) => (s.as_str(), false),
        Presented::Cookie(s) => (s.as_str(), true),
    };
    let principal = match auth.engine.authenticate(secret, Utc::now()).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            // Only failures are limited: a good credential always passes, so a stale
            // token or a guesser cannot lock the owner out (a 256-bit secret is not
            // found by guessing; the limit keeps the guessing slow and the log quiet).
            if let Some(refusal) = auth.too_many(ip) {
                return refusal;
            }
            auth.limiter.failed(ip);
            let what = if by_cookie {
                "this browser's session has ended (revoked or unknown): log in again"
            } else {
                "the token is not valid (revoked, or not a token of this daemon)"
            };
            return unauthorized(what).into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let method = req.method().clone();
    let changes_state = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if by_cookie && changes_state && !req.headers().contains_key(header::ORIGIN) {
        return ApiError::Rejected(
            StatusCode::FORBIDDEN,
            "a browser session's state change must come from the board's own page (no Origin header)".into(),
        )
        .into_response();
    }
    let needed = required_scope(method.as_str(), path);
    if !principal.scope.allows(needed) {
        return ApiError::Rejected(
            StatusCode::FORBIDDEN,
            format!("this needs the `{needed}` scope; `{}` has `{}`", principal.name, principal.scope),
        )
        .into_response();
    }
    let id = principal.id;
    req.extensions_mut().insert(principal);
    let res = next.run(req).await;
    let is_stream = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if is_stream { end_on_revocation(res, id, auth.revoked.subscribe()) } else { res }
}

/// An event stream that ends when credential `id` is revoked.
fn end_on_revocation(res: Response, id: i64, mut revoked: broadcast::Receiver<i64>) -> Response {
    let gone = async move {
        loop {
            match revoked.recv().await {
                Ok(r) if r == id => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    };
    let (parts, body) = res.into_parts();
    Response::from_parts(parts, Body::from_stream(body.into_data_stream().take_until(gone)))
}

/// The principal of an authenticated request (the middleware put it there).
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Principal>().cloned().map(Caller).ok_or_else(|| unauthorized("authentication required"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    fn secret(p: Result<Option<Presented>, ApiError>) -> Option<(bool, String)> {
        match p.ok()? {
            Some(Presented::Bearer(s)) => Some((false, s)),
            Some(Presented::Cookie(s)) => Some((true, s)),
            None => None,
        }
    }

    #[test]
    fn a_request_presents_a_bearer_token_or_the_session_cookie() {
        assert_eq!(secret(presented(&headers(&[("authorization", "Bearer bosun_x")]))), Some((false, "bosun_x".into())));
        assert_eq!(secret(presented(&headers(&[("authorization", "bearer  bosun_x ")]))), Some((false, "bosun_x".into())));
        let cookies = [("cookie", "theme=dark; bosun_session=bosun_s"), ("cookie", "other=1")];
        assert_eq!(secret(presented(&headers(&cookies))), Some((true, "bosun_s".into())));
        // The header wins over a cookie; a malformed header is refused, not ignored.
        let both = [("authorization", "Bearer bosun_t"), ("cookie", "bosun_session=bosun_s")];
        assert_eq!(secret(presented(&headers(&both))), Some((false, "bosun_t".into())));
        assert!(presented(&headers(&[("authorization", "Basic Zm9vOmJhcg==")])).is_err());
        assert!(presented(&headers(&[("authorization", "Bearer ")])).is_err());
        assert!(secret(presented(&headers(&[("cookie", "bosun_session=")]))).is_none());
        assert!(secret(presented(&headers(&[]))).is_none());
    }
}
