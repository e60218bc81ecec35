//! Dependencies between tasks (`task_deps`): who waits for whom.

use std::collections::HashMap;

use bosun_core::Task;
use bosun_core::task::TaskId;
use chrono::{DateTime, Utc};

use super::SqliteStore;
use super::rows::ms;
use crate::{Result, Store};

impl SqliteStore {
    pub(super) async fn dependents_in(&self, id: TaskId) -> Result<Vec<TaskId>> {
        Ok(sqlx::query_scalar("SELECT task_id FROM task_deps WHERE dep_id = ? ORDER BY task_id").bind(id).fetch_all(&self.pool).await?)
    }

    pub(super) async fn dep_edges_in(&self) -> Result<HashMap<TaskId, Vec<TaskId>>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT task_id, dep_id FROM task_deps").fetch_all(&self.pool).await?;
        let mut edges: HashMap<TaskId, Vec<TaskId>> = HashMap::new();
        for (task, dep) in rows {
            edges.entry(task).or_default().push(dep);
        }
        Ok(edges)
    }

    pub(super) async fn add_deps_in(&self, id: TaskId, deps: &[TaskId], now: DateTime<Utc>) -> Result<Task> {
        let mut tx = self.pool.begin().await?;
        for dep in deps {
            sqlx::query("INSERT OR IGNORE INTO task_deps (task_id, dep_id) VALUES (?, ?)").bind(id).bind(dep).execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE tasks SET updated_at = ? WHERE id = ?").bind(ms(now)).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        self.changed(id);
        self.get_task(id).await
    }
}
