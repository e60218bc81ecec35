//! Web Push end to end: the payload encrypted for the browser that subscribed (checked
//! by decrypting as a browser would), gone subscriptions forgotten, and a failing
//! subscriber retried without pushing again to those that accepted.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{Shared, authed, careful, got, press, receiver, runtime};
use crate::harness::{World, wait_for};

#[test]
fn web_push_is_encrypted_for_the_browser_that_subscribed() {
    use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
    let fake: Shared = Arc::default();
    let push = receiver(fake.clone());
    let mut w = World::new("app");
    careful(&w);
    w.start(&["--allow-local-push"]); // the fake push service is on 127.0.0.1
    w.bosun(&["notify", "add", "webpush"]);
    let again = w.try_bosun(&["notify", "add", "webpush"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("there is a webpush channel already"));
    // A browser's subscription: a P-256 key pair and a 16-byte auth secret.
    let rng = ring::rand::SystemRandom::new();
    let mut raw = [0u8; 32];
    ring::rand::SecureRandom::fill(&rng, &mut raw).unwrap();
    let secret = web_push_native::p256::SecretKey::from_slice(&raw).unwrap();
    let public = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
    let mut auth = [0u8; 16];
    ring::rand::SecureRandom::fill(&rng, &mut auth).unwrap();
    let url = w.url.clone();
    let (key, statuses) = runtime().block_on(async {
        let http = reqwest::Client::new();
        let key: Value = authed(&w, http.get(format!("{url}/api/push/key"))).send().await.unwrap().json().await.unwrap();
        let mut statuses = Vec::new();
        for (endpoint, p256dh) in
            [(format!("{push}/push/1"), public.as_str()), (format!("{push}/gone"), public.as_str()), (format!("{push}/bad"), "AAAA")]
        {
            let sub =
                json!({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": URL_SAFE_NO_PAD.encode(auth)}, "expirationTime": null});
            statuses
                .push(authed(&w, http.post(format!("{url}/api/push/subscriptions")).json(&sub)).send().await.unwrap().status().as_u16());
        }
        (key, statuses)
    });
    assert_eq!(statuses, [200, 200, 400], "keys that do not decode are refused at the door");
    let vapid = URL_SAFE_NO_PAD.decode(key["key"].as_str().unwrap()).unwrap();
    assert_eq!((vapid.len(), vapid[0]), (65, 4), "an uncompressed P-256 point");

    let id = w.add("Clean the build", "careful");
    let msg = wait_for("the push service to get the ask", || got(&fake).into_iter().find(|g| g.path == "/push/1"));
    assert_eq!(msg.headers["content-encoding"], "aes128gcm");
    assert!(msg.headers["authorization"].starts_with("vapid t="), "VAPID-signed: {:?}", msg.headers);
    assert!(msg.headers["authorization"].contains(key["key"].as_str().unwrap()));
    let plain =
        web_push_native::decrypt(msg.body.clone(), &secret, &web_push_native::Auth::clone_from_slice(&auth)).expect("RFC 8291 decrypts");
    let payload: Value = serde_json::from_slice(&plain).unwrap();
    assert!(payload["title"].as_str().unwrap().contains(&format!("T-{id}")), "{payload}");
    assert_eq!(payload["url"], format!("/tasks/{id}"));
    let actions = payload["actions"].as_array().unwrap();
    assert_eq!(actions.iter().map(|a| a["action"].as_str().unwrap()).collect::<Vec<_>>(), ["approve", "deny"]);
    // The service worker presses the link like this; the agent continues.
    assert_eq!(press(actions[0]["url"].as_str().unwrap()).0, 200);
    w.wait_status(id, "review");
    // The push service said 410 for the other subscription: bosun forgot it.
    let (gone, kept) = runtime().block_on(async {
        let http = reqwest::Client::new();
        let del =
            |endpoint: String| authed(&w, http.delete(format!("{url}/api/push/subscriptions")).json(&json!({"endpoint": endpoint}))).send();
        (del(format!("{push}/gone")).await.unwrap().status().as_u16(), del(format!("{push}/push/1")).await.unwrap().status().as_u16())
    });
    assert_eq!((gone, kept), (404, 200));
}

#[test]
fn a_failing_push_subscriber_does_not_repeat_the_others() {
    use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
    let (good, bad): (Shared, Shared) = (Arc::default(), Arc::default());
    bad.lock().unwrap().failing = true;
    let (good_url, bad_url) = (receiver(good.clone()), receiver(bad.clone()));
    let mut w = World::new("app");
    careful(&w);
    w.start(&["--allow-local-push"]);
    w.bosun(&["notify", "add", "webpush"]);
    let secret = web_push_native::p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
    let public = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
    let url = w.url.clone();
    runtime().block_on(async {
        let http = reqwest::Client::new();
        for endpoint in [format!("{good_url}/push/good"), format!("{bad_url}/push/bad")] {
            let sub = json!({"endpoint": endpoint, "keys": {"p256dh": public, "auth": URL_SAFE_NO_PAD.encode([1u8; 16])}});
            let status = authed(&w, http.post(format!("{url}/api/push/subscriptions")).json(&sub)).send().await.unwrap().status();
            assert_eq!(status.as_u16(), 200);
        }
    });
    let id = w.add("Clean the build", "careful");
    w.wait_status(id, "needs_input");
    wait_for("the failing subscriber to be tried again", || (got(&bad).len() >= 2).then_some(()));
    assert_eq!(got(&good).len(), 1, "the subscriber that accepted is not pushed to again");
}

/// A subscription belongs to the credential that made it: revoking that device (here a
/// token) deletes it, so a lost phone gets no more pushes nor their Approve/Deny links;
/// and a device may unsubscribe only its own.
#[test]
fn revoking_a_device_ends_its_pushes() {
    use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
    let fake: Shared = Arc::default();
    let push = receiver(fake.clone());
    let mut w = World::new("app");
    careful(&w);
    w.start(&["--allow-local-push"]);
    w.bosun(&["notify", "add", "webpush"]);
    let made = w.json(&["token", "create", "--name", "lost-phone", "--scope", "operate"]);
    let (phone, phone_id) = (made["token"].as_str().unwrap().to_string(), made["device"]["id"].as_i64().unwrap());
    let secret = web_push_native::p256::SecretKey::from_slice(&[9u8; 32]).unwrap();
    let public = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
    let url = w.url.clone();
    let sub = |endpoint: String| json!({"endpoint": endpoint, "keys": {"p256dh": public, "auth": URL_SAFE_NO_PAD.encode([2u8; 16])}});
    runtime().block_on(async {
        let http = reqwest::Client::new();
        let as_phone = |req: reqwest::RequestBuilder| req.bearer_auth(&phone);
        let status =
            as_phone(http.post(format!("{url}/api/push/subscriptions")).json(&sub(format!("{push}/push/phone")))).send().await.unwrap();
        assert_eq!(status.status().as_u16(), 200);
        let status =
            authed(&w, http.post(format!("{url}/api/push/subscriptions")).json(&sub(format!("{push}/push/desk")))).send().await.unwrap();
        assert_eq!(status.status().as_u16(), 200);
        // The phone may not unsubscribe the desk's subscription.
        let del = as_phone(http.delete(format!("{url}/api/push/subscriptions")).json(&json!({"endpoint": format!("{push}/push/desk")})));
        assert_eq!(del.send().await.unwrap().status().as_u16(), 404);
    });
    w.bosun(&["devices", "revoke", &phone_id.to_string()]);
    let id = w.add("Clean the build", "careful");
    wait_for("the desk to get the ask", || got(&fake).into_iter().find(|g| g.path == "/push/desk"));
    w.wait_status(id, "needs_input");
    assert!(!got(&fake).iter().any(|g| g.path == "/push/phone"), "the revoked phone got a push");
}
