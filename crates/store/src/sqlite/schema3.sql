-- bosun schema v3: the human in the loop.

-- Permission asks of agents, pending until answered.
CREATE TABLE approvals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     INTEGER NOT NULL REFERENCES tasks (id),
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    request_id  TEXT    NOT NULL, -- the agent's own id for the ask
    tool        TEXT    NOT NULL,
    kind        TEXT,
    command     TEXT,
    path        TEXT,
    input       TEXT,             -- JSON
    status      TEXT    NOT NULL, -- pending, allowed, denied, expired
    answered_by TEXT,
    message     TEXT,
    created_at  INTEGER NOT NULL,
    answered_at INTEGER
);
CREATE INDEX approvals_pending ON approvals (status, task_id);

-- Messages for a task's agent (`bosun say`) not yet delivered (sent while queued).
CREATE TABLE inbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id      INTEGER NOT NULL REFERENCES tasks (id),
    text         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX inbox_pending ON inbox (task_id, delivered_at);

-- Tool patterns a human allowed for good (`bosun approve --always`), per profile.
CREATE TABLE profile_allow (
    profile TEXT NOT NULL,
    pattern TEXT NOT NULL,
    PRIMARY KEY (profile, pattern)
) WITHOUT ROWID;

-- The runtime's session of a run (Claude Code session, Codex thread), for `reply`.
ALTER TABLE runs ADD COLUMN session_id TEXT;
