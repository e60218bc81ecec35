//! Web Push (RFC 8030) to every subscribed browser: the payload encrypted per RFC 8291
//! (aes128gcm) and signed with bosun's VAPID key (RFC 8292), by `web-push-native`,
//! sent with reqwest. A push service answering 404 or 410 says the subscription is
//! gone; it is reported in [`Sent::gone`] for the engine to forget.

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::{Auth, WebPushBuilder};

use crate::{Channel, Outgoing, SendError, Sent};

/// A browser's subscription, as `PushManager.subscribe` gives it.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

pub struct WebPush {
    pub client: reqwest::Client,
    /// bosun's VAPID private key (32 bytes).
    pub vapid: Vec<u8>,
    /// Who runs this server (`mailto:` or a URL), as VAPID asks.
    pub contact: String,
    pub subscribers: Vec<Subscriber>,
    /// The endpoints that already accepted this delivery (an earlier attempt): not
    /// pushed to again; each that accepts now is added.
    pub done: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

/// A new VAPID private key (P-256, 32 raw bytes).
pub fn generate_vapid() -> Vec<u8> {
    ES256KeyPair::generate().to_bytes()
}

/// The VAPID public key for a private one, base64url (what `applicationServerKey` takes).
pub fn vapid_public(private: &[u8]) -> Result<String, String> {
    let kp = ES256KeyPair::from_bytes(private).map_err(|_| "the VAPID key is not a P-256 private key".to_string())?;
    Ok(URL_SAFE_NO_PAD.encode(kp.public_key().public_key().to_bytes_uncompressed()))
}

/// What the service worker receives (see `web/sw.js`).
pub fn payload(out: &Outgoing) -> serde_json::Value {
    json!({
        "delivery": out.delivery,
        "title": out.message.title,
        "body": out.message.body,
        "url": out.message.click,
        "tasks": out.message.tasks,
        "actions": out.actions.iter().filter(|a| a.post).map(|a| json!({"action": a.id, "title": a.label, "url": a.url})).collect::<Vec<_>>(),
    })
}

/// Checks a subscription's keys decode (to refuse a bad one at the door).
pub fn check_keys(p256dh: &str, auth: &str) -> Result<(), String> {
    keys(p256dh, auth).map(|_| ())
}

fn keys(p256dh: &str, auth: &str) -> Result<(web_push_native::p256::PublicKey, Auth), String> {
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s.trim_end_matches('='));
    let public = decode(p256dh)
        .ok()
        .and_then(|b| web_push_native::p256::PublicKey::from_sec1_bytes(&b).ok())
        .ok_or("p256dh is not a base64url P-256 public key")?;
    let auth = decode(auth).ok().filter(|b| b.len() == 16).ok_or("auth is not a base64url 16-byte secret")?;
    Ok((public, Auth::clone_from_slice(&auth)))
}

#[async_trait]
impl Channel for WebPush {
    async fn send(&self, out: &Outgoing) -> Result<Sent, SendError> {
        if self.subscribers.is_empty() {
            return Err(SendError::Config("no browser has subscribed: open the board's Notifications page and enable push".into()));
        }
        let kp = ES256KeyPair::from_bytes(&self.vapid).map_err(|_| SendError::Config("the VAPID key is unreadable".into()))?;
        let body = serde_json::to_vec(&payload(out)).expect("payloads serialize");
        let mut sent = Sent::default();
        let mut failed = None;
        let mut accepted = 0;
        for sub in &self.subscribers {
            if self.done.lock().unwrap().contains(&sub.endpoint) {
                accepted += 1;
                continue;
            }
            let shown = crate::shown(&sub.endpoint);
            let req = match self.request(&kp, sub, &body) {
                Ok(req) => req,
                // One bad subscription does not keep the message from the others.
                Err(why) => {
                    sent.unusable.push((shown, why));
                    continue;
                }
            };
            let mut req = reqwest::RequestBuilder::from_parts(self.client.clone(), req);
            req = req.header("Urgency", if out.message.priority.ntfy() >= 5 { "high" } else { "normal" });
            match crate::send(&self.client, req, &sub.endpoint).await {
                Ok(_) => {
                    accepted += 1;
                    self.done.lock().unwrap().insert(sub.endpoint.clone());
                }
                Err(SendError::Rejected { status: 404 | 410, .. }) => sent.gone.push(sub.endpoint.clone()),
                // A push service's words are not kept (the endpoint is the browser's
                // choice, and so would be what lands in the channel's last result).
                Err(SendError::Rejected { url, status, .. }) => failed = Some(SendError::Rejected { url, status, detail: String::new() }),
                Err(e) => failed = Some(e),
            }
        }
        match failed {
            Some(e) => Err(e),
            None if accepted == 0 && !sent.unusable.is_empty() && sent.gone.is_empty() => {
                Err(SendError::Config(format!("no subscription could be used: {}", sent.unusable[0].1)))
            }
            None => Ok(sent),
        }
    }
}

impl WebPush {
    /// The encrypted, signed request for one subscriber; why not, in words.
    fn request(&self, kp: &ES256KeyPair, sub: &Subscriber, body: &[u8]) -> Result<reqwest::Request, String> {
        let (public, auth) = keys(&sub.p256dh, &sub.auth)?;
        let uri = sub.endpoint.parse().map_err(|_| "not a push endpoint URL".to_string())?;
        let req = WebPushBuilder::new(uri, public, auth)
            .with_vapid(kp, &self.contact)
            .build(body.to_vec())
            .map_err(|_| "cannot encrypt for this subscription".to_string())?;
        reqwest::Request::try_from(req).map_err(|_| "not a push endpoint URL".to_string())
    }
}
