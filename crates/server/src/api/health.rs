//! `GET /api/health`: is the daemon up, and which version.

use axum::Json;
use bosun_api::Health;

#[utoipa::path(get, path = "/api/health", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { ok: true, version: env!("CARGO_PKG_VERSION").to_string() })
}
