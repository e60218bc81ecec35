-- bosun schema v5: allow rules saved by `approve --always` are scoped to a profile
-- and a repo ('' for tasks without one), and remember the answer they came from.

CREATE TABLE allow_rules (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    profile     TEXT    NOT NULL,
    repo        TEXT    NOT NULL DEFAULT '',
    pattern     TEXT    NOT NULL,
    approval_id INTEGER REFERENCES approvals (id),
    created_at  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (profile, repo, pattern)
);

-- Rules from before applied to every repo; they keep applying only where no repo is
-- named (their old glob meaning was broader than what they were saved for).
INSERT INTO allow_rules (profile, repo, pattern) SELECT profile, '', pattern FROM profile_allow;
DROP TABLE profile_allow;
