//! What a service's webhook delivers, verified and read. The signature is the only
//! credential: Notion signs with its verification token (`X-Notion-Signature:
//! sha256=<hex>`), GitHub with the webhook's secret (`X-Hub-Signature-256:
//! sha256=<hex>`), Linear with its signing secret (`Linear-Signature: <hex>`, and a
//! `webhookTimestamp` that must be within a minute, so an old delivery cannot be
//! replayed). Each is an HMAC-SHA256 of the raw body, compared in constant time. A
//! verified delivery only says which items to read again: bosun trusts what the
//! service's API then answers, never the payload's fields.

use bosun_core::source::SourceKind;
use chrono::{DateTime, Utc};
use ring::hmac;
use serde_json::Value;

/// How far a Linear delivery's timestamp may be from now.
const LINEAR_WINDOW_MS: i64 = 60_000;

/// What a delivery asks of bosun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Notion's subscription handshake (unsigned): the token that will sign its deliveries.
    Verification(String),
    /// Read these items again now (by the ids the connector uses).
    Items(Vec<String>),
    /// A change not pinned to an item (a database's schema, say): sync the source.
    Source,
    /// A ping, or an event about nothing bosun watches.
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    #[error("the delivery carries no {0} header")]
    Unsigned(&'static str),
    #[error("the delivery's signature does not match its body under this source's secret")]
    BadSignature,
    #[error("the delivery is more than a minute old (or from the future): refused as a possible replay")]
    Stale,
    #[error("the delivery is not a JSON object: {0}")]
    Malformed(String),
    #[error("this source has no webhook secret yet{0}")]
    NoSecret(&'static str),
}

/// The header that carries a kind's signature.
pub fn signature_header(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Notion => "x-notion-signature",
        SourceKind::Github => "x-hub-signature-256",
        SourceKind::Linear => "linear-signature",
    }
}

/// Verifies and reads one delivery. `header` looks a request header up by its
/// lower-case name; `secret` is the source's (None: not known yet).
pub fn read(
    kind: SourceKind,
    secret: Option<&[u8]>,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Delivery, HookError> {
    let json: Value = serde_json::from_slice(body).map_err(|e| HookError::Malformed(e.to_string()))?;
    if !json.is_object() {
        return Err(HookError::Malformed("not an object".into()));
    }
    let name = signature_header(kind);
    let Some(signature) = header(name) else {
        // Notion's handshake is the one delivery that comes unsigned.
        if kind == SourceKind::Notion
            && let Some(token) = json["verification_token"].as_str()
        {
            return Ok(Delivery::Verification(token.to_string()));
        }
        return Err(HookError::Unsigned(name));
    };
    let secret = secret.ok_or(HookError::NoSecret(match kind {
        SourceKind::Notion => ": Notion sends its verification token when the subscription is made",
        _ => "",
    }))?;
    let hex_tag = match kind {
        SourceKind::Linear => signature.trim(),
        _ => signature.trim().strip_prefix("sha256=").ok_or(HookError::BadSignature)?,
    };
    let tag = hex::decode(hex_tag).map_err(|_| HookError::BadSignature)?;
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, secret), body, &tag).map_err(|_| HookError::BadSignature)?;
    Ok(match kind {
        SourceKind::Notion => notion(&json),
        SourceKind::Github => github(header("x-github-event").as_deref(), &json),
        SourceKind::Linear => {
            let at = json["webhookTimestamp"].as_i64().ok_or(HookError::Stale)?;
            if (now.timestamp_millis() - at).abs() > LINEAR_WINDOW_MS {
                return Err(HookError::Stale);
            }
            linear(&json)
        }
    })
}

/// Notion: `entity` is the page (page events) or the comment (comment events, whose
/// `data.page_id` names the page); database and data source events sync the source.
fn notion(json: &Value) -> Delivery {
    let entity = &json["entity"];
    match entity["type"].as_str() {
        Some("page") => one(entity["id"].as_str()),
        Some("comment") => one(json["data"]["page_id"].as_str().or(json["data"]["parent"]["id"].as_str())),
        Some("database" | "data_source") => Delivery::Source,
        _ => Delivery::Nothing,
    }
}

/// GitHub: `issues` and `issue_comment` name the issue by its number; `ping` and the rest concern nothing.
fn github(event: Option<&str>, json: &Value) -> Delivery {
    match event {
        Some("issues" | "issue_comment") => one(json["issue"]["number"].as_u64().map(|n| n.to_string()).as_deref()),
        _ => Delivery::Nothing,
    }
}

/// Linear: `Issue` events carry the issue, `Comment` events its `issueId`.
fn linear(json: &Value) -> Delivery {
    let data = &json["data"];
    match json["type"].as_str() {
        Some("Issue") => one(data["id"].as_str()),
        Some("Comment") => one(data["issueId"].as_str().or(data["issue"]["id"].as_str())),
        _ => Delivery::Nothing,
    }
}

fn one(id: Option<&str>) -> Delivery {
    match id {
        Some(id) if !id.is_empty() => Delivery::Items(vec![id.to_string()]),
        _ => Delivery::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        hex::encode(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), body).as_ref())
    }

    fn headers(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
        move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn notion_handshake_then_signed_page_and_comment_events() {
        let now = Utc::now();
        let hello = br#"{"verification_token":"secret_abc"}"#;
        assert_eq!(read(SourceKind::Notion, None, headers(vec![]), hello, now), Ok(Delivery::Verification("secret_abc".into())));
        let page = br#"{"type":"page.properties_updated","entity":{"id":"p-1","type":"page"}}"#;
        let good = headers(vec![("x-notion-signature", format!("sha256={}", sign(b"secret_abc", page)))]);
        assert_eq!(read(SourceKind::Notion, Some(b"secret_abc"), good, page, now), Ok(Delivery::Items(vec!["p-1".into()])));
        let comment = br#"{"type":"comment.created","entity":{"id":"c-1","type":"comment"},"data":{"page_id":"p-2"}}"#;
        let good = headers(vec![("x-notion-signature", format!("sha256={}", sign(b"secret_abc", comment)))]);
        assert_eq!(read(SourceKind::Notion, Some(b"secret_abc"), good, comment, now), Ok(Delivery::Items(vec!["p-2".into()])));
        // Signed with another key, or unsigned once a token is needed.
        let forged = headers(vec![("x-notion-signature", format!("sha256={}", sign(b"other", page)))]);
        assert_eq!(read(SourceKind::Notion, Some(b"secret_abc"), forged, page, now), Err(HookError::BadSignature));
        assert_eq!(
            read(SourceKind::Notion, Some(b"secret_abc"), headers(vec![]), page, now),
            Err(HookError::Unsigned("x-notion-signature"))
        );
        let signed = headers(vec![("x-notion-signature", format!("sha256={}", sign(b"secret_abc", page)))]);
        assert!(matches!(read(SourceKind::Notion, None, signed, page, now), Err(HookError::NoSecret(_))));
    }

    #[test]
    fn a_verification_token_is_only_notions_and_a_tampered_body_fails() {
        let now = Utc::now();
        let hello = br#"{"verification_token":"x"}"#;
        assert_eq!(read(SourceKind::Github, Some(b"s"), headers(vec![]), hello, now), Err(HookError::Unsigned("x-hub-signature-256")));
        let body = br#"{"action":"labeled","issue":{"number":7}}"#;
        let sig = format!("sha256={}", sign(b"s", body));
        let ok = headers(vec![("x-hub-signature-256", sig.clone()), ("x-github-event", "issues".into())]);
        assert_eq!(read(SourceKind::Github, Some(b"s"), ok, body, now), Ok(Delivery::Items(vec!["7".into()])));
        let tampered = br#"{"action":"labeled","issue":{"number":8}}"#;
        let h = headers(vec![("x-hub-signature-256", sig), ("x-github-event", "issues".into())]);
        assert_eq!(read(SourceKind::Github, Some(b"s"), h, tampered, now), Err(HookError::BadSignature));
        let ping = br#"{"zen":"hi"}"#;
        let h = headers(vec![("x-hub-signature-256", format!("sha256={}", sign(b"s", ping))), ("x-github-event", "ping".into())]);
        assert_eq!(read(SourceKind::Github, Some(b"s"), h, ping, now), Ok(Delivery::Nothing));
    }

    #[test]
    fn linear_needs_a_fresh_timestamp() {
        let now = Utc::now();
        let body = |at: i64| format!(r#"{{"type":"Comment","action":"create","data":{{"issueId":"i-1"}},"webhookTimestamp":{at}}}"#);
        let fresh = body(now.timestamp_millis() - 5_000);
        let h = headers(vec![("linear-signature", sign(b"k", fresh.as_bytes()))]);
        assert_eq!(read(SourceKind::Linear, Some(b"k"), h, fresh.as_bytes(), now), Ok(Delivery::Items(vec!["i-1".into()])));
        let old = body(now.timestamp_millis() - 120_000);
        let h = headers(vec![("linear-signature", sign(b"k", old.as_bytes()))]);
        assert_eq!(read(SourceKind::Linear, Some(b"k"), h, old.as_bytes(), now), Err(HookError::Stale));
    }
}
