//! `archive`: hide done or discarded tasks from lists and the board (they stay in the
//! store, and `ls --archived` shows them). Refuses, naming them, tasks that are not
//! finished yet.

use bosun_api::{ArchiveBody, ArchiveRequest};
use bosun_core::TaskStatus;
use bosun_store::TaskFilter;
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "archive", skip_all)]
    pub async fn archive(&self, req: ArchiveRequest) -> Result<ArchiveBody, OpError> {
        let ids = match (req.all, req.ids.is_empty()) {
            (true, true) => {
                let filter =
                    TaskFilter { statuses: vec![TaskStatus::Done, TaskStatus::Discarded], archived: Some(false), ..Default::default() };
                self.store.list_tasks(&filter).await?.into_iter().map(|t| t.id).collect()
            }
            (false, false) => {
                let mut unfinished = Vec::new();
                for &id in &req.ids {
                    let task = self.store.get_task(id).await?;
                    if !task.status.is_final() {
                        unfinished.push(format!("T-{id} is {}", task.status.in_words()));
                    }
                }
                if !unfinished.is_empty() {
                    return Err(OpError::Refused(format!(
                        "only done or discarded tasks can be archived: {} (merge or discard them first)",
                        unfinished.join(", ")
                    )));
                }
                req.ids
            }
            _ => return Err(OpError::Invalid("give task ids or `all`, not both or neither".into())),
        };
        let archived = self.store.archive_tasks(&ids, Utc::now()).await?;
        for &id in &archived {
            self.publish(&self.store.get_task(id).await?);
        }
        Ok(ArchiveBody { archived })
    }
}
