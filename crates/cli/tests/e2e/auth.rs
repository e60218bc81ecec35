//! Authentication end to end, real binary and real HTTP: every route of the OpenAPI
//! document refuses a request without a credential, a foreign Host, a cross-origin
//! cookie and a `text/plain` simple request; each scope is allowed exactly its verbs;
//! failed attempts are rate-limited; the CLI finds the daemon's token with no flag;
//! and what a token does is recorded under its name, whatever the body claims.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::harness::{BOSUN, World, authed, wait_for};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A new token of `scope`, made with the CLI.
fn token(w: &World, name: &str, scope: &str) -> String {
    let made = w.json(&["token", "create", "--name", name, "--scope", scope]);
    assert_eq!(made["device"]["scope"], scope);
    made["token"].as_str().unwrap().to_string()
}

/// The scope this test expects a route to need (written out here, not taken from the
/// server: admin routes whatever the method, logging out for anyone, else GET reads).
fn needs(method: &str, path: &str) -> &'static str {
    let admin = ["/api/tokens", "/api/devices", "/api/pairings", "/api/notify", "/api/settings", "/api/sources"];
    if admin.iter().any(|a| path == *a || path.starts_with(&format!("{a}/"))) {
        "admin"
    } else if path == "/api/logout" || method == "get" {
        "read"
    } else {
        "operate"
    }
}

const PUBLIC: &[&str] = &["/api/health", "/api/login"];

fn rank(scope: &str) -> u8 {
    match scope {
        "read" => 0,
        "operate" => 1,
        "admin" => 2,
        other => panic!("unknown scope {other}"),
    }
}

/// Sends `method path` (`{id}` = 999999) with `auth` headers; the status (an event
/// stream's body is not read).
async fn send(http: &reqwest::Client, url: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> u16 {
    let full = format!("{url}{}", path.replace("{id}", "999999"));
    let mut req = match method {
        "get" => http.get(&full),
        "post" => http.post(&full).json(&json!({})),
        "delete" => http.delete(&full).json(&json!({})),
        other => panic!("unexpected method {other}"),
    };
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap().status().as_u16()
}

/// A browser session cookie, from a pairing link (`bosun pair --json`), as a phone
/// gets it; the daemon's log never shows the link's code.
async fn paired_cookie(w: &World, scope: &str) -> String {
    let url = w.json(&["pair", "--scope", scope])["url"].as_str().unwrap().to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // GET (what a link preview does) only shows the button; its POST logs in.
    let shown = http.get(&url).send().await.unwrap();
    assert_eq!(shown.status().as_u16(), 200);
    assert!(shown.headers().get("set-cookie").is_none(), "a GET of the link logs nothing in");
    let resp = http.post(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    let set = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"), "{set}");
    let code = url.split("code=").nth(1).unwrap();
    // The exchange's own log line (in the request's span, which names the path) is there...
    let log = wait_for("the pairing in the daemon's log", || {
        std::fs::read_to_string(w.path("daemon.log")).ok().filter(|l| l.contains("paired a device"))
    });
    // ...and the code is not.
    assert!(log.contains("path=\"/pair\"") && !log.contains(code), "the daemon's log shows the pairing code");
    set.split(';').next().unwrap().to_string()
}

#[test]
fn every_route_needs_a_credential_and_its_scope() {
    let mut w = World::new("app");
    w.start(&[]);
    let url = w.url.clone();
    let tokens: Vec<(&str, String)> = ["read", "operate", "admin"].iter().map(|s| (*s, token(&w, &format!("t-{s}"), s))).collect();
    let devices_before = w.json(&["devices"]);
    runtime().block_on(async {
        // An admin browser session: whatever refuses it below, it is not its scope.
        let cookie = paired_cookie(&w, "admin").await;
        let anon = reqwest::Client::new();
        let doc: Value = anon.get(format!("{url}/api/openapi.json")).send().await.unwrap().json().await.unwrap();
        let mut routes = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys().filter(|m| ["get", "post", "delete", "put", "patch"].contains(&m.as_str())) {
                routes.push((method.clone(), path.clone()));
            }
        }
        assert!(routes.len() > 30, "{routes:?}");
        for (method, path) in &routes {
            let public = PUBLIC.contains(&path.as_str());
            let none = send(&anon, &url, method, path, &[]).await;
            if public {
                assert_ne!(none, 401, "{method} {path} is public");
            } else {
                assert_eq!(none, 401, "{method} {path} without a credential");
            }
            let admin = authed(&tokens[2].1);
            let port = url.rsplit(':').next().unwrap();
            let foreign = send(&admin, &url, method, path, &[("host", &format!("evil.example:{port}"))]).await;
            assert_eq!(foreign, 403, "{method} {path} naming a foreign host");
            if method != "get" {
                // A page on another site, with the user's cookie: refused.
                let cross = send(&anon, &url, method, path, &[("cookie", &cookie), ("origin", "http://evil.example")]).await;
                assert_eq!(cross, 403, "{method} {path}: cross-origin with a cookie");
                // A `text/plain` "simple request" (no CORS preflight), no credential: refused.
                let full = format!("{url}{}", path.replace("{id}", "999999"));
                let plain = anon
                    .request(method.to_uppercase().parse().unwrap(), &full)
                    .header("content-type", "text/plain")
                    .body(r#"{"title":"simple","token":"x"}"#)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                assert_eq!(plain, 415, "{method} {path}: a text/plain simple request is refused before anything reads it");
            }
            for (scope, secret) in &tokens {
                let status = send(&authed(secret), &url, method, path, &[]).await;
                let allowed = public || rank(scope) >= rank(needs(method, path));
                if allowed {
                    assert!(status != 401 && status != 403, "{method} {path} with a {scope} token: {status}");
                } else {
                    assert_eq!(status, 403, "{method} {path} with a {scope} token");
                }
            }
        }
        // A 403 for a scope says which one is needed.
        let body: Value =
            authed(&tokens[0].1).post(format!("{url}/api/tasks")).json(&json!({"title": "x"})).send().await.unwrap().json().await.unwrap();
        assert_eq!(body["error"]["message"], "this needs the `operate` scope; `t-read` has `read`");
    });
    assert_eq!(w.json(&["ls"]).as_array().unwrap().len(), 0, "nothing refused (and no scope too small) created a task");
    let devices_after: Vec<Value> = w.json(&["devices"]).as_array().unwrap().iter().filter(|d| d["kind"] == "token").cloned().collect();
    let tokens_before: Vec<Value> = devices_before.as_array().unwrap().to_vec();
    let ids = |v: &[Value]| v.iter().map(|d| d["id"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(ids(&devices_after), ids(&tokens_before), "no token was made or revoked");
}

#[test]
fn a_browser_session_changes_state_only_from_the_boards_own_page() {
    let mut w = World::new("app");
    w.agent("quick", None, &[json!({"say": "ok"})]);
    w.start(&[]);
    let url = w.url.clone();
    runtime().block_on(async {
        let cookie = paired_cookie(&w, "operate").await;
        let http = reqwest::Client::new();
        let add = |origin: Option<&str>| {
            let mut req =
                http.post(format!("{url}/api/tasks")).header("cookie", &cookie).json(&json!({"title": "from a page", "agent": "quick"}));
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            req
        };
        let cross = add(Some("http://evil.example")).send().await.unwrap();
        assert_eq!(cross.status().as_u16(), 403, "cross-origin with the cookie");
        let bare = add(None).send().await.unwrap();
        assert_eq!(bare.status().as_u16(), 403, "a cookie without an Origin");
        // A `text/plain` simple request (no preflight), with or without the cookie.
        for with_cookie in [false, true] {
            let mut req = http.post(format!("{url}/api/tasks")).header("content-type", "text/plain").body(r#"{"title":"simple"}"#);
            if with_cookie {
                req = req.header("cookie", &cookie).header("origin", url.as_str());
            }
            let status = req.send().await.unwrap().status().as_u16();
            assert_eq!(status, 415, "a text/plain request is refused");
        }
        assert_eq!(w.json(&["ls"]).as_array().unwrap().len(), 0, "nothing was created");
        // The board's own page, with the cookie, may.
        let own = add(Some(url.as_str())).send().await.unwrap();
        assert_eq!(own.status().as_u16(), 201);
        // Reading with the cookie needs no Origin (EventSource, navigation).
        let list = http.get(format!("{url}/api/tasks")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(list.status().as_u16(), 200);
    });
    let tasks = w.json(&["ls"]);
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    assert_eq!(tasks[0]["title"], "from a page");
}

#[test]
fn failed_attempts_are_rate_limited_and_the_cli_says_what_to_do() {
    let mut w = World::new("app");
    w.start(&[]);
    let url = w.url.clone();
    let out = w.try_bosun(&["--token", "bosun_wrong", "ls"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("refused the token from --token") && stderr.contains("bosun token create"), "{stderr}");
    let good = w.token();
    runtime().block_on(async {
        let bad = authed("bosun_guess");
        // One failure so far (the CLI's); nine more are still answered 401.
        for i in 1..10 {
            let status = bad.get(format!("{url}/api/tasks")).send().await.unwrap().status().as_u16();
            assert_eq!(status, 401, "attempt {i}");
        }
        let resp = bad.get(format!("{url}/api/tasks")).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 429);
        let retry: u64 = resp.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        // A good token still works from this address: a stale token (or a guesser)
        // cannot lock the owner out; more guesses keep getting 429.
        let status = authed(&good).get(format!("{url}/api/tasks")).send().await.unwrap().status().as_u16();
        assert_eq!(status, 200);
        assert_eq!(bad.get(format!("{url}/api/tasks")).send().await.unwrap().status().as_u16(), 429);
        // Logging in with a pasted token: a wrong one is refused the same way, a good one works.
        let login = |token: String| reqwest::Client::new().post(format!("{url}/api/login")).json(&json!({"token": token})).send();
        assert_eq!(login("bosun_guess".into()).await.unwrap().status().as_u16(), 429);
        assert_eq!(login(good.clone()).await.unwrap().status().as_u16(), 200);
    });
}

#[test]
fn what_a_token_does_is_recorded_under_its_name_whatever_the_body_says() {
    let mut w = World::new("app");
    w.agent("slow", Some(1), &[json!({"wait_file": w.path("shared/never")})]);
    w.start(&[]);
    let busy = w.add("Takes the only slot", "slow");
    w.wait_status(busy, "running");
    let queued = w.add("Waits for the slot", "slow");
    let ci = token(&w, "ci", "operate");
    let mut cmd = Command::new(BOSUN);
    cmd.args(["say", &queued.to_string(), "from the pipeline"]).env("BOSUN_URL", &w.url).env("BOSUN_TOKEN", &ci);
    let out = cmd.env("HOME", w.path("home")).env_remove("BOSUN_DATA_DIR").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let url = w.url.clone();
    runtime().block_on(async {
        let resp = authed(&ci)
            .post(format!("{url}/api/tasks/{queued}/say"))
            .json(&json!({"text": "claiming to be someone else", "from": "mallory"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
    });
    let said: Vec<(String, String)> = w
        .events(queued)
        .into_iter()
        .filter(|e| e["type"] == "message")
        .map(|e| (e["text"].as_str().unwrap().to_string(), e["source"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        said,
        [("from the pipeline".to_string(), "human:ci".to_string()), ("claiming to be someone else".to_string(), "human:ci".to_string())]
    );
    // A revoked token is refused from its next request on, and its open event stream ends.
    let id = w.json(&["devices"]).as_array().unwrap().iter().find(|d| d["name"] == "ci").unwrap()["id"].as_i64().unwrap();
    runtime().block_on(async {
        let resp = authed(&ci).get(format!("{url}/api/events")).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "the stream is open");
        let mut stream = resp.bytes_stream();
        w.bosun(&["devices", "revoke", &id.to_string()]);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
                if chunk.is_err() {
                    break;
                }
            }
        });
        assert!(ended.await.is_ok(), "the revoked token's event stream ended");
    });
    let out =
        Command::new(BOSUN).args(["ls"]).env("BOSUN_URL", &w.url).env("BOSUN_TOKEN", &ci).env("HOME", w.path("home")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the token from BOSUN_TOKEN"));
    let again = w.try_bosun(&["devices", "revoke", &id.to_string()]);
    assert!(String::from_utf8_lossy(&again.stderr).contains(&format!("no token or device with id {id}")), "{again:?}");
    let dup = w.try_bosun(&["token", "create", "--name", "t1", "--scope", "read"]);
    assert!(dup.status.success());
    let dup = w.try_bosun(&["token", "create", "--name", "t1", "--scope", "read"]);
    assert!(String::from_utf8_lossy(&dup.stderr).contains("a token named `t1` already exists"), "{dup:?}");
    let typo = w.try_bosun(&["token", "create", "--name", "t2", "--scope", "admn"]);
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean `admin`?"), "{typo:?}");
}

/// A daemon in the default data dir of a sealed HOME, and the CLI with no flag or
/// variable naming a token or a data dir: it finds the token where the daemon put it.
#[test]
fn the_cli_works_with_no_flags_against_the_default_data_dir() {
    let home = tempfile::tempdir().unwrap();
    let sealed = |cmd: &mut Command| {
        cmd.env("HOME", home.path())
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("BOSUN_DATA_DIR")
            .env_remove("BOSUN_CONFIG_DIR")
            .env_remove("BOSUN_TOKEN")
            .env("GIT_CONFIG_GLOBAL", "/dev/null");
    };
    let mut serve = Command::new(BOSUN);
    serve.args(["serve", "--addr", "127.0.0.1:0"]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    sealed(&mut serve);
    let mut daemon = Killed(serve.spawn().unwrap());
    let mut lines = BufReader::new(daemon.0.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("bosun serving ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    let token = home.path().join(".local/share/bosun/token");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&token).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the token file is the user's alone");
    let cli = |args: &[&str]| {
        let mut cmd = Command::new(BOSUN);
        cmd.args(args).env("BOSUN_URL", &url);
        sealed(&mut cmd);
        cmd.output().unwrap()
    };
    let out = wait_for("the CLI to list tasks", || Some(cli(&["ls"])).filter(|o| o.status.success()));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "no tasks");
    let devices = cli(&["devices", "--json"]);
    let devices: Value = serde_json::from_slice(&devices.stdout).unwrap();
    assert_eq!(devices[0]["local"], true);
    assert_eq!(devices[0]["current"], true);
    // Elsewhere (another HOME), nothing is found, and the CLI says what to do.
    let other = tempfile::tempdir().unwrap();
    let out = Command::new(BOSUN)
        .args(["ls"])
        .env("BOSUN_URL", &url)
        .env("HOME", other.path())
        .env_remove("XDG_DATA_HOME")
        .env_remove("BOSUN_DATA_DIR")
        .env_remove("BOSUN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("bosun: no token: ") && stderr.contains("does not exist") && stderr.contains("--token"), "{stderr}");
    drop(daemon.0.kill());
}

/// Kills the child when dropped (a failed assertion leaves no daemon behind).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
