//! `GET /api/tasks/{id}/deliverables/{path}`: one deliverable's content as delivered
//! (the path is one segment, its `/` sent as `%2F`). Agent output is hostile: text of
//! every kind is sent as `text/plain`, raster images as themselves, anything else (HTML,
//! SVG, PDF, ...) only as a download of bytes; always `nosniff` and a sandboxing CSP,
//! with a `Content-Disposition` naming the file.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bosun_api::{ContentQuery, ErrorBody};
use bosun_core::deliverable::shown_as;
use bosun_engine::Engine;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::ApiError;
use super::extract::task_id;

#[utoipa::path(get, path = "/api/tasks/{id}/deliverables/{path}",
    params(("id" = i64, Path, description = "Task id"),
        ("path" = String, Path, description = "The deliverable's path in the workspace, as one segment (`/` as %2F)"), ContentQuery),
    responses((status = 200, description = "The content", content((Vec<u8> = "application/octet-stream"), (String = "text/plain"),
            (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/gif"), (Vec<u8> = "image/webp"))),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn content(
    State(engine): State<Arc<Engine>>,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
    q: Result<Query<ContentQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path((id, path)) = path?;
    let id = task_id(&id)?;
    let Query(q) = q?;
    let found = engine.deliverable(id, &path, q.run).await?;
    let d = &found.deliverable;
    let shown = shown_as(&d.mime).filter(|_| q.download != Some(true));
    let name = d.path.rsplit('/').next().unwrap_or(&d.path);
    let mut res = (StatusCode::OK, found.bytes).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(shown.unwrap_or("application/octet-stream")));
    let disposition = format!("{}; {}", if shown.is_some() { "inline" } else { "attachment" }, filename(name));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(res)
}

/// `filename="..."` in plain ASCII (anything else as `_`) and the exact name as
/// `filename*` (RFC 6266 / 8187).
fn filename(name: &str) -> String {
    let plain: String = name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    format!("filename=\"{plain}\"; filename*=UTF-8''{}", utf8_percent_encode(name, NON_ALPHANUMERIC))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_name_cannot_break_the_header() {
        assert_eq!(super::filename("r.md"), "filename=\"r.md\"; filename*=UTF-8''r%2Emd");
        let odd = super::filename("a\"b\r\nc é.md");
        assert!(odd.starts_with("filename=\"a_b__c _.md\""), "{odd}");
        assert!(axum::http::HeaderValue::from_str(&odd).is_ok());
    }
}
