//! `bosun devices [--json]` and `bosun devices revoke ID`: the tokens and paired
//! browsers that have access (name, scope, last seen), and revoking one.

use bosun_api::Device;
use chrono::Local;

use crate::Failure;
use crate::client::Ctx;
use crate::output::clip;

/// List the tokens and paired browsers that have access, or revoke one.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Revoke a token or a browser session: its next request is refused.
    Revoke(RevokeArgs),
}

#[derive(clap::Args)]
struct RevokeArgs {
    /// The id `bosun devices` shows.
    id: String,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    if let Some(Sub::Revoke(r)) = args.command {
        let id: i64 = r.id.trim().parse().map_err(|_| Failure(format!("`{}` is not a device id (a number; see `bosun devices`)", r.id)))?;
        let device = ctx.api.revoke_device(id).await?;
        if ctx.json {
            ctx.print_json(&device);
        } else {
            println!("revoked {} {} `{}`", device.kind.as_str(), device.id, clip(&device.name, 64));
        }
        return Ok(());
    }
    let devices = ctx.api.devices().await?;
    if ctx.json {
        ctx.print_json(&devices);
        return Ok(());
    }
    println!("{:<5} {:<8} {:<28} {:<8} {:<17} LAST SEEN", "ID", "KIND", "NAME", "SCOPE", "CREATED");
    for d in &devices {
        println!(
            "{:<5} {:<8} {:<28} {:<8} {:<17} {}",
            d.id,
            d.kind.as_str(),
            clip(&label(d), 28),
            d.scope.as_str(),
            d.created_at.with_timezone(&Local).format("%Y-%m-%d %H:%M"),
            d.last_seen_at.map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "never".into()),
        );
    }
    Ok(())
}

fn label(d: &Device) -> String {
    match (d.local, d.current) {
        (true, _) => format!("{} (this machine)", d.name),
        (false, true) => format!("{} (you)", d.name),
        _ => d.name.clone(),
    }
}
