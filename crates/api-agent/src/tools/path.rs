//! Paths the model names, resolved inside the workspace: relative only, no `..`, and
//! no way out through a symlink (the deepest existing ancestor is resolved and must
//! still be inside).

use std::path::{Component, Path, PathBuf};

/// `rel` resolved under `root` (itself canonical). The result may not exist yet.
pub fn resolve(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let rel = if rel.trim().is_empty() { "." } else { rel };
    let p = Path::new(rel);
    if p.is_absolute() {
        return Err(format!("`{rel}` is an absolute path: name files relative to the workspace"));
    }
    if p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(format!("`{rel}` leaves the workspace (`..` is not allowed)"));
    }
    let joined = root.join(p);
    let mut existing = joined.clone();
    while std::fs::symlink_metadata(&existing).is_err() {
        if !existing.pop() {
            return Err(format!("`{rel}` is not in the workspace"));
        }
    }
    let real = existing.canonicalize().map_err(|e| format!("cannot resolve `{rel}`: {e}"))?;
    if !real.starts_with(root) {
        return Err(format!("`{rel}` leads out of the workspace through a symlink"));
    }
    let rest = joined.strip_prefix(&existing).unwrap_or(Path::new(""));
    Ok(if rest.as_os_str().is_empty() { real } else { real.join(rest) })
}

/// `abs` as the model sees it: relative to the workspace.
pub fn shown(root: &Path, abs: &Path) -> String {
    let rel = abs.strip_prefix(root).unwrap_or(abs).to_string_lossy().into_owned();
    if rel.is_empty() { ".".into() } else { rel }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("out")).unwrap();
        std::os::unix::fs::symlink("sub", root.join("in")).unwrap();
        assert_eq!(resolve(&root, "sub/new/a.md").unwrap(), root.join("sub/new/a.md"));
        assert_eq!(resolve(&root, "in/x").unwrap(), root.join("sub/x"));
        assert_eq!(resolve(&root, "").unwrap(), root);
        assert!(resolve(&root, "../x").unwrap_err().contains("leaves the workspace"));
        assert!(resolve(&root, "sub/../../x").unwrap_err().contains("leaves the workspace"));
        assert!(resolve(&root, "/etc/passwd").unwrap_err().contains("absolute"));
        assert!(resolve(&root, "out/passwd").unwrap_err().contains("symlink"));
        assert!(resolve(&root, "out").unwrap_err().contains("symlink"));
    }
}
