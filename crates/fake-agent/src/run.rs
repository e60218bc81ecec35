//! Executing a script: every step does its work in the given cwd and prints its
//! events as single JSON lines, flushed one by one so a reader sees them live.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::script::{self, Step};

/// The agent's standard streams: the binary passes the real ones, tests pass buffers.
pub struct Io<'a> {
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
}

/// Largest `output` of a command's tool result, in bytes.
const MAX_OUTPUT: usize = 4096;

/// Parses and runs a script with `cwd` as the agent's working directory (the process
/// cwd is never changed). Returns the exit code: 0 at the end of the script, the
/// code of an `exit` step, 1 for `fail` or a failed file operation, 2 for a bad
/// script, 124 for a `wait_file` timeout.
pub fn run_script(text: &str, cwd: &Path, io: Io<'_>) -> i32 {
    match script::parse(text) {
        Ok(steps) => run_steps(&steps, cwd, io),
        Err(e) => {
            let _ = writeln!(io.stderr, "bosun-fake-agent: bad script: {e}");
            2
        }
    }
}

/// Runs already parsed steps; see [`run_script`].
pub fn run_steps(steps: &[Step], cwd: &Path, io: Io<'_>) -> i32 {
    let mut agent = Agent { io, cwd, prompt: "".into() };
    match steps.iter().try_for_each(|s| agent.step(s, None)) {
        Ok(()) => 0,
        Err(code) => code,
    }
}

/// `Err(code)` stops the script with that exit code.
type Flow = Result<(), i32>;

struct Agent<'a, 'c> {
    io: Io<'a>,
    cwd: &'c Path,
    /// The whole prompt once a `read_stdin` step has read it.
    prompt: Rc<str>,
}

impl Agent<'_, '_> {
    fn step(&mut self, step: &Step, i: Option<u64>) -> Flow {
        let prompt = Rc::clone(&self.prompt);
        let x = |s: &str| expand(s, i, &prompt);
        match step {
            Step::Emit(o) => self.emit(expand_value(&Value::Object(o.clone()), i, &prompt)),
            Step::Say(t) => self.say(x(t)),
            Step::Print(t) => self.line(&x(t)),
            Step::Stderr(t) => self.err(&x(t)),
            Step::Write(f) | Step::Append(f) => {
                let append = matches!(step, Step::Append(_));
                let (path, content) = (x(&f.path), x(&f.content));
                let (kind, name) = if append { ("edit", "Edit") } else { ("write", "Write") };
                self.emit(json!({"type": "tool_call", "kind": kind, "name": name, "path": path}))?;
                let full = self.cwd.join(&path);
                let existed = full.exists();
                let res = full.parent().map_or(Ok(()), fs::create_dir_all).and_then(|()| {
                    if append {
                        fs::OpenOptions::new().create(true).append(true).open(&full)?.write_all(content.as_bytes())
                    } else {
                        fs::write(&full, &content)
                    }
                });
                self.check(res, &path)?;
                let change = if existed { "modified" } else { "added" };
                self.emit(json!({"type": "file_change", "path": path, "change": change}))
            }
            Step::Delete(p) => {
                let path = x(p);
                let res = fs::remove_file(self.cwd.join(&path));
                self.check(res, &path)?;
                self.emit(json!({"type": "file_change", "path": path, "change": "deleted"}))
            }
            Step::Run(argv) => {
                let argv: Vec<String> = argv.iter().map(|a| x(a)).collect();
                if argv.is_empty() {
                    return self.fail("run: empty command", 2);
                }
                self.emit(json!({"type": "tool_call", "kind": "command", "name": "Bash", "command": argv.join(" ")}))?;
                let (code, output) = capture(self.cwd, &argv);
                self.emit(json!({"type": "tool_result", "kind": "command", "exit_code": code, "output": truncate(output)}))
            }
            Step::Commit(m) => {
                let msg = x(m);
                self.emit(json!({"type": "tool_call", "kind": "command", "name": "Bash", "command": format!("git add -A && git commit -q -m {msg}")}))?;
                let git = |args: &[&str]| {
                    let base = ["git", "-c", "user.name=fake-agent", "-c", "user.email=fake@localhost", "-c", "commit.gpgsign=false"];
                    capture(self.cwd, &base.iter().chain(args).map(|s| s.to_string()).collect::<Vec<_>>())
                };
                let (mut code, mut output) = git(&["add", "-A"]);
                if code == 0 {
                    (code, output) = git(&["commit", "-q", "-m", &msg]);
                }
                self.emit(json!({"type": "tool_result", "kind": "command", "exit_code": code, "output": truncate(output)}))
            }
            Step::SleepMs(ms) => {
                sleep(Duration::from_millis(*ms));
                Ok(())
            }
            Step::ReadStdin(false) | Step::IgnoreSigterm(false) | Step::ReadPrompt(false) => Ok(()),
            Step::ReadPrompt(true) => {
                let line = self.read_json_line()?;
                self.prompt = line["text"].as_str().unwrap_or_default().into();
                let first = self.prompt.lines().next().unwrap_or("").to_string();
                self.say(format!("prompt: {first}"))
            }
            Step::Ask(a) => {
                let mut ev = json!({"type": "approval_request", "id": a.id, "tool": a.tool});
                for (key, value) in [("kind", &a.kind), ("command", &a.command), ("path", &a.path)] {
                    if let Some(v) = value {
                        ev[key] = json!(x(v));
                    }
                }
                self.emit(ev)?;
                loop {
                    let line = self.read_json_line()?;
                    match line["type"].as_str() {
                        Some("approval") if line["id"] == json!(a.id) => {
                            return if line["allow"] == json!(true) {
                                self.say("approved".to_string())
                            } else {
                                self.say(format!("denied: {}", line["message"].as_str().unwrap_or("")))
                            };
                        }
                        Some("message") => self.say(format!("heard: {}", line["text"].as_str().unwrap_or("")))?,
                        _ => {}
                    }
                }
            }
            Step::Listen(n) => {
                let mut heard = 0;
                while heard < *n {
                    let line = self.read_json_line()?;
                    if line["type"] == "message" {
                        heard += 1;
                        self.say(format!("heard: {}", line["text"].as_str().unwrap_or("")))?;
                    }
                }
                Ok(())
            }
            Step::ReadStdin(true) => {
                let mut buf = Vec::new();
                let res = self.io.stdin.read_to_end(&mut buf);
                self.check(res, "stdin")?;
                self.prompt = String::from_utf8_lossy(&buf).into();
                let first = self.prompt.lines().next().unwrap_or("").to_string();
                self.say(format!("prompt: {first}"))
            }
            Step::EchoEnv(names) => names.iter().try_for_each(|n| self.say(format!("{n}={}", std::env::var(n).unwrap_or_default()))),
            Step::Usage(u) => {
                let mut ev = json!({"type": "usage", "input_tokens": u.input_tokens, "output_tokens": u.output_tokens, "cached_tokens": u.cached_tokens});
                if let Some(cost) = u.cost_usd {
                    ev["cost_usd"] = json!(cost);
                }
                self.emit(ev)
            }
            Step::Repeat { times, every_ms, step } => {
                let start = Instant::now();
                for n in 0..*times {
                    let at = start + Duration::from_millis(every_ms.saturating_mul(n));
                    sleep(at.saturating_duration_since(Instant::now()));
                    self.step(step, Some(n))?;
                }
                Ok(())
            }
            Step::Spawn(argv) => {
                let argv: Vec<String> = argv.iter().map(|a| x(a)).collect();
                let Some((prog, args)) = argv.split_first() else { return self.fail("spawn: empty command", 2) };
                let null = Stdio::null;
                let res = Command::new(prog).args(args).current_dir(self.cwd).stdin(null()).stdout(null()).stderr(null()).spawn();
                // The child is dropped, not waited for: it outlives the script on purpose.
                let child = self.check(res, prog)?;
                self.emit(json!({"type": "message", "text": format!("spawned {}", child.id())}))
            }
            Step::PidFile(p) => {
                let res = fs::write(self.cwd.join(x(p)), format!("{}\n", std::process::id()));
                self.check(res, p)
            }
            Step::WaitFile(w) => {
                let (path, timeout) = w.spec();
                let path = self.cwd.join(x(path));
                let deadline = timeout.map(|ms| Instant::now() + Duration::from_millis(ms));
                while !path.exists() {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return self.fail(&format!("wait_file: timed out waiting for {}", path.display()), 124);
                    }
                    sleep(Duration::from_millis(10));
                }
                Ok(())
            }
            Step::IgnoreSigterm(true) => {
                ignore_sigterm();
                Ok(())
            }
            Step::Exit(code) => Err(*code),
            Step::Fail(m) => self.fail(&x(m), 1),
        }
    }

    /// Prints one stdout line and flushes it; a closed stdout ends the agent.
    fn line(&mut self, text: &str) -> Flow {
        writeln!(self.io.stdout, "{text}").and_then(|()| self.io.stdout.flush()).map_err(|_| 1)
    }

    /// Prints an event as one line, with `type` first for human readers.
    fn emit(&mut self, event: Value) -> Flow {
        let line = match event.as_object().and_then(|o| o.get("type").map(|t| (o, t))) {
            Some((o, t)) => {
                let rest = o.iter().filter(|(k, _)| *k != "type");
                let fields: String = rest.map(|(k, v)| format!(",{}:{v}", Value::from(k.as_str()))).collect();
                format!("{{\"type\":{t}{fields}}}")
            }
            None => event.to_string(),
        };
        self.line(&line)
    }

    /// One JSON line from stdin (byte by byte: the rest stays for the next read).
    fn read_json_line(&mut self) -> Result<Value, i32> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match self.io.stdin.read(&mut byte) {
                Ok(0) => return self.fail("bosun-fake-agent: stdin closed while waiting for a line", 1).map(|_| Value::Null),
                Ok(_) if byte[0] == b'\n' => break,
                Ok(_) => line.push(byte[0]),
                Err(e) => return self.fail(&format!("bosun-fake-agent: reading stdin: {e}"), 1).map(|_| Value::Null),
            }
        }
        match serde_json::from_slice(&line) {
            Ok(v) => Ok(v),
            Err(e) => self.fail(&format!("bosun-fake-agent: stdin line is not JSON: {e}"), 2).map(|_| Value::Null),
        }
    }

    fn say(&mut self, text: String) -> Flow {
        self.emit(json!({"type": "message", "text": text}))
    }

    /// Prints a stderr line; a closed stderr is no reason to stop.
    fn err(&mut self, text: &str) -> Flow {
        let _ = writeln!(self.io.stderr, "{text}").and_then(|()| self.io.stderr.flush());
        Ok(())
    }

    fn fail(&mut self, message: &str, code: i32) -> Flow {
        self.err(message).and(Err(code))
    }

    /// An I/O error of a step ends the agent with exit code 1 and a message.
    fn check<T>(&mut self, res: io::Result<T>, what: &str) -> Result<T, i32> {
        res.map_err(|e| {
            let _ = self.err(&format!("bosun-fake-agent: {what}: {e}"));
            1
        })
    }
}

/// Replaces `{i}` (the repeat index, inside a `repeat`), `{now_ns}` (Unix time in
/// nanoseconds) and `{prompt}` (what `read_stdin` read) in a script string.
fn expand(s: &str, i: Option<u64>, prompt: &str) -> String {
    let mut out = match i {
        Some(i) if s.contains("{i}") => s.replace("{i}", &i.to_string()),
        _ => s.to_string(),
    };
    if out.contains("{now_ns}") {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        out = out.replace("{now_ns}", &now.to_string());
    }
    if out.contains("{prompt}") {
        out = out.replace("{prompt}", prompt);
    }
    out
}

/// [`expand`] on every string inside a JSON value.
fn expand_value(v: &Value, i: Option<u64>, prompt: &str) -> Value {
    match v {
        Value::String(s) => Value::String(expand(s, i, prompt)),
        Value::Array(a) => a.iter().map(|v| expand_value(v, i, prompt)).collect(),
        Value::Object(o) => o.iter().map(|(k, v)| (k.clone(), expand_value(v, i, prompt))).collect(),
        other => other.clone(),
    }
}

/// Runs a command to completion: its exit code (-1 if it could not start or was
/// killed by a signal) and its stdout followed by its stderr.
fn capture(cwd: &Path, argv: &[String]) -> (i64, String) {
    let (prog, args) = argv.split_first().expect("non-empty argv");
    match Command::new(prog).args(args).current_dir(cwd).stdin(Stdio::null()).output() {
        Ok(o) => {
            let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
            s.push_str(&String::from_utf8_lossy(&o.stderr));
            (o.status.code().map_or(-1, i64::from), s)
        }
        Err(e) => (-1, format!("{prog}: {e}")),
    }
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_OUTPUT {
        let mut n = MAX_OUTPUT;
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s.truncate(n);
    }
    s
}

/// From now on SIGTERM does nothing: lets tests check that bosun escalates to SIGKILL.
fn ignore_sigterm() {
    // SAFETY: installing SIG_IGN runs no handler code.
    unsafe {
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
    }
}
