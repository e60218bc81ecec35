//! `bosun token create --name NAME --scope SCOPE`: a named API token for a script, a
//! CI job or another machine. The secret is printed once; the daemon keeps its hash.

use bosun_api::NewTokenRequest;

use crate::Failure;
use crate::client::Ctx;

/// Manage API tokens (`bosun devices` lists them, `bosun devices revoke` ends one).
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Create a token; its secret is printed once.
    Create(CreateArgs),
}

#[derive(clap::Args)]
struct CreateArgs {
    /// Its name, unique among tokens; what it does is recorded under it.
    #[arg(long)]
    name: String,
    /// read (see everything), operate (also add, say, approve, merge...) or admin
    /// (also tokens, devices, notification channels).
    #[arg(long, default_value = "operate")]
    scope: String,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let Sub::Create(c) = args.command;
    c.scope.parse::<bosun_core::auth::Scope>()?;
    let created = ctx.api.create_token(&NewTokenRequest { name: c.name, scope: c.scope }).await?;
    if ctx.json {
        ctx.print_json(&created);
        return Ok(());
    }
    eprintln!("token `{}` ({}) created; it is shown this once:", created.device.name, created.device.scope);
    println!("{}", created.token);
    Ok(())
}
