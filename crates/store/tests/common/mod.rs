//! What the store's test files share: the same story run against each backend.

use std::sync::Arc;

use bosun_store::{CachedStore, SqliteStore, Store};

/// A fresh SQLite store, bare and behind the cache, each in a directory of its own.
pub async fn stores() -> Vec<(Arc<dyn Store>, tempfile::TempDir)> {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let bare = SqliteStore::open(&a.path().join("bosun.db")).await.unwrap();
    let cached = CachedStore::new(SqliteStore::open(&b.path().join("bosun.db")).await.unwrap());
    vec![(Arc::new(bare), a), (Arc::new(cached), b)]
}
