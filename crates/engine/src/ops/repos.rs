//! `repos`: the repositories bosun has tasks for, with counts by status.

use std::collections::BTreeMap;

use bosun_api::RepoSummary;

use crate::{Engine, OpError};

impl Engine {
    pub async fn repos(&self) -> Result<Vec<RepoSummary>, OpError> {
        let mut out: Vec<RepoSummary> = Vec::new();
        for count in self.store.repo_counts().await? {
            if out.last().is_none_or(|r| r.repo != count.repo) {
                out.push(RepoSummary { repo: count.repo.clone(), tasks: 0, by_status: BTreeMap::new() });
            }
            let summary = out.last_mut().expect("just pushed");
            summary.tasks += count.tasks;
            summary.by_status.insert(count.status.as_str().to_string(), count.tasks);
        }
        Ok(out)
    }
}
