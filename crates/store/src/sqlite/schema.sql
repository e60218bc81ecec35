-- bosun schema v1. Times are Unix milliseconds (UTC).
CREATE TABLE tasks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    title         TEXT    NOT NULL,
    body          TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL,
    status_reason TEXT,
    agent         TEXT,
    repo          TEXT,
    base          TEXT,
    branch        TEXT,
    worktree      TEXT,
    tags          TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    priority      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX tasks_by_status ON tasks (status, priority DESC, id);

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id       INTEGER NOT NULL REFERENCES tasks (id),
    agent         TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    token         TEXT    NOT NULL, -- BOSUN_RUN_TOKEN in the agent's environment
    pid           INTEGER,
    exit_code     INTEGER,
    reason        TEXT,
    started_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd      REAL
);
CREATE INDEX runs_by_task ON runs (task_id, id);
CREATE INDEX runs_by_status ON runs (status);

-- Append-only. seq counts per task, across its runs.
CREATE TABLE events (
    task_id INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    run_id  INTEGER NOT NULL,
    ts      INTEGER NOT NULL,
    data    TEXT    NOT NULL, -- the normalized event kind as JSON
    PRIMARY KEY (task_id, seq)
) WITHOUT ROWID;

-- Profiles as they were loaded for a run, keyed by the file they came from.
CREATE TABLE profiles (
    source    TEXT    PRIMARY KEY,
    name      TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    loaded_at INTEGER NOT NULL
);
