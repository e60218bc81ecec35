//! `POST /api/pairings {name?, scope?}` (admin): a pairing link for a new device,
//! single use, valid five minutes, with its QR code as SVG for the board to show.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, PairingBody, PairingRequest};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::OptBody;

#[utoipa::path(post, path = "/api/pairings", request_body(content = Option<PairingRequest>),
    responses((status = 200, body = PairingBody), (status = 400, body = ErrorBody)))]
pub async fn create(State(engine): State<Arc<Engine>>, OptBody(req): OptBody<PairingRequest>) -> Result<Json<PairingBody>, ApiError> {
    let pairing = engine.create_pairing(req.name.as_deref(), req.scope.as_deref()).await?;
    let qr_svg = qrcode::QrCode::new(pairing.url.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build())
        .unwrap_or_default();
    Ok(Json(PairingBody { url: pairing.url, expires_at: pairing.expires_at, scope: pairing.scope, qr_svg }))
}
