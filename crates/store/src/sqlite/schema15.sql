-- bosun schema v15: task sources (a Notion database, a GitHub repo's or a Linear team's
-- issues), the link from each item to the one task made of it (unique: an item never
-- becomes two tasks, across restarts, re-syncs and a webhook racing a poll), and the
-- durable queue of what bosun writes back to the items (written in the transaction of
-- the task's transition, so none is lost).
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    repo TEXT,
    interval_secs INTEGER NOT NULL,
    api TEXT,
    -- The service's "changed since" mark, and what the connector keeps between syncs.
    cursor TEXT,
    state TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    last_sync_at INTEGER,
    last_error TEXT,
    seen INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL DEFAULT 0,
    removed_at INTEGER
);

CREATE TABLE external_links (
    task_id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    external_id TEXT NOT NULL,
    url TEXT NOT NULL,
    reference TEXT NOT NULL,
    -- What bosun last wrote to the item (or read when it claimed it), and the item's
    -- edit time then: a newer edit to another state is a person's, never overwritten.
    written_state TEXT NOT NULL,
    written_at INTEGER NOT NULL,
    -- The newest comment on the item bosun has seen.
    comment_cursor TEXT,
    -- GitHub: bosun's status comment, edited in place.
    status_comment TEXT,
    UNIQUE (source_id, external_id)
);

CREATE TABLE source_writes (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL,
    phase TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    last_error TEXT,
    done_at INTEGER
);
CREATE INDEX source_writes_due ON source_writes (next_at) WHERE done_at IS NULL;
