//! Deliverables on disk: a scratch workspace looked at when its run starts (the
//! snapshot kept beside the run's log, so a daemon that takes the run back compares
//! against the same one) and again when it ends; each deliverable resolved inside
//! its workspace (a symlink out is refused), hashed, and kept as delivered under
//! `<data-dir>/deliverables/<task>/<run>/` so that `open`, `accept` and the board see
//! what the run handed over, whatever later runs do to the workspace.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use bosun_core::deliverable::{self, DeliverableChange, NewDeliverable, Snapshot, Stamp};
use bosun_core::task::{RunId, TaskId};
use bosun_core::{EventKind, Task};

use crate::Engine;

/// Largest file hashed (bytes); a larger one is recorded by size alone.
const HASH_MAX: u64 = 256 * 1024 * 1024;
/// Largest file kept as delivered; a larger one is read from the workspace.
pub(crate) const KEEP_MAX: u64 = 32 * 1024 * 1024;
/// What one run keeps in all, at most.
const KEEP_TOTAL: u64 = 256 * 1024 * 1024;

/// The snapshot of a run's scratch workspace taken when it started.
fn snapshot_file(engine: &Engine, task_id: TaskId, run_id: RunId) -> PathBuf {
    engine.config.run_log(task_id, run_id).with_extension("files")
}

/// Forgets the snapshot of a run that never got going.
pub(crate) fn forget(engine: &Engine, task_id: TaskId, run_id: RunId) {
    let _ = std::fs::remove_file(snapshot_file(engine, task_id, run_id));
}

/// Where a run's deliverables are kept as delivered.
pub(crate) fn kept_dir(engine: &Engine, task_id: TaskId, run_id: RunId) -> PathBuf {
    engine.config.data_dir.join("deliverables").join(task_id.to_string()).join(run_id.to_string())
}

/// Looks at a scratch task's workspace as its run starts (repo tasks have git).
pub(crate) async fn before_run(engine: &Engine, task: &Task, run_id: RunId, workdir: &Path) {
    if task.repo.is_some() {
        return;
    }
    let (dir, file) = (workdir.to_path_buf(), snapshot_file(engine, task.id, run_id));
    let saved = tokio::task::spawn_blocking(move || {
        let snap = snapshot(&dir);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, serde_json::to_vec(&snap).expect("snapshots serialize"))
    })
    .await;
    if !matches!(saved, Ok(Ok(()))) {
        tracing::warn!("cannot keep the workspace's snapshot: every file there will count as the run's");
    }
}

/// A run's deliverables as it ends: those it declared, and for a scratch task the files
/// it created or changed; each checked, hashed and kept. The second list says what
/// was refused, and why (an event each).
pub(crate) async fn after_run(engine: &Engine, task: &Task, run_id: RunId, workdir: &Path) -> (Vec<NewDeliverable>, Vec<EventKind>) {
    let declared = engine.store.deliverables().declared(task.id, run_id).await.unwrap_or_else(|e| {
        tracing::error!("cannot read the run's declared deliverables: {e}");
        Vec::new()
    });
    let previous: HashMap<String, Option<String>> = match engine.store.deliverables().deliverables(task.id).await {
        Ok(all) => all.into_iter().filter(|d| d.run_id != run_id).map(|d| (d.path, d.sha256)).collect(),
        Err(e) => {
            tracing::error!("cannot read the task's deliverables: {e}");
            HashMap::new()
        }
    };
    let scratch = task.repo.is_none();
    let (dir, snap_file, keep) = (workdir.to_path_buf(), snapshot_file(engine, task.id, run_id), kept_dir(engine, task.id, run_id));
    let found = tokio::task::spawn_blocking(move || {
        let changed = match scratch {
            true => {
                let before: Snapshot = std::fs::read(&snap_file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
                deliverable::changed(&before, &snapshot(&dir))
            }
            false => Vec::new(),
        };
        let _ = std::fs::remove_file(&snap_file);
        let (mut out, mut refused, mut kept) = (Vec::new(), Vec::new(), 0u64);
        let gathered = deliverable::gather(&declared, &changed);
        let offered = declared.len() + changed.len();
        if gathered.len() == deliverable::MAX_PER_RUN && offered > gathered.len() {
            let cap = deliverable::MAX_PER_RUN;
            refused.push(EventKind::Error { message: format!("bosun records at most {cap} deliverables a run: the first {cap} are") });
        }
        for (path, description) in gathered {
            match take(&dir, &path, &keep, &mut kept) {
                Ok((size, sha256)) => {
                    let change = DeliverableChange::between(previous.get(&path).map(Option::as_deref), sha256.as_deref());
                    let mime = deliverable::mime_for(&path).to_string();
                    out.push(NewDeliverable { path, size, mime, description, sha256, change });
                }
                Err(why) => refused.push(EventKind::Error { message: format!("bosun did not record the deliverable {path:?}: {why}") }),
            }
        }
        (out, refused)
    })
    .await;
    found.unwrap_or_else(|e| {
        tracing::error!("cannot gather the run's deliverables: {e}");
        (Vec::new(), Vec::new())
    })
}

/// The files under `root` with their stamps: hidden and dependency directories skipped,
/// symlinks not followed, at most [`deliverable::MAX_WALKED`].
pub(crate) fn snapshot(root: &Path) -> Snapshot {
    let mut out = Snapshot::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let (Ok(kind), name) = (entry.file_type(), entry.file_name()) else { continue };
            let name = name.to_string_lossy();
            if kind.is_dir() {
                if deliverable::walks_into(&name) {
                    stack.push(entry.path());
                }
                continue;
            }
            if !kind.is_file() || name.starts_with('.') {
                continue;
            }
            let (Ok(meta), Ok(rel)) = (entry.metadata(), entry.path().strip_prefix(root).map(Path::to_path_buf)) else { continue };
            let modified =
                meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as i128);
            out.insert(rel.to_string_lossy().replace('\\', "/"), Stamp { size: meta.len(), modified });
            if out.len() >= deliverable::MAX_WALKED {
                return out;
            }
        }
    }
    out
}

/// Why a deliverable's file cannot be taken.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    #[error(transparent)]
    Path(#[from] deliverable::PathError),
    #[error("there is no such file in the workspace")]
    Missing,
    #[error("it is not a regular file (a directory or a symlink)")]
    NotAFile,
    #[error("it leads out of the workspace")]
    Outside,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The regular file `rel` names inside `root` (no component a symlink out of it).
pub(crate) fn resolve(root: &Path, rel: &str) -> Result<PathBuf, FileError> {
    let rel = deliverable::check_path(rel)?;
    let full = root.join(&rel);
    let meta = match std::fs::symlink_metadata(&full) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FileError::Missing),
        Err(e) => return Err(e.into()),
    };
    if !meta.is_file() {
        return Err(FileError::NotAFile);
    }
    let (real, real_root) = (full.canonicalize()?, root.canonicalize()?);
    if !real.starts_with(&real_root) {
        return Err(FileError::Outside);
    }
    Ok(real)
}

/// Hashes the deliverable at `rel` and keeps a copy under `keep` (while it and the
/// run's total fit): its size and hex SHA-256.
fn take(root: &Path, rel: &str, keep: &Path, kept: &mut u64) -> Result<(u64, Option<String>), FileError> {
    let file = resolve(root, rel)?;
    let mut src = std::fs::File::open(&file)?;
    let size = src.metadata()?.len();
    // A copy that cannot be made (a full disk) leaves the deliverable recorded all
    // the same, read from the workspace.
    let dest = keep.join(rel);
    let mut copy = (size <= KEEP_MAX && *kept + size <= KEEP_TOTAL)
        .then(|| std::fs::create_dir_all(dest.parent().unwrap_or(keep)).and_then(|()| std::fs::File::create(&dest)).ok())
        .flatten();
    if copy.is_none() && size > HASH_MAX {
        return Ok((size, None));
    }
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        digest.update(&buf[..n]);
        if let Some(file) = copy.as_mut()
            && file.write_all(&buf[..n]).is_err()
        {
            copy = None;
            let _ = std::fs::remove_file(&dest);
        }
    }
    if copy.is_some() {
        *kept += size;
    }
    Ok((size, Some(digest.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_out_of_the_workspace_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let ws = tempfile::tempdir().unwrap();
        std::fs::write(ws.path().join("report.md"), "# r").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), ws.path().join("link")).unwrap();
        std::os::unix::fs::symlink(outside.path(), ws.path().join("dir")).unwrap();
        assert!(resolve(ws.path(), "report.md").is_ok());
        assert!(matches!(resolve(ws.path(), "link"), Err(FileError::NotAFile)));
        assert!(matches!(resolve(ws.path(), "dir/secret"), Err(FileError::Outside)));
        assert!(matches!(resolve(ws.path(), "../x"), Err(FileError::Path(_))));
        assert!(matches!(resolve(ws.path(), "nope.md"), Err(FileError::Missing)));
    }

    #[test]
    fn a_snapshot_skips_hidden_and_dependency_trees() {
        let ws = tempfile::tempdir().unwrap();
        for p in ["a.md", "out/b.csv", ".git/HEAD", "node_modules/x/y.js", ".env"] {
            let full = ws.path().join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, "x").unwrap();
        }
        let snap = snapshot(ws.path());
        assert_eq!(snap.keys().cloned().collect::<Vec<_>>(), vec!["a.md".to_string(), "out/b.csv".to_string()]);
    }

    #[test]
    fn taking_a_file_hashes_and_keeps_it() {
        let ws = tempfile::tempdir().unwrap();
        let keep = tempfile::tempdir().unwrap();
        std::fs::write(ws.path().join("r.md"), "abc").unwrap();
        let mut kept = 0;
        let (size, sha) = take(ws.path(), "r.md", keep.path(), &mut kept).unwrap();
        assert_eq!(size, 3);
        assert_eq!(sha.as_deref(), Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        assert_eq!(std::fs::read_to_string(keep.path().join("r.md")).unwrap(), "abc");
        assert_eq!(kept, 3);
    }
}
