//! The client's notification routes: channels and the test message.

use super::{Client, ClientError, Empty};
use crate::notify::{Channel, NewChannelRequest, TestResult};

impl Client {
    /// `GET /api/notify/channels`: every channel with its last delivery result.
    pub async fn channels(&self) -> Result<Vec<Channel>, ClientError> {
        self.get("/api/notify/channels").await
    }

    /// `POST /api/notify/channels`: add a channel.
    pub async fn add_channel(&self, req: &NewChannelRequest) -> Result<Channel, ClientError> {
        self.post("/api/notify/channels", req).await
    }

    /// `DELETE /api/notify/channels/{id}`: remove a channel.
    pub async fn remove_channel(&self, id: i64) -> Result<Channel, ClientError> {
        self.decode(self.http.delete(self.url(&format!("/api/notify/channels/{id}"))).json(&Empty {})).await
    }

    /// `POST /api/notify/test`: one test message to every channel.
    pub async fn test_channels(&self) -> Result<Vec<TestResult>, ClientError> {
        self.post("/api/notify/test", &Empty {}).await
    }
}
