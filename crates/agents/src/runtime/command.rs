//! The `command` runtime: any program. The prompt goes to its stdin (then stdin is
//! closed) and into `BOSUN_PROMPT`; each stdout line that is a normalized event JSON
//! object is that event, any other line is `output`.

use bosun_core::{EventKind, OutputStream};

use crate::process::{self, LineParser};
use crate::{AgentError, AgentProcess, SpawnSpec};

pub fn spawn(argv: &[String], spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    let mut cmd = process::base_command(argv, spec)?;
    cmd.env("BOSUN_PROMPT", &spec.prompt);
    let parser: LineParser = |stream, line| match stream {
        OutputStream::Stdout => EventKind::from_agent_line(line),
        OutputStream::Stderr => EventKind::Output { stream, line: line.to_string() },
    };
    process::spawn(cmd, &argv[0], Some(spec.prompt.clone()), parser)
}
