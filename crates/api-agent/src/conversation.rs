//! The conversation a session holds: saved after every change (`<state-dir>/<id>.json`,
//! written to a temporary file and renamed), so `bosun reply` resumes it with the new
//! messages; and compacted near the model's context window, older tool results first.

use std::path::{Path, PathBuf};

use bosun_model_client::Item;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Conversation {
    pub session: String,
    pub items: Vec<Item>,
    #[serde(skip)]
    file: PathBuf,
}

/// The tool results compaction never touches: the latest few.
const KEEP_RECENT: usize = 4;
/// A tool result shorter than this is left as it is.
const WORTH_COMPACTING: usize = 200;

impl Conversation {
    pub fn new(state_dir: &Path) -> Conversation {
        let session = format!("api-{}", uuid::Uuid::new_v4());
        let file = state_dir.join(format!("{session}.json"));
        Conversation { session, items: Vec::new(), file }
    }

    /// The saved conversation of `session`.
    pub fn load(state_dir: &Path, session: &str) -> Result<Conversation, String> {
        let ok = !session.is_empty() && session.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(format!("`{session}` is not a session of this runtime"));
        }
        let file = state_dir.join(format!("{session}.json"));
        let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read the saved conversation {}: {e}", file.display()))?;
        let mut c: Conversation =
            serde_json::from_str(&text).map_err(|e| format!("the saved conversation {} is damaged: {e}", file.display()))?;
        c.file = file;
        c.answer_unanswered("the run ended before this call ran");
        Ok(c)
    }

    /// Gives every tool call without a result an error result saying `why` (the APIs
    /// refuse a conversation with unanswered calls: a run stopped between a call and
    /// its result, or interrupted before the rest of a turn's calls).
    pub fn answer_unanswered(&mut self, why: &str) {
        let answered: std::collections::HashSet<String> = self
            .items
            .iter()
            .filter_map(|i| match i {
                Item::ToolResult { call_id, .. } => Some(call_id.clone()),
                _ => None,
            })
            .collect();
        let mut at = 0;
        while at < self.items.len() {
            if let Item::Assistant { calls, .. } = &self.items[at] {
                let missing: Vec<Item> = calls
                    .iter()
                    .filter(|c| !answered.contains(&c.id))
                    .map(|c| Item::ToolResult {
                        call_id: c.id.clone(),
                        name: c.name.clone(),
                        output: format!("error: {why}"),
                        is_error: true,
                    })
                    .collect();
                // After the results it has, before what came next.
                let mut end = at + 1;
                while matches!(self.items.get(end), Some(Item::ToolResult { .. })) {
                    end += 1;
                }
                let n = missing.len();
                self.items.splice(end..end, missing);
                at = end + n;
            } else {
                at += 1;
            }
        }
    }

    pub fn save(&self) -> Result<(), String> {
        let tmp = self.file.with_extension("json.tmp");
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        }
        let text = serde_json::to_string(self).map_err(|e| e.to_string())?;
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.file))
            .map_err(|e| format!("cannot save the conversation: {e}"))
    }

    pub fn push(&mut self, item: Item) {
        self.items.push(item);
    }

    /// About how many tokens the conversation takes (4 bytes a token).
    pub fn estimate(&self, system: &str) -> u64 {
        let items: usize = self
            .items
            .iter()
            .map(|i| match i {
                Item::User { text } => text.len(),
                Item::Assistant { text, calls } => text.len() + calls.iter().map(|c| c.arguments.len() + c.name.len()).sum::<usize>(),
                Item::ToolResult { output, .. } => output.len(),
            })
            .sum();
        ((system.len() + items) / 4) as u64
    }

    /// Replaces the output of older tool results with a note; returns how many were
    /// compacted and the bytes dropped (0, 0: nothing to compact).
    pub fn compact(&mut self) -> (usize, usize) {
        let results: Vec<usize> =
            self.items.iter().enumerate().filter(|(_, i)| matches!(i, Item::ToolResult { .. })).map(|(n, _)| n).collect();
        let older = results.len().saturating_sub(KEEP_RECENT);
        let (mut count, mut bytes) = (0, 0);
        for &n in &results[..older] {
            if let Item::ToolResult { output, .. } = &mut self.items[n]
                && output.len() >= WORTH_COMPACTING
            {
                bytes += output.len();
                count += 1;
                *output = format!(
                    "[compacted by bosun: {} bytes of this earlier tool output were dropped to fit the context window]",
                    output.len()
                );
            }
        }
        (count, bytes)
    }
}

/// The context window of a model by its name, when bosun knows it.
pub fn known_window(model: &str) -> u64 {
    let m = model.to_ascii_lowercase();
    if m.contains("claude") {
        200_000
    } else if m.contains("gemini") || m.contains("gpt-4.1") {
        1_000_000
    } else if m.contains("gpt-5") {
        400_000
    } else if m.contains("gpt-4o") || m.starts_with("o3") || m.starts_with("o4") {
        128_000
    } else {
        32_768
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_and_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Conversation::new(dir.path());
        c.push(Item::User { text: "hi".into() });
        for n in 0..6 {
            c.push(Item::ToolResult { call_id: format!("c{n}"), name: "read".into(), output: "x".repeat(1000), is_error: false });
        }
        c.save().unwrap();
        let mut back = Conversation::load(dir.path(), &c.session).unwrap();
        assert_eq!(back.items, c.items);
        assert_eq!(back.compact(), (2, 2000));
        assert_eq!(back.compact(), (0, 0), "compacted once");
        assert!(Conversation::load(dir.path(), "../x").is_err());
    }

    #[test]
    fn unanswered_calls_get_results_where_they_belong() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Conversation::new(dir.path());
        let call = |id: &str| bosun_model_client::ToolCall { id: id.into(), name: "read".into(), arguments: "{}".into() };
        c.push(Item::Assistant { text: String::new(), calls: vec![call("a"), call("b")] });
        c.push(Item::ToolResult { call_id: "a".into(), name: "read".into(), output: "ok".into(), is_error: false });
        c.push(Item::User { text: "next".into() });
        c.save().unwrap();
        let back = Conversation::load(dir.path(), &c.session).unwrap();
        assert_eq!(back.items.len(), 4);
        assert!(matches!(&back.items[2], Item::ToolResult { call_id, is_error: true, .. } if call_id == "b"));
        assert!(matches!(&back.items[3], Item::User { .. }));
    }
}
