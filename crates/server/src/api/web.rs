//! The web board: static assets embedded in the binary (`crates/server/web/`), served
//! at `/` and `/assets/...`, and the board's own page paths (`/tasks/{id}`, ...) all
//! answered with `index.html` so links such as the one in a PR body open the app.
//! The service worker (`sw.js`, Web Push) is served at `/sw.js`, its scope the whole board.
//! The board talks to the daemon only through the public `/api` routes.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use super::ApiError;
use bosun_engine::Engine;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Assets;

/// What the browser may load: only this origin, no inline scripts.
const CSP: &str =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/// The routes of the web board (merged into the API router).
pub(super) fn routes() -> Router<Arc<Engine>> {
    Router::new()
        .route("/", get(index))
        .route("/approvals", get(index))
        .route("/rules", get(index))
        .route("/devices", get(index))
        .route("/new", get(index))
        .route("/tasks/{id}", get(index))
        .route("/notifications", get(index))
        .route("/sources", get(index))
        .route("/costs", get(index))
        .route("/sw.js", get(service_worker))
        .route("/assets/{*path}", get(asset))
}

async fn index() -> Response {
    file("index.html").unwrap_or_else(|| ApiError::NotFound("the web board is not built in".into()).into_response())
}

/// The service worker, at the root so its scope is the whole board.
async fn service_worker() -> Response {
    let mut res = file("sw.js").unwrap_or_else(|| ApiError::NotFound("no service worker".into()).into_response());
    res.headers_mut().insert("service-worker-allowed", HeaderValue::from_static("/"));
    res
}

async fn asset(Path(path): Path<String>) -> Response {
    if path == "index.html" || path.split('/').any(|p| p.is_empty() || p == "." || p == "..") {
        return ApiError::NotFound(format!("no asset {path}")).into_response();
    }
    file(&path).unwrap_or_else(|| ApiError::NotFound(format!("no asset {path}")).into_response())
}

fn file(path: &str) -> Option<Response> {
    let data = Assets::get(path)?;
    let mut res = (StatusCode::OK, data.data.into_owned()).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    // Small files, and a new daemon may ship new ones: revalidate every time.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Some(res)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("png") => "image/png",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_known_content_type() {
        for path in Assets::iter() {
            assert_ne!(content_type(&path), "application/octet-stream", "{path}");
        }
        assert!(Assets::get("index.html").is_some());
    }
}
