-- bosun schema v14: the model per task and per run, the names routing rules match
-- (assignee, source), a task's own budget, the cost ledger and budget reservations.
ALTER TABLE tasks ADD COLUMN model TEXT;
ALTER TABLE tasks ADD COLUMN assignee TEXT;
ALTER TABLE tasks ADD COLUMN source TEXT NOT NULL DEFAULT 'cli';
ALTER TABLE tasks ADD COLUMN budget_usd REAL;
ALTER TABLE runs ADD COLUMN model TEXT;

-- One row per usage report of a run; `line` is the report's place in the run's
-- output (its spool line; else minus its event seq), so a report replayed after a crash is
-- counted once. Totals are queries over these rows, never counters.
CREATE TABLE ledger (
    run_id        INTEGER NOT NULL REFERENCES runs (id),
    line          INTEGER NOT NULL,
    task_id       INTEGER NOT NULL,
    profile       TEXT    NOT NULL,
    repo          TEXT,
    model         TEXT,
    ts            INTEGER NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    reported_usd  REAL,  -- what the CLI said it cost, when it said
    priced_usd    REAL,  -- the price table's figure, when the model is in it
    cost_usd      REAL NOT NULL DEFAULT 0, -- what counts
    counted       TEXT   NOT NULL, -- 'reported', 'priced' or 'none'
    PRIMARY KEY (run_id, line)
);
CREATE INDEX ledger_by_ts ON ledger (ts);
CREATE INDEX ledger_by_task ON ledger (task_id);

-- What a live run may still spend, taken before it starts against every budget it
-- falls under; deleted when the run ends.
CREATE TABLE reservations (
    run_id     INTEGER PRIMARY KEY REFERENCES runs (id),
    task_id    INTEGER NOT NULL,
    profile    TEXT    NOT NULL,
    repo       TEXT,
    amount_usd REAL    NOT NULL,
    created_at INTEGER NOT NULL
);
