//! `GET /api/openapi.json`: the API described as OpenAPI 3, generated from the
//! handlers' annotations so it cannot drift from the code.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "bosun", description = "Run many AI coding agents on many tasks at once."),
    paths(
        super::health::health,
        super::task_list::list,
        super::task_create::create,
        super::task_get::get,
        super::task_stop::stop,
        super::task_after::after,
        super::task_retry::retry,
        super::task_merge::merge,
        super::task_diff::diff,
        super::task_rebase::rebase,
        super::task_rm::rm,
        super::task_pr::pr,
        super::task_say::say,
        super::task_interrupt::interrupt,
        super::task_reply::reply,
        super::approvals::list,
        super::agents::agents,
        super::approvals::approve,
        super::approvals::deny,
        super::gc::gc,
        super::repos::repos,
        super::task_events::events,
        super::events::events,
    ),
    components(schemas(
        bosun_core::Task, bosun_core::Run, bosun_core::TaskStatus, bosun_core::task::RunStatus,
        bosun_core::NewTask, bosun_core::Event, bosun_core::EventKind, bosun_core::ToolKind,
        bosun_core::FileChangeKind, bosun_core::OutputStream, bosun_core::Usage, bosun_core::PullRequest,
        bosun_core::PrState,
    ))
)]
pub struct ApiDoc;

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
