//! SQLite's failures as the store's: a full disk, a damaged file, anything else.

use crate::StoreError;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match primary_code(&e) {
            Some(13) => StoreError::Full,
            // SQLITE_CORRUPT, SQLITE_NOTADB
            Some(11 | 26) => StoreError::Damaged(e.as_database_error().map(|d| d.message().to_string()).unwrap_or_default()),
            _ if matches!(&e, sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull) => StoreError::Full,
            _ => StoreError::Backend(Box::new(e)),
        }
    }
}

/// SQLite's primary result code of a database error (the extended code's low byte).
pub(super) fn primary_code(e: &sqlx::Error) -> Option<i32> {
    e.as_database_error()?.code()?.parse::<i32>().ok().map(|code| code & 0xff)
}
