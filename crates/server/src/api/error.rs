//! One error type for every handler, mapped to a status and a JSON body in one
//! place. Internal failures are logged and answered without their details.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bosun_api::{ErrorBody, ErrorDetail};
use bosun_engine::OpError;

#[derive(Debug)]
pub enum ApiError {
    /// Malformed or invalid input (400, or the status an extractor chose: 413, 415, 422).
    BadRequest(String),
    Rejected(StatusCode, String),
    NotFound(String),
    /// The request is valid but the task's state (or the repo's) refuses it.
    Conflict(String),
    /// A service bosun depends on failed (GitHub).
    BadGateway(String),
    Internal(String),
}

impl ApiError {
    /// What the client is told.
    pub fn message(&self) -> &str {
        self.parts().1
    }

    /// The status and what the client is told, for a page of its own (an internal
    /// failure's detail is logged here, as a JSON answer would log it).
    pub fn logged(self) -> (StatusCode, String) {
        if let ApiError::Internal(detail) = &self {
            tracing::error!("internal error: {detail}");
        }
        let (status, message) = self.parts();
        (status, message.to_string())
    }

    fn parts(&self) -> (StatusCode, &str) {
        match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ApiError::Rejected(s, m) => (*s, m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, m),
            ApiError::BadGateway(m) => (StatusCode::BAD_GATEWAY, m),
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
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
            StatusCode::BAD_GATEWAY => "bad_gateway",
            StatusCode::INSUFFICIENT_STORAGE => "storage_full",
            StatusCode::INTERNAL_SERVER_ERROR => "internal",
            _ => "error",
        };
        let body = ErrorBody { error: ErrorDetail { code: code.into(), message: message.to_string() } };
        (status, Json(body)).into_response()
    }
}

/// The one place an operation's refusal becomes an HTTP status.
impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::NotFound(m) => ApiError::NotFound(m),
            OpError::Invalid(m) => ApiError::BadRequest(m),
            OpError::Refused(m) => ApiError::Conflict(m),
            e @ OpError::Unavailable { .. } => ApiError::BadGateway(e.to_string()),
            OpError::StorageFull(m) => ApiError::Rejected(StatusCode::INSUFFICIENT_STORAGE, m),
            OpError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<bosun_store::StoreError> for ApiError {
    fn from(e: bosun_store::StoreError) -> Self {
        OpError::from(e).into()
    }
}

/// What went wrong inside a rejection (serde's message with its field path), without
/// the framework's preamble.
fn cause(r: &dyn std::error::Error) -> String {
    r.source().map(ToString::to_string).unwrap_or_default()
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let message = match &r {
            JsonRejection::JsonDataError(_) => format!("invalid request body: {}", cause(&r)),
            JsonRejection::JsonSyntaxError(_) => format!("the request body is not valid JSON: {}", cause(&r)),
            JsonRejection::MissingJsonContentType(_) => "the request body must be JSON (Content-Type: application/json)".into(),
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large".into(),
            _ => "the request body could not be read".into(),
        };
        ApiError::Rejected(r.status(), message)
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        JsonRejection::from(r).into()
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        // A path that does not parse names no resource: 404 would mislead, 400 says why.
        ApiError::BadRequest(format!("invalid path: {}", cause(&r)))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(format!("invalid query: {}", cause(&r)))
    }
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal("a handler panicked".into()).into_response()
}
