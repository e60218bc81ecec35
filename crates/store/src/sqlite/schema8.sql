-- bosun schema v8: archived tasks, and replies that ask the
-- next run to resolve the conflicts its worktree was left with.

-- Done or discarded tasks hidden from lists (`bosun archive`).
ALTER TABLE tasks ADD COLUMN archived_at INTEGER;

-- A message from `bosun reply --resolve`: its run may start in a conflicted worktree.
ALTER TABLE inbox ADD COLUMN resolve INTEGER NOT NULL DEFAULT 0;
