//! Reaching the daemon beyond loopback: refused in the clear, served over TLS with a
//! self-signed certificate the CLI is told to trust (`--ca` / `BOSUN_CA`), or behind a
//! proxy that serves HTTPS.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::harness::World;

/// A self-signed certificate for `localhost` and 127.0.0.1 made by openssl, as a user
/// would make one (`basicConstraints CA:FALSE`: webpki does not accept a CA
/// certificate as a server's own). Returns (cert, key).
fn self_signed(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}-key.pem")));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs (.ci/run installs it)");
    assert!(out.status.success(), "openssl failed: {}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn beyond_loopback_in_the_clear_is_refused_before_anything_starts() {
    let w = World::new("app");
    let data = w.path("fresh-data");
    let out = w.try_bosun(&["serve", "--addr", "0.0.0.0:0", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:")
            && err.contains("without TLS")
            && err.contains("--tls-cert")
            && err.contains("--behind-proxy"),
        "{err}"
    );
    assert!(!data.exists(), "nothing was created for a daemon that refused to start");

    // A certificate whose key is another's is refused with the reason, not at the first
    // connection.
    let (cert, _) = self_signed(&w.path("shared"), "one");
    let (_, other_key) = self_signed(&w.path("shared"), "two");
    let out = w.try_bosun(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        other_key.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("do not go together"), "{}", stderr(&out));
    let out = w.try_bosun(&["serve", "--data-dir", data.to_str().unwrap(), "--tls-cert", "/nonexistent.pem", "--tls-key", "/x.pem"]);
    assert!(stderr(&out).contains("cannot read the TLS certificate /nonexistent.pem: no such file"), "{}", stderr(&out));
}

#[test]
fn https_end_to_end_with_a_self_signed_certificate() {
    let mut w = World::new("app");
    let (cert, key) = self_signed(&w.path("shared"), "daemon");
    w.agent("writer", None, &[json!({"write": {"path": "hello.txt", "content": "hi\n"}})]);
    // Every CLI call of the world trusts the certificate through BOSUN_CA.
    w.env.push(("BOSUN_CA".into(), cert.to_str().unwrap().into()));
    w.start(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    assert!(w.url.starts_with("https://127.0.0.1:"), "serve prints its https URL: {}", w.url);

    let id = w.add("Say hello", "writer");
    w.wait_status(id, "review");
    assert!(w.bosun(&["diff", &id.to_string()]).contains("+hi"), "the diff comes over HTTPS");

    // Without trusting the certificate, the CLI says what to do; over http:// it says the
    // daemon speaks HTTPS.
    let mut bare = Command::new(crate::harness::BOSUN);
    bare.args(["--server", &w.url, "ls"]).env_remove("BOSUN_CA").env("HOME", w.path("home")).env("BOSUN_URL", &w.url);
    let out = bare.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not signed by a CA this client trusts") && stderr(&out).contains("--ca FILE"), "{}", stderr(&out));
    let plain = w.url.replace("https://", "http://");
    let out = w.try_bosun(&["--server", &plain, "ls"]);
    assert!(stderr(&out).contains("did not answer in plain HTTP: if the daemon serves HTTPS, use https://"), "{}", stderr(&out));
    let out = w.try_bosun(&["--ca", "/nonexistent.pem", "ls"]);
    assert!(stderr(&out).contains("--ca /nonexistent.pem: no such file"), "{}", stderr(&out));

    // The browser is told to keep to HTTPS.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let hsts = rt.block_on(async {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
        let http = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
        let resp = http.get(format!("{}/", w.url.replace("127.0.0.1", "localhost"))).send().await.unwrap();
        resp.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_string())
    });
    assert_eq!(hsts.as_deref(), Some("max-age=31536000"));

    // A browser paired over HTTPS gets a `Secure` session cookie.
    let pairing = w.json(&["pair"]);
    let url = pairing["url"].as_str().unwrap();
    assert!(url.starts_with("https://"), "{url}");
    let cookie = rt.block_on(async {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
        let http = reqwest::Client::builder().add_root_certificate(ca).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        // The link's button posts it (its GET only shows the button).
        let resp = http.post(url).send().await.unwrap();
        resp.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_string())
    });
    let cookie = cookie.expect("the pairing set a cookie");
    assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
}

#[test]
fn a_token_never_crosses_the_network_in_the_clear() {
    let w = World::new("app");
    let mut cmd = Command::new(crate::harness::BOSUN);
    cmd.args(["--server", "http://box.invalid:7777", "ls"]).env("BOSUN_TOKEN", "bosun_x").env("HOME", w.path("home"));
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("refusing to send a token to box.invalid over plain http://"), "{}", stderr(&out));
}

#[test]
fn behind_a_proxy_it_listens_beyond_loopback_without_tls() {
    let mut w = World::new("app");
    w.start_on("0.0.0.0:0", &["--behind-proxy"], &[]);
    assert!(w.url.starts_with("http://0.0.0.0:"), "{}", w.url);
    assert!(w.bosun(&["ls"]).contains("no tasks"));
}
