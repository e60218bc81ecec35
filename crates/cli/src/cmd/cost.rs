//! `bosun cost [--by task|profile|repo|model|day|month] [--since 7d]`: what was spent,
//! from the ledger (one row per usage report), grouped and summed.

use bosun_api::cost::CostBy;
use chrono::{DateTime, Utc};

use crate::Failure;
use crate::client::Ctx;

/// What agents spent, from the cost ledger.
#[derive(clap::Args)]
pub struct Args {
    /// Group by task, profile, repo, model, day or month.
    #[arg(long, default_value = "day", value_parser = ["task", "profile", "repo", "model", "day", "month"])]
    by: String,
    /// Only what was spent in the last N days (`7d`) or hours (`12h`), or since a date
    /// (`2026-03-01`).
    #[arg(long, value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
}

/// `7d`, `12h`, or a date (midnight UTC).
pub fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    let unit = |n: &str, secs: i64| {
        n.parse::<i64>().ok().filter(|n| *n >= 0).map(|n| Utc::now() - chrono::Duration::seconds(n.saturating_mul(secs)))
    };
    let parsed = match s.char_indices().last() {
        Some((i, 'd')) => unit(&s[..i], 86_400),
        Some((i, 'h')) => unit(&s[..i], 3_600),
        _ => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc()),
    };
    parsed.ok_or_else(|| format!("{s:?} is not a time: use 7d, 12h or a date like 2026-03-01"))
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let by: CostBy = serde_json::from_value(serde_json::Value::from(args.by.as_str())).map_err(|e| Failure(e.to_string()))?;
    let body = ctx.api.costs(by, args.since).await?;
    if ctx.json {
        ctx.print_json(&body);
        return Ok(());
    }
    for r in &body.rows {
        let key = match (by, &r.key) {
            (CostBy::Task, Some(k)) => format!("T-{k}"),
            (_, Some(k)) => k.clone(),
            (_, None) => "-".into(),
        };
        let tokens = format!("{} in / {} out / {} cached", r.input_tokens, r.output_tokens, r.cached_tokens);
        println!("{:<40} ${:>9.4}  {tokens}", crate::output::clip(&key, 40), r.cost_usd);
    }
    println!("{:<40} ${:>9.4}", "total", body.total_usd);
    Ok(())
}
