//! `bosun pair [--name NAME] [--scope SCOPE]`: a pairing link for a phone (or any
//! browser), shown as a QR code in the terminal and as a URL on a line of its own.
//! Opening it once, within five minutes, logs that browser in.

use bosun_api::PairingRequest;
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

use crate::Failure;
use crate::client::Ctx;

/// Pair a phone or browser: prints a QR code and the link (single use, valid 5 minutes).
#[derive(clap::Args)]
pub struct Args {
    /// The device's name in `bosun devices` (default: from its browser).
    #[arg(long)]
    name: Option<String>,
    /// What the device may do: read, operate (default) or admin.
    #[arg(long)]
    scope: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    if let Some(scope) = &args.scope {
        scope.parse::<bosun_core::auth::Scope>()?;
    }
    let pairing = ctx.api.pair(&PairingRequest { name: args.name, scope: args.scope }).await?;
    if ctx.json {
        ctx.print_json(&serde_json::json!({"url": pairing.url, "expires_at": pairing.expires_at, "scope": pairing.scope}));
        return Ok(());
    }
    let qr = QrCode::new(pairing.url.as_bytes()).map_err(|e| Failure(format!("cannot make a QR code of the link: {e}")))?;
    // Dark modules on a light background, with the quiet zone: what phone cameras read.
    let image = qr.render::<Dense1x2>().dark_color(Dense1x2::Light).light_color(Dense1x2::Dark).quiet_zone(true).build();
    println!("{image}");
    println!("Scan it with the phone's camera, or open this link on the device:");
    println!("{}", pairing.url);
    println!("valid 5 minutes, single use (scope: {})", pairing.scope);
    let host = pairing.url.split("://").nth(1).and_then(|rest| rest.split(['/', ':']).next()).unwrap_or("");
    if ["127.0.0.1", "localhost", "[", ""].contains(&host) {
        eprintln!(
            "note: the link names this machine's loopback address; another device reaches it only through a name it can resolve (BOSUN_PUBLIC_URL, behind a proxy or over TLS)"
        );
    }
    Ok(())
}
