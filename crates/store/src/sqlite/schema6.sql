-- bosun schema v6: how much of a run's agent output its stored events cover.

-- The number of the agent's output lines (of the run's spool) whose events are
-- stored, written in the same transaction as those events: a daemon re-attaching to
-- a held agent replays that many lines without storing them again.
ALTER TABLE runs ADD COLUMN output_seen INTEGER NOT NULL DEFAULT 0;
