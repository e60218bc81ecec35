//! `notify test`: one test message to every channel, now (no outbox, no batching), each
//! reported ok or failed with the reason, and recorded as the channel's last result.

use bosun_api::notify::TestResult;
use chrono::Utc;

use crate::sender::{build, open, test_message};
use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "notify_test", skip_all)]
    pub async fn test_channels(&self) -> Result<Vec<TestResult>, OpError> {
        let mut results = Vec::new();
        for c in self.store.notify().channels().await? {
            let out = build(self, format!("bosun-test-{}", uuid::Uuid::new_v4()), "test", test_message(), Vec::new(), Vec::new());
            let sent = match open(self, &c, Default::default()).await {
                Ok(channel) => channel.send(&out).await,
                Err(e) => Err(e),
            };
            let error = sent.as_ref().err().map(|e| e.to_string());
            let result = error.as_ref().map(|e| format!("failed: {e}")).unwrap_or_else(|| "ok".into());
            self.store.notify().set_channel_result(c.id, &result, Utc::now()).await?;
            results.push(TestResult { channel: c.id, name: c.name, kind: c.kind, ok: error.is_none(), error });
        }
        Ok(results)
    }
}
