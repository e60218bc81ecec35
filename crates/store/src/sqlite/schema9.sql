-- A merge under way: written before the base is touched, deleted by the task's next
-- status change (done, or anything else). What is left at start-up is a merge a
-- crash cut off, which the daemon finishes.
CREATE TABLE merge_intents (
    task_id    INTEGER PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
    strategy   TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
