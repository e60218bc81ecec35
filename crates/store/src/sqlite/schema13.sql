-- bosun schema v13: a push subscription belongs to the session (or token) that made it:
-- revoking that credential deletes it, so a lost phone gets no more pushes (nor their
-- Approve/Deny links).
ALTER TABLE push_subscriptions ADD COLUMN credential_id INTEGER REFERENCES credentials(id);
