-- bosun schema v12: a browser session made by pasting a token belongs to that token:
-- revoking the token ends the session too.
ALTER TABLE credentials ADD COLUMN parent_id INTEGER REFERENCES credentials(id);
CREATE INDEX credentials_parent ON credentials (parent_id) WHERE parent_id IS NOT NULL;
