//! The client's task-source routes.

use super::{Client, ClientError, Empty};
use crate::source::{NewSourceRequest, Source, SyncResult, VerificationToken};

impl Client {
    /// `GET /api/sources`
    pub async fn sources(&self) -> Result<Vec<Source>, ClientError> {
        self.get("/api/sources").await
    }

    /// `POST /api/sources`
    pub async fn add_source(&self, req: &NewSourceRequest) -> Result<Source, ClientError> {
        self.post("/api/sources", req).await
    }

    /// `POST /api/sources/{id}/sync`
    pub async fn sync_source(&self, id: i64) -> Result<SyncResult, ClientError> {
        self.post(&format!("/api/sources/{id}/sync"), &Empty {}).await
    }

    /// `DELETE /api/sources/{id}`
    pub async fn remove_source(&self, id: i64) -> Result<Source, ClientError> {
        self.decode(self.http.delete(self.url(&format!("/api/sources/{id}"))).json(&Empty {})).await
    }

    /// `GET /api/sources/{id}/verification-token`
    pub async fn verification_token(&self, id: i64) -> Result<VerificationToken, ClientError> {
        self.get(&format!("/api/sources/{id}/verification-token")).await
    }
}
