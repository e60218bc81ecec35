//! `POST /api/notify/test`: one test message to every channel, now; each reported ok
//! or failed with the reason (the answer is 200 either way: the test ran).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::notify::TestResult;
use bosun_engine::Engine;

use super::ApiError;

#[utoipa::path(post, path = "/api/notify/test", responses((status = 200, body = Vec<TestResult>)))]
pub async fn test(State(engine): State<Arc<Engine>>) -> Result<Json<Vec<TestResult>>, ApiError> {
    Ok(Json(engine.test_channels().await?))
}
