//! `GET /api/me`: who the request's credential is (name, scope, kind): the board
//! shows it and offers admin pages only to an admin.

use axum::Json;
use bosun_api::ErrorBody;
use bosun_core::auth::Principal;

use super::auth::Caller;

#[utoipa::path(get, path = "/api/me", responses((status = 200, body = Principal), (status = 401, body = ErrorBody)))]
pub async fn me(Caller(me): Caller) -> Json<Principal> {
    Json(me)
}
