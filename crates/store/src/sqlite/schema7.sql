-- bosun schema v7: what a queued task waits for (a limit, a dependency, its start),
-- as the dispatcher last decided: the JSON of a `Waiting`; null unless queued. And
-- whether its next run continues the agent's last session (a reply; a retry after the
-- daemon cut it off) or starts a new one.

ALTER TABLE tasks ADD COLUMN waiting TEXT;
ALTER TABLE tasks ADD COLUMN resume INTEGER NOT NULL DEFAULT 0;
