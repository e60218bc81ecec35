//! Web Push: bosun's VAPID key (generated once, written atomically 0600 to `<data-dir>/vapid.key`),
//! served public half first (`GET /api/push/key`); browsers subscribing and
//! unsubscribing (`/api/push/subscriptions`). A subscription with keys that do not
//! decode is refused at the door.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bosun_api::notify::{PushKey, PushSubscribeRequest, PushSubscribed};
use bosun_core::auth::{Principal, Scope};
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    pub fn push_key(&self) -> Result<PushKey, OpError> {
        let key = bosun_notify::webpush::vapid_public(&self.vapid).map_err(OpError::Internal)?;
        Ok(PushKey { key })
    }

    #[tracing::instrument(name = "push_subscribe", skip_all)]
    pub async fn push_subscribe(&self, req: PushSubscribeRequest, caller: &Principal) -> Result<PushSubscribed, OpError> {
        let endpoint = reqwest::Url::parse(&req.endpoint).map_err(|_| OpError::Invalid("the endpoint is not a URL".into()))?;
        check_endpoint(&endpoint, self.config.allow_local_push).map_err(|why| OpError::Invalid(why.into()))?;
        bosun_notify::webpush::check_keys(&req.keys.p256dh, &req.keys.auth).map_err(OpError::Invalid)?;
        let sub = self
            .store
            .notify()
            .add_push_subscription(&req.endpoint, &req.keys.p256dh, &req.keys.auth, req.label.as_deref(), Some(caller.id), Utc::now())
            .await?;
        Ok(PushSubscribed { id: sub.id, endpoint: sub.endpoint, label: sub.label })
    }

    /// Forgets a subscription: the caller's own, or any for an admin.
    pub async fn push_unsubscribe(&self, endpoint: &str, caller: &Principal) -> Result<(), OpError> {
        let owner = (!caller.scope.allows(Scope::Admin)).then_some(caller.id);
        if self.store.notify().delete_push_subscription(endpoint, owner).await? {
            Ok(())
        } else {
            Err(OpError::NotFound("no subscription has that endpoint".into()))
        }
    }
}

/// A push service is on the public internet, over https: bosun posts to what a
/// browser (or anyone with a token) names, so no endpoint may point it at this
/// machine or its network (unless `allow_local`, for tests). A host name is taken as
/// given (not resolved here).
fn check_endpoint(url: &reqwest::Url, allow_local: bool) -> Result<(), &'static str> {
    if allow_local {
        return if matches!(url.scheme(), "http" | "https") { Ok(()) } else { Err("the endpoint is not an http(s) URL") };
    }
    if url.scheme() != "https" {
        return Err("a push endpoint must be an https:// URL");
    }
    let host = url.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let v4_local = |ip: std::net::Ipv4Addr| ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified();
    let local = match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => v4_local(ip),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_unique_local()
                || ip.is_unicast_link_local()
                || ip.to_ipv4_mapped().is_some_and(v4_local)
        }
        Err(_) => host.is_empty() || host == "localhost" || host.ends_with(".localhost"),
    };
    if local { Err("a push endpoint must not be a loopback, private or link-local address") } else { Ok(()) }
}

/// The VAPID private key in `<data_dir>/vapid.key`, created (mode 0600) on first use.
pub(crate) fn load_or_create_vapid(data_dir: &Path) -> std::io::Result<Vec<u8>> {
    load_or_create_key(&data_dir.join("vapid.key"), "a VAPID key", bosun_notify::webpush::generate_vapid)
}

/// The key action links are derived from, in `<data_dir>/link.key` (256 random bits,
/// created mode 0600 on first use; see `ops::act`).
pub(crate) fn load_or_create_link_key(data_dir: &Path) -> std::io::Result<Vec<u8>> {
    load_or_create_key(&data_dir.join("link.key"), "an action-link key", || {
        let mut key = vec![0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key).expect("the system's random generator works");
        key
    })
}

/// A key kept base64url in `path`: read, or made by `make` and written atomically
/// (a temporary file of mode 0600, then a rename: never half written).
fn load_or_create_key(path: &Path, what: &str, make: impl FnOnce() -> Vec<u8>) -> std::io::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is not {what}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = make();
            super::auth::write_private(path, &URL_SAFE_NO_PAD.encode(&key))?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn push_endpoints_are_public_https() {
        let check = |u: &str, local| super::check_endpoint(&reqwest::Url::parse(u).unwrap(), local);
        assert!(check("https://fcm.googleapis.com/fcm/send/abc", false).is_ok());
        assert!(check("https://203.0.113.9/p", false).is_ok());
        for bad in [
            "http://fcm.googleapis.com/x",
            "https://127.0.0.1/p",
            "https://10.1.2.3/p",
            "https://192.168.1.1/p",
            "https://169.254.169.254/latest",
            "https://[::1]/p",
            "https://[fd00::1]/p",
            "https://[::ffff:127.0.0.1]/p",
            "https://localhost/p",
            "https://0.0.0.0/p",
        ] {
            assert!(check(bad, false).is_err(), "{bad}");
        }
        assert!(check("http://127.0.0.1:9/p", true).is_ok(), "allowed for tests");
        assert!(check("ftp://127.0.0.1/p", true).is_err());
    }

    #[test]
    fn a_key_is_made_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let key = super::load_or_create_link_key(dir.path()).unwrap();
        assert_eq!(key.len(), 32);
        let mode = std::fs::metadata(dir.path().join("link.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(super::load_or_create_link_key(dir.path()).unwrap(), key, "the same key after a restart");
        assert!(!dir.path().join("link.tmp").exists(), "no temporary file is left");
        std::fs::write(dir.path().join("link.key"), "not base64!").unwrap();
        assert!(super::load_or_create_link_key(dir.path()).unwrap_err().to_string().contains("is not an action-link key"));
    }
}
