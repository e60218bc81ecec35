-- bosun schema v11: notifications as a durable outbox, their channels, the links
-- a notification's buttons carry, and the browsers that get Web Push.

-- Where notifications go. `config` is the channel's JSON settings: a URL, and for
-- secrets only the *name* of the daemon's environment variable holding them.
CREATE TABLE channels (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL, -- ntfy, webhook, webpush
    name        TEXT    NOT NULL,
    config      TEXT    NOT NULL, -- JSON
    filter      TEXT    NOT NULL, -- JSON: events, repos, agents (empty: any)
    quiet       TEXT,             -- HH:MM-HH:MM, daemon local time
    created_at  INTEGER NOT NULL,
    last_result TEXT,             -- "ok" or the reason the last attempt failed
    last_at     INTEGER
);

-- The outbox: written in the transaction of the transition that causes it.
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL, -- needs_input, review, failed, merged
    task_id     INTEGER NOT NULL REFERENCES tasks (id),
    subject     TEXT    NOT NULL, -- JSON core::notify::Subject, as it was then
    created_at  INTEGER NOT NULL,
    fanned_out  INTEGER NOT NULL DEFAULT 0 -- 1 once queued for every channel that wants it
);
CREATE INDEX notifications_new ON notifications (fanned_out);

-- One message to one channel (a single notification or a digest of several). Its id
-- is the idempotency key every request carries.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id      INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    state           TEXT    NOT NULL, -- pending, sent, failed, skipped (nothing left to say)
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);

-- Which notification goes to which channel, and in which delivery (NULL: not yet
-- batched; held while a batching window or quiet hours last).
CREATE TABLE notification_queue (
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    channel_id      INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    delivery_id     INTEGER REFERENCES deliveries (id) ON DELETE CASCADE,
    PRIMARY KEY (notification_id, channel_id)
);
CREATE INDEX notification_queue_open ON notification_queue (delivery_id, channel_id);

-- Approve/Deny buttons: capabilities for one answer to one ask, stored hashed.
CREATE TABLE action_links (
    hash        BLOB    PRIMARY KEY, -- SHA-256 of the secret in the URL
    approval_id INTEGER NOT NULL REFERENCES approvals (id),
    verb        TEXT    NOT NULL,    -- approve, deny
    channel     TEXT    NOT NULL,    -- who it was sent to (the answer's author)
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) WITHOUT ROWID;

-- Browsers (the installed board) that receive Web Push.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint   TEXT    NOT NULL UNIQUE,
    p256dh     TEXT    NOT NULL, -- base64url, the browser's P-256 public key
    auth       TEXT    NOT NULL, -- base64url, 16 bytes
    label      TEXT,
    created_at INTEGER NOT NULL
);
