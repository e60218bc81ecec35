//! The deliverables routes' bodies: a task's deliverables (`GET
//! /api/tasks/{id}/deliverables`), the query of one's content, and `accept`.

use bosun_core::Task;
use bosun_core::deliverable::Deliverable;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `GET /api/tasks/{id}/deliverables`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliverablesBody {
    /// Each path's latest delivery, newest run first, then by path.
    pub latest: Vec<Deliverable>,
    /// Every delivery of every run, in run order.
    pub all: Vec<Deliverable>,
}

/// `GET /api/tasks/{id}/deliverables/{path}?run=&download=`
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// The run whose delivery to send (default: the latest delivery of the path).
    pub run: Option<i64>,
    /// Send it as a download (`Content-Disposition: attachment`) whatever its type.
    pub download: Option<bool>,
}

/// `POST /api/tasks/{id}/accept`
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// An absolute directory on the daemon's machine to copy the deliverables into
    /// (made if missing). None: nothing is copied, they stay with bosun.
    #[serde(default)]
    pub to: Option<String>,
    /// Overwrite files of the same name there (otherwise refused, nothing copied).
    #[serde(default)]
    pub force: bool,
}

/// What `accept` did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AcceptBody {
    pub task: Task,
    /// Where they were copied (None: not copied).
    pub to: Option<String>,
    /// The paths copied, relative to `to`.
    pub copied: Vec<String>,
}
