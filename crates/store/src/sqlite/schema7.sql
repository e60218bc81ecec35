-- bosun schema v7: what a queued task waits for (a limit, a dependency, its start),
-- as the dispatcher last decided: the JSON of a `Waiting`; null unless queued.

ALTER TABLE tasks ADD COLUMN waiting TEXT;
