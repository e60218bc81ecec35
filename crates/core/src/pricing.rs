//! What tokens cost: a built-in price table per model (US dollars per million
//! tokens), overridable from `<config-dir>/prices.toml`, so every run has a cost even
//! when its CLI reports only tokens. Where a CLI reports its own cost, that one wins.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::task::Usage;

/// Dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Cached input; defaults to a tenth of `input`.
    #[serde(default)]
    pub cached: Option<f64>,
}

/// Model name prefixes and their prices, longest prefix first when looked up.
const BUILT_IN: &[(&str, Price)] = &[
    ("claude-opus", Price { input: 15.0, output: 75.0, cached: Some(1.5) }),
    ("claude-sonnet", Price { input: 3.0, output: 15.0, cached: Some(0.3) }),
    ("claude-haiku", Price { input: 1.0, output: 5.0, cached: Some(0.1) }),
    ("opus", Price { input: 15.0, output: 75.0, cached: Some(1.5) }),
    ("sonnet", Price { input: 3.0, output: 15.0, cached: Some(0.3) }),
    ("haiku", Price { input: 1.0, output: 5.0, cached: Some(0.1) }),
    ("gpt-5", Price { input: 1.25, output: 10.0, cached: Some(0.125) }),
    ("gpt-4.1", Price { input: 2.0, output: 8.0, cached: Some(0.5) }),
    ("o3", Price { input: 2.0, output: 8.0, cached: Some(0.5) }),
    ("o4-mini", Price { input: 1.1, output: 4.4, cached: Some(0.275) }),
    ("gemini-2.5-pro", Price { input: 1.25, output: 10.0, cached: Some(0.31) }),
    ("gemini-2.5-flash", Price { input: 0.3, output: 2.5, cached: Some(0.075) }),
    ("gemini", Price { input: 1.25, output: 10.0, cached: Some(0.31) }),
];

/// The table in use: the user's entries over the built-in ones.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    overrides: BTreeMap<String, Price>,
}

impl PriceTable {
    /// `prices.toml`: `[models."my-model"] input = 1.0, output = 2.0, cached = 0.1`.
    pub fn parse(text: &str) -> Result<PriceTable, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            models: BTreeMap<String, Price>,
        }
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        Ok(PriceTable { overrides: file.models })
    }

    /// The price of `model`: an exact override, else the longest matching prefix.
    pub fn price(&self, model: &str) -> Option<Price> {
        if let Some(p) = self.overrides.get(model) {
            return Some(*p);
        }
        let prefixed = self.overrides.iter().map(|(k, v)| (k.as_str(), *v)).chain(BUILT_IN.iter().copied());
        prefixed.filter(|(prefix, _)| model.starts_with(prefix)).max_by_key(|(prefix, _)| prefix.len()).map(|(_, p)| p)
    }

    /// The cost of `usage` on `model`, if its price is known. `input_tokens` are the
    /// uncached ones; `cached_tokens` are priced at the cached rate.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        let p = self.price(model)?;
        let cached = p.cached.unwrap_or(p.input / 10.0);
        Some((usage.input_tokens as f64 * p.input + usage.output_tokens as f64 * p.output + usage.cached_tokens as f64 * cached) / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, cached: u64) -> Usage {
        Usage { input_tokens: input, output_tokens: output, cached_tokens: cached, cost_usd: None }
    }

    #[test]
    fn built_in_prices_by_longest_prefix() {
        let t = PriceTable::default();
        let cost = t.cost("claude-sonnet-4-5", &usage(1_000_000, 1_000_000, 1_000_000)).unwrap();
        assert!((cost - 18.3).abs() < 1e-9, "{cost}");
        assert_eq!(t.price("gemini-2.5-flash-lite").unwrap().input, 0.3);
        assert_eq!(t.cost("some-local-model", &usage(1, 1, 0)), None);
    }

    #[test]
    fn overrides_win() {
        let t = PriceTable::parse("[models.\"gpt-5.5\"]\ninput = 2.0\noutput = 20.0\n[models.llama]\ninput = 0\noutput = 0\n").unwrap();
        assert_eq!(t.cost("gpt-5.5", &usage(500_000, 100_000, 0)), Some(3.0));
        assert_eq!(t.cost("llama3.1:8b", &usage(1000, 1000, 0)), Some(0.0), "a prefix override");
        assert!(PriceTable::parse("[models.x]\ninput = \"cheap\"").is_err());
    }
}
