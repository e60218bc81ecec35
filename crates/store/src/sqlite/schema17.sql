-- bosun schema v17: deliverables, the files a run handed over as its work (declared by
-- the agent, or found changed in a scratch task's workspace), written with the run's
-- end in one transaction.
CREATE TABLE deliverables (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL,
    run_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL,
    description TEXT,
    sha256 TEXT,
    change TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (run_id, path)
);
CREATE INDEX deliverables_task ON deliverables (task_id, run_id);
