-- bosun schema v4: who produced each event, and which node runs each run.

-- agent | bosun | human:<name>. Rows from before are inferred from their content.
ALTER TABLE events ADD COLUMN source TEXT NOT NULL DEFAULT 'bosun';
UPDATE events SET source = 'agent'
 WHERE run_id > 0
   AND json_extract(data, '$.type') IN ('tool_call', 'tool_result', 'file_change', 'usage', 'output', 'session', 'approval_request');
UPDATE events SET source = CASE
        WHEN json_extract(data, '$.role') = 'user' THEN 'human:' || COALESCE(json_extract(data, '$.from'), 'someone')
        ELSE 'agent' END
 WHERE json_extract(data, '$.type') = 'message';
UPDATE events SET source = 'human:someone'
 WHERE json_extract(data, '$.type') = 'approval' AND json_extract(data, '$.by') = 'user';

-- The engine (this daemon, or later a worker) that runs the run: crash recovery only
-- interrupts its own node's runs.
ALTER TABLE runs ADD COLUMN node TEXT NOT NULL DEFAULT 'local';
