//! Where bosun keeps its files by default, for the daemon and for a client on the
//! same machine (the CLI reads the daemon's token from the data dir): one definition.

use std::path::{Path, PathBuf};

/// `$XDG_DATA_HOME/bosun`, else `~/.local/share/bosun` (`BOSUN_DATA_DIR` is read by
/// the callers, which also take a `--data-dir`).
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME") {
        return Path::new(&dir).join("bosun");
    }
    home().join(".local").join("share").join("bosun")
}

/// The daemon's own admin token, written (mode 0600) at its first start.
pub fn token_file(data_dir: &Path) -> PathBuf {
    data_dir.join("token")
}

pub(crate) fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"))
}
