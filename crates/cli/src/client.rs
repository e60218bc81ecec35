//! The HTTP client every verb uses: one place that knows the server's address, how
//! errors come back (`{"error": {"message"}}`), and how task ids are written.

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Failure;

pub struct Ctx {
    pub base: String,
    pub json: bool,
    pub http: reqwest::Client,
}

impl Ctx {
    pub fn new(server: &str, json: bool) -> Result<Ctx, Failure> {
        let base = server.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Failure(format!("--server must be an http:// or https:// URL, not {server:?}")));
        }
        let http = reqwest::Client::builder().build().map_err(|e| Failure(format!("cannot build an HTTP client: {e}")))?;
        Ok(Ctx { base, json, http })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&impl Serialize>) -> Result<reqwest::Response, Failure> {
        let mut req = self.http.request(method, self.url(path)).header("accept", "application/json");
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| self.unreachable(e))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(error_from(resp).await)
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        let resp = self.send(Method::GET, path, None::<&()>).await?;
        resp.json().await.map_err(|e| Failure(format!("unexpected answer from the daemon: {e}")))
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T, Failure> {
        let resp = self.send(Method::POST, path, Some(body)).await?;
        resp.json().await.map_err(|e| Failure(format!("unexpected answer from the daemon: {e}")))
    }

    pub fn unreachable(&self, e: reqwest::Error) -> Failure {
        if e.is_connect() {
            Failure(format!("cannot reach the bosun daemon at {}: is `bosun serve` running? (set --server or BOSUN_URL)", self.base))
        } else {
            Failure(format!("request to {} failed: {e}", self.base))
        }
    }

    /// Prints `value` as JSON on one line.
    pub fn print_json(&self, value: &impl Serialize) {
        println!("{}", serde_json::to_string(value).expect("values serialize"));
    }
}

/// Decodes a successful answer, or turns an error answer into a [`Failure`].
pub async fn json_or_error<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, Failure> {
    if !resp.status().is_success() {
        return Err(error_from(resp).await);
    }
    resp.json().await.map_err(|e| Failure(format!("unexpected answer from the daemon: {e}")))
}

async fn error_from(resp: reqwest::Response) -> Failure {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.pointer("/error/message").and_then(|m| m.as_str()).map(str::to_string));
    match (message, status) {
        (Some(m), _) => Failure(m),
        (None, StatusCode::NOT_FOUND) => Failure("not found (is the server a bosun daemon?)".into()),
        (None, s) => Failure(format!("the daemon answered {s}")),
    }
}

/// Parses `12`, `T-12`, `t12` or `#12`.
pub fn parse_task_id(s: &str) -> Result<i64, String> {
    let digits = s.trim().trim_start_matches('#');
    let digits = digits.strip_prefix("T-").or_else(|| digits.strip_prefix("t-")).unwrap_or(digits);
    let digits = digits.strip_prefix('T').or_else(|| digits.strip_prefix('t')).unwrap_or(digits);
    match digits.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a task id (like 12 or T-12)")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_task_id;

    #[test]
    fn task_ids() {
        for s in ["12", "T-12", "t-12", "#12", "T12"] {
            assert_eq!(parse_task_id(s), Ok(12), "{s}");
        }
        for s in ["", "T-", "abc", "-3", "0", "12a"] {
            assert!(parse_task_id(s).is_err(), "{s}");
        }
    }
}
