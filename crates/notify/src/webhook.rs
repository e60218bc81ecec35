//! Webhook: the message and what it is about as a JSON POST, signed
//! `X-Bosun-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with the secret from
//! the env var the channel names, and `X-Bosun-Delivery: <delivery id>` (the same on
//! every attempt, for the receiver to drop repeats).

use async_trait::async_trait;
use ring::hmac;

use crate::{Channel, Outgoing, SendError, Sent, secret_from_env};

pub struct Webhook {
    pub client: reqwest::Client,
    pub url: String,
    pub secret_env: String,
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[async_trait]
impl Channel for Webhook {
    async fn send(&self, out: &Outgoing) -> Result<Sent, SendError> {
        let secret = secret_from_env(&self.secret_env)?;
        let body = serde_json::to_vec(out).expect("messages serialize");
        let req = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Bosun-Delivery", &out.delivery)
            .header("X-Bosun-Signature", signature(secret.as_bytes(), &body))
            .body(body);
        crate::send(&self.client, req, &self.url).await?;
        Ok(Sent::default())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
