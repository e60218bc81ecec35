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
    // On a terminal the colours are set (black on white), so the code reads the same on
    // a dark theme as on a light one.
    let image = qr.render::<Dense1x2>().dark_color(Dense1x2::Dark).light_color(Dense1x2::Light).quiet_zone(true).build();
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        for line in image.lines() {
            println!("\x1b[30;107m{line}\x1b[0m");
        }
    } else {
        println!("{image}");
    }
    println!("Scan it with the phone's camera, or open this link on the device:");
    println!("{}", pairing.url);
    println!("valid 5 minutes, single use (scope: {})", pairing.scope);
    let host = bosun_api::client::url_host(&pairing.url).unwrap_or_default();
    if crate::client::is_loopback(&host) {
        eprintln!(
            "note: the link names {host}, which another device cannot reach: start the daemon with BOSUN_PUBLIC_URL set to the address the phone uses (https://box.lan:7777, the Tailscale name)"
        );
    }
    Ok(())
}
