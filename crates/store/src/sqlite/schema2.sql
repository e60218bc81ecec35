-- bosun schema v2: task dependencies and pull requests.
CREATE TABLE task_deps (
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    dep_id  INTEGER NOT NULL REFERENCES tasks (id),
    PRIMARY KEY (task_id, dep_id)
) WITHOUT ROWID;
CREATE INDEX task_deps_by_dep ON task_deps (dep_id, task_id);

ALTER TABLE tasks ADD COLUMN pr_number INTEGER;
ALTER TABLE tasks ADD COLUMN pr_url    TEXT;
ALTER TABLE tasks ADD COLUMN pr_state  TEXT;
ALTER TABLE tasks ADD COLUMN pr_draft  INTEGER NOT NULL DEFAULT 0;
