-- bosun schema v10: credentials. API tokens, browser sessions and pairing codes,
-- each stored as the SHA-256 of its secret (never the secret itself).
CREATE TABLE credentials (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('token', 'session', 'pairing')),
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'operate', 'admin')),
    -- base64url SHA-256 of the secret.
    hash         TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    -- Written at most once a minute per credential.
    last_seen_at INTEGER,
    expires_at   INTEGER,
    -- A pairing code: when it was exchanged (single use).
    used_at      INTEGER,
    revoked_at   INTEGER,
    -- A session: the browser's User-Agent when it was created.
    user_agent   TEXT,
    -- The daemon's own token (`<data-dir>/token`).
    local        INTEGER NOT NULL DEFAULT 0
);

-- Token names are unique among live tokens (`bosun token create --name ci`).
CREATE UNIQUE INDEX credentials_live_token_name ON credentials (name) WHERE kind = 'token' AND revoked_at IS NULL;
