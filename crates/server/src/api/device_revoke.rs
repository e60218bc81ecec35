//! `DELETE /api/devices/{id}` (admin): revokes a token or a browser session, and the
//! sessions made from a token. Their next request is refused and their open event
//! streams end now.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, State};
use bosun_api::{Device, ErrorBody};
use bosun_engine::Engine;

use super::ApiError;
use super::auth::{Auth, Caller};

#[utoipa::path(delete, path = "/api/devices/{id}", params(("id" = i64, Path, description = "Device or token id")),
    responses((status = 200, body = Device), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(engine): State<Arc<Engine>>,
    Extension(auth): Extension<Arc<Auth>>,
    Caller(me): Caller,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<Device>, ApiError> {
    let Path(id) = id?;
    let id: i64 = id.parse().map_err(|_| ApiError::BadRequest(format!("`{id}` is not a device id (a number; see `bosun devices`)")))?;
    let (device, ended) = engine.revoke_device(id, Some(&me)).await?;
    for id in ended {
        let _ = auth.revoked.send(id);
    }
    Ok(Json(device))
}
