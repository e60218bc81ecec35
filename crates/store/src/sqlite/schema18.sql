-- bosun schema: a source's webhook. `hook` is set when the source takes webhooks:
-- `hook_secret_env` names the daemon's variable holding the signing secret, or (Notion)
-- `hook_token` keeps the verification token Notion sent, which signs its deliveries.
-- `last_hook_at`: the last delivery whose signature held.
ALTER TABLE sources ADD COLUMN hook INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN hook_secret_env TEXT;
ALTER TABLE sources ADD COLUMN hook_token TEXT;
ALTER TABLE sources ADD COLUMN last_hook_at INTEGER;
