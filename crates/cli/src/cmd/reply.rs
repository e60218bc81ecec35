//! `bosun reply ID TEXT [--resolve]`: feedback on a task in review, or more to do for
//! a stopped, interrupted or failed one; the same agent session continues in the same
//! worktree. `--resolve` asks it to resolve the conflicts a rebase left there
//! (otherwise such a worktree is refused). `--file src/a.rs:40` makes the text a
//! review comment on that line (`:40-44` a range), quoted with its file and line.

use bosun_api::SayRequest;
use bosun_core::review::{LineComment, new_side_lines};

use crate::Failure;
use crate::client::{Ctx, parse_task_id};
use crate::output;

/// Continue a task in review, stopped, interrupted or failed: its agent session
/// resumes with your message.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// The message (feedback, or what to do next).
    text: String,
    /// The agent is to resolve the conflicts a rebase or merge left in the worktree.
    #[arg(long)]
    resolve: bool,
    /// The message is a comment on this line of a changed file: `src/a.rs:40`, or a
    /// range `src/a.rs:40-44`.
    #[arg(long, value_name = "FILE:LINE", value_parser = parse_place)]
    file: Option<(String, u32, Option<u32>)>,
    /// Run it with this model from now on.
    #[arg(long)]
    model: Option<String>,
}

/// `path:40` or `path:40-44` (the path may itself hold colons: the last one counts).
fn parse_place(s: &str) -> Result<(String, u32, Option<u32>), String> {
    let bad = || format!("`{s}` is not FILE:LINE (like src/a.rs:40 or src/a.rs:40-44)");
    let (file, lines) = s.rsplit_once(':').ok_or_else(bad)?;
    let (start, end) = match lines.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (lines, None),
    };
    let line: u32 = start.parse().map_err(|_| bad())?;
    let end = end.map(|e| e.parse::<u32>().map_err(|_| bad())).transpose()?;
    if file.is_empty() || line == 0 || end.is_some_and(|e| e < line) {
        return Err(bad());
    }
    Ok((file.to_owned(), line, end))
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let req = match args.file {
        Some((file, line, end_line)) => {
            // The commented lines as the branch has them, quoted for the agent (when the diff shows them).
            let quote = match ctx.api.file_diff(args.id, &file).await {
                Ok(d) => Some(new_side_lines(&d.diff, line, end_line.unwrap_or(line))).filter(|q| !q.is_empty()),
                Err(_) => None,
            };
            let comment = LineComment { file, line, end_line, quote, text: args.text };
            SayRequest { text: String::new(), resolve: args.resolve, comments: vec![comment], model: args.model, ..Default::default() }
        }
        None => SayRequest { text: args.text, resolve: args.resolve, model: args.model, ..Default::default() },
    };
    let task = ctx.api.reply(args.id, &req).await?;
    if ctx.json {
        ctx.print_json(&task);
    } else {
        println!("{}", output::next_run(&task, true));
    }
    Ok(())
}
