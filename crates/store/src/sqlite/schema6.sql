-- bosun schema v6: archived tasks (done or discarded, hidden from lists).
ALTER TABLE tasks ADD COLUMN archived_at INTEGER;
