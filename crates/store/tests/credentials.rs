//! The credentials' story against `dyn Store`: hashes in, live ones listed, names
//! unique among live tokens, a revoked one is gone, a pairing code is exchanged once,
//! and last-seen times are written at most once a minute.

use std::sync::Arc;

use bosun_core::auth::{CredentialKind, Scope};
use bosun_store::{CachedStore, NewCredential, Pairing, SessionFor, SqliteStore, Store, StoreError};
use chrono::{Duration, Utc};

fn token<'a>(name: &'a str, hash: &'a str) -> NewCredential<'a> {
    NewCredential {
        kind: CredentialKind::Token,
        name,
        scope: Scope::Operate,
        hash,
        expires_at: None,
        user_agent: None,
        local: false,
        parent: None,
    }
}

#[tokio::test]
async fn credentials_are_created_found_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(CachedStore::new(SqliteStore::open(&dir.path().join("bosun.db")).await.unwrap()));
    let now = Utc::now();
    let ci = store.create_credential(token("ci", "h1"), now).await.unwrap();
    assert_eq!((ci.kind, ci.scope, ci.name.as_str()), (CredentialKind::Token, Scope::Operate, "ci"));
    assert!(matches!(store.create_credential(token("ci", "h2"), now).await, Err(StoreError::DuplicateName(n)) if n == "ci"));
    assert_eq!(store.credential_by_hash("h1").await.unwrap().unwrap().id, ci.id);
    assert!(store.credential_by_hash("nope").await.unwrap().is_none());

    // Seen: written once, then not again within the minute.
    store.touch_credential(ci.id, now).await.unwrap();
    store.touch_credential(ci.id, now + Duration::seconds(30)).await.unwrap();
    let seen = store.credential_by_hash("h1").await.unwrap().unwrap().last_seen_at.unwrap();
    assert_eq!(seen.timestamp_millis(), now.timestamp_millis());
    store.touch_credential(ci.id, now + Duration::seconds(61)).await.unwrap();
    assert!(store.credential_by_hash("h1").await.unwrap().unwrap().last_seen_at.unwrap() > seen);

    // A browser session made from the token (by pasting it) ends with it.
    let session = NewCredential { kind: CredentialKind::Session, parent: Some(ci.id), ..token("ci", "s1") };
    let session = store.create_credential(session, now).await.unwrap();
    let (revoked, sessions) = store.revoke_credential(ci.id, now).await.unwrap();
    assert!(revoked.revoked_at.is_some() && !revoked.is_live(now));
    assert_eq!(sessions, [session.id]);
    assert!(!store.credential_by_hash("s1").await.unwrap().unwrap().is_live(now));
    assert!(matches!(store.revoke_credential(ci.id, now).await, Err(StoreError::CredentialNotFound(_))));
    assert!(store.credentials(now).await.unwrap().is_empty());
    // The name is free again once its token is revoked.
    store.create_credential(token("ci", "h3"), now).await.unwrap();

    // A new local token revokes the previous one.
    let local = |hash| NewCredential { local: true, scope: Scope::Admin, ..token("me", hash) };
    let first = store.create_credential(local("l1"), now).await.unwrap();
    store.create_credential(NewCredential { name: "me2", ..local("l2") }, now).await.unwrap();
    assert!(store.credential_by_hash("l1").await.unwrap().unwrap().revoked_at.is_some(), "{first:?}");
    let names: Vec<String> = store.credentials(now).await.unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["ci", "me2"]);
}

#[tokio::test]
async fn a_pairing_code_is_exchanged_once_and_not_after_it_expires() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().await.unwrap());
    let now = Utc::now();
    let code = |hash, name| NewCredential {
        kind: CredentialKind::Pairing,
        name,
        scope: Scope::Read,
        hash,
        expires_at: Some(now + Duration::minutes(5)),
        user_agent: None,
        local: false,
        parent: None,
    };
    store.create_credential(code("p1", ""), now).await.unwrap();
    store.create_credential(code("p2", "phone"), now).await.unwrap();
    let session = |hash| SessionFor { hash, user_agent: Some("Mobile Safari"), fallback_name: "iPhone" };
    let Pairing::Exchanged(s) = store.exchange_pairing("p1", session("s1"), now).await.unwrap() else { panic!("not exchanged") };
    assert_eq!(
        (s.kind, s.scope, s.name.as_str(), s.user_agent.as_deref()),
        (CredentialKind::Session, Scope::Read, "iPhone", Some("Mobile Safari"))
    );
    assert!(matches!(store.exchange_pairing("p1", session("s2"), now).await.unwrap(), Pairing::Used(_)));
    assert!(store.credential_by_hash("s2").await.unwrap().is_none(), "a second use creates nothing");
    assert_eq!(store.exchange_pairing("nope", session("s3"), now).await.unwrap(), Pairing::Unknown);
    let later = now + Duration::minutes(6);
    assert!(matches!(store.exchange_pairing("p2", session("s4"), later).await.unwrap(), Pairing::Expired(_)));
    // A pairing code is never a credential.
    assert!(!store.credential_by_hash("p2").await.unwrap().unwrap().is_live(now));
    assert_eq!(store.credentials(now).await.unwrap().len(), 1);
}
