//! `bosun open ID PATH [--run N] [--print]`: one deliverable of a task. Text is
//! printed (control characters shown as escapes on a terminal); anything else goes
//! to a pipe as it is, or, on a terminal, is saved to a temporary file and handed to
//! the desktop's opener (`xdg-open`, `open` on macOS).

use std::io::{IsTerminal, Write};

use crate::Failure;
use crate::client::{Ctx, parse_task_id};
use crate::output::visible;

/// Print or open one of a task's deliverables.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// The deliverable's path, as `bosun show` lists it.
    path: String,
    /// That run's delivery (default: the latest).
    #[arg(long, value_name = "RUN")]
    run: Option<i64>,
    /// Write the content to stdout whatever it is, never opening a viewer.
    #[arg(long)]
    print: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let content = ctx.api.deliverable(args.id, &args.path, args.run).await?;
    let text = content.content_type.starts_with("text/");
    let mut stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    if text && tty {
        let s = String::from_utf8_lossy(&content.bytes);
        print!("{}", visible(&s));
        if !s.ends_with('\n') {
            println!();
        }
        return Ok(());
    }
    if args.print || !tty {
        stdout.write_all(&content.bytes).map_err(|e| Failure(format!("cannot write the content: {e}")))?;
        return Ok(());
    }
    let name = args.path.rsplit('/').next().unwrap_or(&args.path);
    let file = std::env::temp_dir().join(format!("bosun-T{}-{name}", args.id));
    std::fs::write(&file, &content.bytes).map_err(|e| Failure(format!("cannot save {}: {e}", file.display())))?;
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    match std::process::Command::new(opener).arg(&file).stdin(std::process::Stdio::null()).status() {
        Ok(s) if s.success() => println!("opened {}", file.display()),
        _ => println!("saved {} (no `{opener}` to open it; --print writes it to stdout)", file.display()),
    }
    Ok(())
}
