//! The wire types of authentication: API tokens, browser sessions (login, pairing)
//! and the list of devices and tokens that have access.

use bosun_core::auth::{CredentialKind, Scope};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A token or a browser session that has access (`GET /api/devices`). Never its
/// secret nor its hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Device {
    pub id: i64,
    /// `token` or `session`.
    pub kind: CredentialKind,
    pub name: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// A session: the browser it was made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The daemon's own token, which the CLI on its machine uses.
    #[serde(default)]
    pub local: bool,
    /// The credential this very request was made with.
    #[serde(default)]
    pub current: bool,
}

/// `POST /api/tokens`
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// Unique among live tokens; recorded as the author of what it does.
    pub name: String,
    /// `read`, `operate` or `admin`.
    pub scope: String,
}

/// A new token: its secret is shown here once and never again.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewTokenBody {
    pub token: String,
    pub device: Device,
}

/// `POST /api/pairings`: a pairing link for a new device.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairingRequest {
    /// The device's name (default: from its browser's User-Agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The session's scope (default `operate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// A pairing link: opening it once, before `expires_at`, logs that browser in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PairingBody {
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub scope: Scope,
    /// The URL as a QR code (an SVG document), for the board to show.
    #[serde(default)]
    pub qr_svg: String,
}

/// `POST /api/login`: a pasted token exchanged for a browser session of its scope.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub token: String,
}
