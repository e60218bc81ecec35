//! One error type for every handler, mapped to a status and a JSON body in one
//! place. Internal failures are logged and answered without their details.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bosun_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub enum ApiError {
    /// Malformed or invalid input (400, or the status an extractor chose: 413, 415, 422).
    BadRequest(String),
    Rejected(StatusCode, String),
    NotFound(String),
    /// The request is valid but the task's state (or the repo's) refuses it.
    Conflict(String),
    Internal(String),
}

/// `{"error": {"code": "...", "message": "..."}}`
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// bad_request, not_found, conflict, payload_too_large, internal, ...
    pub code: String,
    pub message: String,
}

impl ApiError {
    /// What the client is told.
    pub fn message(&self) -> &str {
        self.parts().1
    }

    fn parts(&self) -> (StatusCode, &str) {
        match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ApiError::Rejected(s, m) => (*s, m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, m),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the daemon's log"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!("internal error: {detail}");
        }
        let (status, message) = self.parts();
        let code = match status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
            StatusCode::INTERNAL_SERVER_ERROR => "internal",
            _ => "error",
        };
        let body = ErrorBody { error: ErrorDetail { code: code.into(), message: message.to_string() } };
        (status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TaskNotFound(_) | StoreError::RunNotFound(_) => ApiError::NotFound(e.to_string()),
            StoreError::StatusChanged { .. } | StoreError::Transition(_) => ApiError::Conflict(e.to_string()),
            StoreError::Db(_) | StoreError::Corrupt(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<bosun_core::TransitionError> for ApiError {
    fn from(e: bosun_core::TransitionError) -> Self {
        ApiError::Conflict(e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError::Rejected(r.status(), r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        // A path that does not parse names no resource: 404 would mislead, 400 says why.
        ApiError::BadRequest(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal("a handler panicked".into()).into_response()
}
