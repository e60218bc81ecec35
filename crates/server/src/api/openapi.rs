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
        bosun_core::deliverable::Deliverable,
        bosun_core::deliverable::DeliverableChange,
        bosun_core::ApprovalStatus,
        bosun_api::ErrorBody,
        bosun_core::auth::Scope,
        bosun_core::auth::CredentialKind,
        bosun_core::auth::PrincipalKind,
    ))
)]
pub struct ApiDoc;

/// Documents on every route the refusals it can give besides its own answers: 403
/// from the guard (a foreign host or origin) or for a scope too small; 401 and 429 on
/// every route that needs a credential; 400 for a malformed id, query or body;
/// for a state change 415 (not JSON) and 413 (too large); 422 for a body without the
/// fields the operation takes.
pub fn document_refusals(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{RefOr, Response};
    for (path, item) in doc.paths.paths.iter_mut() {
        let in_path = path.contains('{');
        let operations =
            [(&mut item.get, false), (&mut item.post, true), (&mut item.put, true), (&mut item.patch, true), (&mut item.delete, true)];
        for (op, changes_state) in operations {
            let Some(op) = op.as_mut() else { continue };
            let takes_input = in_path || op.parameters.as_ref().is_some_and(|p| !p.is_empty()) || op.request_body.is_some();
            let mut refusals = vec![("403", "refused: a foreign host or origin, or the credential's scope is too small")];
            if bosun_core::auth::needs_credential(path) {
                refusals.extend([("401", "no valid credential (bearer token or session cookie)"), ("429", "too many failed attempts")]);
            }
            if takes_input || changes_state {
                refusals.push(("400", "a malformed id, query or body"));
            }
            if changes_state {
                refusals.extend([
                    ("413", "the body is too large"),
                    ("415", "the request is not JSON (Content-Type: application/json)"),
                    ("507", "the disk holding bosun's data is full: nothing was done; retry once space is freed"),
                ]);
            }
            if op.request_body.is_some() {
                refusals.push(("422", "the body does not have the fields this operation takes"));
            }
            for (code, why) in refusals {
                op.responses.responses.entry(code.to_string()).or_insert_with(|| RefOr::T(Response::new(why)));
            }
        }
    }
}

pub async fn serve(doc: Arc<utoipa::openapi::OpenApi>) -> Response {
    Json(&*doc).into_response()
}
