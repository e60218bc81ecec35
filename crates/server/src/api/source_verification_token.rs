//! `GET /api/sources/{id}/verification-token`: the token Notion sent when the source's
//! webhook subscription was made, to paste into Notion's integration settings (admin
//! only, like every source route; 404 for no such source; 409 until Notion has sent
//! it, and for a source whose secret is in the daemon's environment or that takes no
//! webhook).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_api::ErrorBody;
use bosun_api::source::VerificationToken;
use bosun_engine::Engine;

use super::ApiError;

#[utoipa::path(get, path = "/api/sources/{id}/verification-token", params(("id" = i64, Path, description = "A source's id")),
    responses((status = 200, body = VerificationToken), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn token(State(engine): State<Arc<Engine>>, id: Result<Path<i64>, PathRejection>) -> Result<Json<VerificationToken>, ApiError> {
    let Path(id) = id?;
    Ok(Json(engine.verification_token(id).await?))
}
