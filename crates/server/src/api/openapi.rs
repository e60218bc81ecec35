//! `GET /api/openapi.json`: the API described as OpenAPI 3. The paths are collected
//! from the handlers' annotations by the router itself (see `api::api`); this adds the
//! document's header and the schemas that no handler names directly.

use std::sync::Arc;

use axum::Json;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "bosun", description = "Run many AI coding agents on many tasks at once."),
    components(schemas(
        bosun_core::Task,
        bosun_core::Run,
        bosun_core::TaskStatus,
        bosun_core::task::RunStatus,
        bosun_core::NewTask,
        bosun_core::Event,
        bosun_core::EventKind,
        bosun_core::ToolKind,
        bosun_core::FileChangeKind,
        bosun_core::OutputStream,
        bosun_core::Usage,
        bosun_core::PullRequest,
        bosun_core::PrState,
        bosun_core::Approval,
        bosun_core::ApprovalStatus,
        bosun_api::ErrorBody,
    ))
)]
pub struct ApiDoc;

pub async fn serve(doc: Arc<utoipa::openapi::OpenApi>) -> Response {
    Json(&*doc).into_response()
}
