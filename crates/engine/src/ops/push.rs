//! Web Push: bosun's VAPID key (generated once, kept 0600 in `<data-dir>/vapid.key`),
//! served public half first (`GET /api/push/key`); browsers subscribing and
//! unsubscribing (`/api/push/subscriptions`). A subscription with keys that do not
//! decode is refused at the door.

use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bosun_api::notify::{PushKey, PushSubscribeRequest, PushSubscribed};
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    pub fn push_key(&self) -> Result<PushKey, OpError> {
        let key = bosun_notify::webpush::vapid_public(&self.vapid).map_err(OpError::Internal)?;
        Ok(PushKey { key })
    }

    #[tracing::instrument(name = "push_subscribe", skip_all)]
    pub async fn push_subscribe(&self, req: PushSubscribeRequest) -> Result<PushSubscribed, OpError> {
        let endpoint = reqwest::Url::parse(&req.endpoint).map_err(|_| OpError::Invalid("the endpoint is not a URL".into()))?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(OpError::Invalid("the endpoint is not an http(s) URL".into()));
        }
        bosun_notify::webpush::check_keys(&req.keys.p256dh, &req.keys.auth).map_err(OpError::Invalid)?;
        let sub = self
            .store
            .notify()
            .add_push_subscription(&req.endpoint, &req.keys.p256dh, &req.keys.auth, req.label.as_deref(), Utc::now())
            .await?;
        Ok(PushSubscribed { id: sub.id, endpoint: sub.endpoint, label: sub.label })
    }

    pub async fn push_unsubscribe(&self, endpoint: &str) -> Result<(), OpError> {
        if self.store.notify().delete_push_subscription(endpoint).await? {
            Ok(())
        } else {
            Err(OpError::NotFound("no subscription has that endpoint".into()))
        }
    }
}

/// The VAPID private key in `<data_dir>/vapid.key`, created (mode 0600) on first use.
pub(crate) fn load_or_create_vapid(data_dir: &Path) -> std::io::Result<Vec<u8>> {
    let path = data_dir.join("vapid.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is not a VAPID key", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = bosun_notify::webpush::generate_vapid();
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&path)?;
            f.write_all(URL_SAFE_NO_PAD.encode(&key).as_bytes())?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}
