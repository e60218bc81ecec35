-- bosun schema v16: the warm worktree pool. Each row is one worktree bosun checked out
-- ahead of any task, detached at `head` of the repo's `base`, at `path` (under
-- <data-dir>/pool/). A task takes one in one transaction (`claimed`, with its task,
-- and the task's branch and worktree recorded together); start-up repair discards
-- whatever a crash left `making`, `refreshing` or `claimed`.
CREATE TABLE pool_worktrees (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a path names one entry ever
    repo TEXT NOT NULL,
    base TEXT NOT NULL,
    path TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('making', 'ready', 'refreshing', 'claimed')),
    head TEXT,
    -- The repo's setup script ran in it (it was marked poolable then).
    setup_ran INTEGER NOT NULL DEFAULT 0,
    task_id INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX pool_worktrees_ready ON pool_worktrees (repo, base) WHERE state = 'ready';
