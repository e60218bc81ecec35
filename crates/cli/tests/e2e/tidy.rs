//! House rules that a reviewer would otherwise check by hand.

use std::path::{Path, PathBuf};

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != "tests" && name != "node_modules" && !name.to_string_lossy().starts_with('.') {
                rust_sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every module says why it exists in a `//!` line at its top.
#[test]
fn every_module_has_a_doc_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let mut files = Vec::new();
    rust_sources(&root.join("crates"), &mut files);
    assert!(files.len() > 20, "found the sources");
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap().lines().take(10).any(|l| l.starts_with("//!")))
        .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert!(missing.is_empty(), "modules without a //! line: {missing:?}");
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The `[dependencies]` section of a crate's manifest (not its dev-dependencies).
fn dependencies(krate: &str) -> String {
    let manifest = std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml")).unwrap();
    let start = manifest.find("[dependencies]").map(|i| i + "[dependencies]".len()).unwrap_or(manifest.len());
    let rest = &manifest[start..];
    rest[..rest.find("\n[").unwrap_or(rest.len())].to_string()
}

/// The non-test sources of a crate, with their text.
fn sources(krate: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_sources(&root().join("crates").join(krate).join("src"), &mut files);
    files.into_iter().map(|f| (f.strip_prefix(root()).unwrap().display().to_string(), std::fs::read_to_string(&f).unwrap())).collect()
}

/// ARCHITECTURE.md: "The core does no I/O."
#[test]
fn the_core_does_no_io() {
    let deps = dependencies("core");
    for heavy in ["tokio", "sqlx", "reqwest", "axum"] {
        assert!(!deps.contains(heavy), "core depends on {heavy}");
    }
    for (file, text) in sources("core") {
        for io in ["std::fs", "std::process", "std::net", "tokio", "Utc::now", "SystemTime::now"] {
            assert!(!text.contains(io), "{file} uses {io}");
        }
    }
}

/// ARCHITECTURE.md: "Only `crates/server` knows axum"; the engine is below the server.
#[test]
fn only_the_server_knows_axum() {
    for krate in ["core", "store", "git", "agents", "engine", "api"] {
        let deps = dependencies(krate);
        assert!(!deps.contains("axum"), "{krate} depends on axum");
        assert!(!deps.contains("bosun-server"), "{krate} depends on the server");
    }
}

/// ARCHITECTURE.md: "Only `crates/git` runs git."
#[test]
fn only_the_git_crate_runs_git() {
    for krate in ["core", "store", "agents", "engine", "server", "api", "cli"] {
        // Test modules may set up repos with git; product code may not.
        for (file, text) in sources(krate).into_iter().filter(|(f, _)| !f.ends_with("tests.rs")) {
            assert!(!text.contains("Command::new(\"git\")"), "{file} runs git itself");
        }
    }
}

/// ARCHITECTURE.md: "Task status changes only through `TaskStatus::apply`, as a
/// compare-and-set in the store": the one statement that writes a task's status is in
/// `transition_in`, which applies the state machine first.
#[test]
fn task_status_is_written_in_one_place() {
    let writes: Vec<(String, usize)> = sources("store")
        .into_iter()
        .flat_map(|(file, text)| {
            text.match_indices("UPDATE tasks SET status").map(|(i, _)| (file.clone(), i)).collect::<Vec<_>>().into_iter()
        })
        .collect();
    assert_eq!(writes.len(), 1, "task status is written in more than one place: {writes:?}");
    let (file, at) = &writes[0];
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let func = text[..*at].rfind("fn ").map(|i| &text[i..i + 20]).unwrap();
    assert!(func.starts_with("fn transition_in"), "the write is in {func:?}");
    assert!(text[text.find("fn transition_in").unwrap()..*at].contains(".apply(event)"), "transition_in applies the state machine");
}

/// ARCHITECTURE.md: "worktrees and branches are removed only through `cleanup.rs`".
#[test]
fn only_cleanup_removes_workspaces() {
    for (file, text) in sources("engine") {
        if file.ends_with("cleanup.rs") {
            continue;
        }
        for removal in ["worktree_remove(", "delete_branch(", "remove_dir_all("] {
            assert!(!text.contains(removal), "{file} calls {removal}");
        }
    }
}
