//! The client's deliverables routes: the list, one's content, and `accept`.

use super::{Client, ClientError};
use crate::deliverable::{AcceptBody, AcceptRequest, ContentQuery, DeliverablesBody};
use bosun_core::task::TaskId;

/// One deliverable's content as the daemon sent it.
pub struct Content {
    /// The content type it was served with.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Client {
    /// `GET /api/tasks/{id}/deliverables`: the files the task's runs handed over.
    pub async fn deliverables(&self, id: TaskId) -> Result<DeliverablesBody, ClientError> {
        self.get(&format!("/api/tasks/{id}/deliverables")).await
    }

    /// `GET /api/tasks/{id}/deliverables/{path}`: one deliverable's content (the path
    /// is sent as one segment, its `/` escaped).
    pub async fn deliverable(&self, id: TaskId, path: &str, run: Option<i64>) -> Result<Content, ClientError> {
        let mut url = reqwest::Url::parse(&self.url(&format!("/api/tasks/{id}/deliverables")))
            .map_err(|_| ClientError::InvalidUrl { url: self.base.clone() })?;
        url.path_segments_mut().map_err(|_| ClientError::InvalidUrl { url: self.base.clone() })?.push(path);
        let query = ContentQuery { run, download: None };
        let resp = self.send(self.http.get(url).query(&query)).await?;
        let content_type = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let bytes = resp.bytes().await.map_err(|e| self.transport(e))?.to_vec();
        Ok(Content { content_type, bytes })
    }

    /// `POST /api/tasks/{id}/accept`: copy the deliverables out (with `to`) and move
    /// the task to done.
    pub async fn accept(&self, id: TaskId, req: &AcceptRequest) -> Result<AcceptBody, ClientError> {
        self.post(&format!("/api/tasks/{id}/accept"), req).await
    }
}
