//! Agent profiles: Markdown files with YAML front matter, the body being the agent's
//! standing instructions (the same shape as Claude Code's `.claude/agents/*.md`).
//!
//! This module only parses text; finding the files (`<repo>/.bosun/agents`,
//! `<config-dir>/agents`) is the daemon's job.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How the agent is run. New runtimes are new variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "runtime", rename_all = "kebab-case")]
pub enum Runtime {
    /// Any program: the prompt arrives on stdin and in `BOSUN_PROMPT`; stdout lines
    /// are normalized events or plain output. With `interactive`, stdin stays open
    /// for messages and approval answers (JSON lines).
    Command {
        command: Vec<String>,
        #[serde(default)]
        interactive: bool,
    },
    /// Claude Code (`claude`), driven over stream-json.
    ClaudeCode,
    /// Codex (`codex app-server`), driven over its JSON-RPC.
    Codex,
    /// Gemini CLI (`gemini --acp`), an ACP agent.
    Gemini,
    /// Any Agent Client Protocol agent: `command` starts it speaking ACP on stdio.
    Acp { command: Vec<String> },
    /// bosun's own agent on a model API (`bosun-api-agent`): the profile's `model`
    /// through `provider`'s wire format at `base_url`, with bosun's tools.
    Api(ApiRuntime),
}

/// The wire format an `api` agent speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApiProvider {
    /// Anthropic Messages.
    Anthropic,
    /// OpenAI Responses.
    #[serde(rename = "openai")]
    OpenAi,
    /// OpenAI Chat Completions, as Ollama, llama.cpp, vLLM, LM Studio, OpenRouter serve it.
    #[serde(rename = "openai-compatible")]
    OpenAiCompatible,
    /// Gemini `streamGenerateContent`.
    Gemini,
}

impl ApiProvider {
    pub const ALL: [(&'static str, ApiProvider); 4] = [
        ("anthropic", ApiProvider::Anthropic),
        ("openai", ApiProvider::OpenAi),
        ("openai-compatible", ApiProvider::OpenAiCompatible),
        ("gemini", ApiProvider::Gemini),
    ];

    pub fn name(self) -> &'static str {
        ApiProvider::ALL.iter().find(|(_, p)| *p == self).map(|(n, _)| *n).unwrap_or("?")
    }

    /// The vendor's own endpoint; None for `openai-compatible` (it must be named).
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            ApiProvider::Anthropic => Some("https://api.anthropic.com/v1"),
            ApiProvider::OpenAi => Some("https://api.openai.com/v1"),
            ApiProvider::Gemini => Some("https://generativelanguage.googleapis.com/v1beta"),
            ApiProvider::OpenAiCompatible => None,
        }
    }
}

/// The tools of the `api` runtime, all confined to the task's workspace.
pub const API_TOOLS: [&str; 7] = ["read", "list", "grep", "write", "edit", "run", "deliver"];

/// An `api` agent's settings (its model is the profile's `model`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiRuntime {
    pub provider: ApiProvider,
    /// The API's base URL, version segment included (`http://127.0.0.1:11434/v1`).
    pub base_url: String,
    /// The daemon's environment variable holding the API key (passed to the agent
    /// under that name alone); None for local servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    /// The tools the model may call ([`API_TOOLS`] by default).
    pub tools: Vec<String>,
    /// Model requests per run before the agent stops.
    pub max_turns: u32,
    /// The model's context window in tokens (None: known per model, else 32k); older
    /// tool results are compacted near it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
}

/// Model requests an `api` run makes at most unless its profile says otherwise.
pub const API_MAX_TURNS: u32 = 40;

impl Runtime {
    pub fn name(&self) -> &'static str {
        match self {
            Runtime::Command { .. } => "command",
            Runtime::ClaudeCode => "claude-code",
            Runtime::Codex => "codex",
            Runtime::Gemini => "gemini",
            Runtime::Acp { .. } => "acp",
            Runtime::Api(_) => "api",
        }
    }
}

/// How much an agent may do without asking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Permissions {
    /// Ask before any edit, write or command (reads are free).
    Ask,
    /// Edits and writes inside the worktree are free; commands, other tools and
    /// writes outside the worktree ask. The default.
    #[default]
    AutoEdits,
    /// Never ask.
    Yolo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentProfile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(flatten)]
    pub runtime: Runtime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// At most this many runs of this profile at once. None: only the global limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u32>,
    #[serde(default)]
    pub permissions: Permissions,
    /// Tool patterns always allowed: `Read`, `Bash(cargo test *)`, `Write(docs/*)` (see `policy`).
    #[serde(default)]
    pub allow: Vec<String>,
    /// Environment variables set for the agent.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// Names of the daemon's environment variables passed through to the agent.
    #[serde(default)]
    pub pass_env: Vec<String>,
    /// Extra arguments for the runtime's CLI.
    #[serde(default)]
    pub args: Vec<String>,
    /// Wall-clock limit of one run, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// A run that prints nothing for this many seconds is stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,
    /// The standing instructions (the Markdown body).
    #[serde(default)]
    pub instructions: String,
    /// The file it was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// bosun's own profile for an installed CLI ([`AgentProfile::built_in`]), not a file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub builtin: bool,
}

/// The runtimes that get a built-in profile when their CLI is installed, by the name
/// the profile takes, in the order the zero-configuration fallback tries them.
pub const BUILTIN: [(&str, Runtime); 3] = [("claude", Runtime::ClaudeCode), ("codex", Runtime::Codex), ("gemini", Runtime::Gemini)];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("no front matter: the file must start with a line `---`, YAML, and a closing `---`")]
    NoFrontMatter,
    #[error("invalid front matter: {0}")]
    Yaml(String),
    #[error("invalid name {0:?}: use letters, digits, '-' and '_' (at most 64)")]
    BadName(String),
    #[error("runtimes `command` and `acp` need `command: [program, args...]`")]
    EmptyCommand,
    #[error("max_concurrent must be at least 1")]
    ZeroConcurrency,
    /// A setting of the `api` runtime missing, wrong, or given to another runtime.
    #[error("{0}")]
    Api(String),
}

/// The front matter as written, before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    name: Option<String>,
    #[serde(default)]
    description: String,
    runtime: String,
    #[serde(default)]
    command: Vec<String>,
    model: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    max_concurrent: Option<u32>,
    #[serde(default)]
    interactive: bool,
    #[serde(default)]
    permissions: Permissions,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pass_env: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    timeout: Option<u64>,
    idle_timeout: Option<u64>,
    // The `api` runtime's settings.
    provider: Option<String>,
    base_url: Option<String>,
    key_env: Option<String>,
    tools: Option<Vec<String>>,
    max_turns: Option<u32>,
    context_window: Option<u64>,
}

impl FrontMatter {
    /// The `api` runtime's settings, checked: each one's problem in one sentence.
    fn api(&mut self) -> Result<ApiRuntime, ProfileError> {
        let bad = |m: String| Err(ProfileError::Api(m));
        let known = || ApiProvider::ALL.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
        let Some(name) = self.provider.take() else { return bad(format!("runtime `api` needs `provider:` ({})", known())) };
        let Some(provider) = ApiProvider::ALL.iter().find(|(n, _)| *n == name).map(|(_, p)| *p) else {
            return bad(format!("unknown provider `{name}` (known: {})", known()));
        };
        if self.model.as_deref().is_none_or(|m| m.trim().is_empty()) {
            return bad("runtime `api` needs `model:` (the model's name at the provider)".into());
        }
        let base_url = match self.base_url.take().or_else(|| provider.default_base_url().map(str::to_string)) {
            None => return bad(format!("provider `{name}` needs `base_url:` (e.g. http://127.0.0.1:11434/v1)")),
            Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) || u.contains(char::is_whitespace) => {
                return bad(format!("base_url `{u}` is not an http:// or https:// URL"));
            }
            Some(u) => u.trim_end_matches('/').to_string(),
        };
        let key_env = self.key_env.take();
        if let Some(k) = &key_env {
            let ok =
                !k.is_empty() && !k.starts_with(|c: char| c.is_ascii_digit()) && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return bad(format!("key_env `{k}` is not an environment variable name (letters, digits, '_')"));
            }
        }
        let tools = self.tools.take().unwrap_or_else(|| API_TOOLS.iter().map(|t| t.to_string()).collect());
        if let Some(t) = tools.iter().find(|t| !API_TOOLS.contains(&t.as_str())) {
            return bad(format!("unknown tool `{t}` (known: {})", API_TOOLS.join(", ")));
        }
        let max_turns = self.max_turns.unwrap_or(API_MAX_TURNS);
        if max_turns == 0 {
            return bad("max_turns must be at least 1".into());
        }
        if self.context_window.is_some_and(|w| w < 1024) {
            return bad("context_window must be at least 1024 tokens".into());
        }
        Ok(ApiRuntime { provider, base_url, key_env, tools, max_turns, context_window: self.context_window })
    }

    /// The name of an `api`-only setting given to another runtime.
    fn stray_api_setting(&self) -> Option<&'static str> {
        [
            ("provider", self.provider.is_some()),
            ("base_url", self.base_url.is_some()),
            ("key_env", self.key_env.is_some()),
            ("tools", self.tools.is_some()),
            ("max_turns", self.max_turns.is_some()),
            ("context_window", self.context_window.is_some()),
        ]
        .into_iter()
        .find(|(_, given)| *given)
        .map(|(n, _)| n)
    }
}

/// A YAML error of the front matter, located in the file: the front matter starts on
/// the file's line 2 (after the opening `---`), so serde_yaml's lines are one short.
fn in_file(e: &serde_yaml::Error) -> String {
    let message = e.to_string();
    let Some(at) = e.location() else { return message };
    // The message ends with serde_yaml's own " at line L column C" (libyaml's may
    // name a second place after it, "while parsing ... at ..."): replaced by the
    // file's place.
    let what = message.split(" at line ").next().unwrap_or(&message);
    format!("{what} at line {} column {}", at.line() + 1, at.column())
}

pub fn validate_name(name: &str) -> Result<(), ProfileError> {
    let ok = !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(ProfileError::BadName(name.to_string())) }
}

impl AgentProfile {
    /// A profile with every setting at its default.
    pub fn new(name: &str, runtime: Runtime) -> AgentProfile {
        AgentProfile {
            name: name.to_string(),
            description: String::new(),
            runtime,
            model: None,
            tags: Vec::new(),
            max_concurrent: None,
            permissions: Permissions::default(),
            allow: Vec::new(),
            env: Default::default(),
            pass_env: Vec::new(),
            args: Vec::new(),
            timeout: None,
            idle_timeout: None,
            instructions: String::new(),
            source: None,
            builtin: false,
        }
    }

    /// The built-in profile of a CLI runtime: edits free, commands ask, the CLI's own
    /// default model. A user (or repo) profile of the same name replaces it.
    pub fn built_in(name: &str, runtime: Runtime) -> AgentProfile {
        AgentProfile {
            description: format!("built-in: {} with its default model", runtime.name()),
            permissions: Permissions::AutoEdits,
            builtin: true,
            ..AgentProfile::new(name, runtime)
        }
    }

    /// Parses a profile file. `default_name` (the file stem) is used when the front
    /// matter has no `name`.
    pub fn parse(text: &str, default_name: &str) -> Result<AgentProfile, ProfileError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.split_inclusive('\n');
        let first = lines.next().ok_or(ProfileError::NoFrontMatter)?;
        if first.trim_end() != "---" {
            return Err(ProfileError::NoFrontMatter);
        }
        let mut yaml = String::new();
        let mut closed = false;
        for line in lines.by_ref() {
            if line.trim_end() == "---" {
                closed = true;
                break;
            }
            yaml.push_str(line);
        }
        if !closed {
            return Err(ProfileError::NoFrontMatter);
        }
        let body: String = lines.collect();
        let mut fm: FrontMatter = serde_yaml::from_str(&yaml).map_err(|e| ProfileError::Yaml(in_file(&e)))?;
        let name = fm.name.take().unwrap_or_else(|| default_name.to_string());
        validate_name(&name)?;
        if fm.runtime != "api"
            && let Some(setting) = fm.stray_api_setting()
        {
            return Err(ProfileError::Api(format!("`{setting}:` is a setting of runtime `api`, not `{}`", fm.runtime)));
        }
        let runtime_name = std::mem::take(&mut fm.runtime);
        let runtime = match runtime_name.as_str() {
            "command" => {
                if fm.command.is_empty() || fm.command[0].is_empty() {
                    return Err(ProfileError::EmptyCommand);
                }
                Runtime::Command { command: fm.command, interactive: fm.interactive }
            }
            "claude-code" | "claude" => Runtime::ClaudeCode,
            "codex" => Runtime::Codex,
            "gemini" => Runtime::Gemini,
            "acp" => {
                if fm.command.is_empty() || fm.command[0].is_empty() {
                    return Err(ProfileError::EmptyCommand);
                }
                Runtime::Acp { command: fm.command }
            }
            "api" => Runtime::Api(fm.api()?),
            other => {
                return Err(ProfileError::Yaml(format!(
                    "unknown runtime `{other}` (known: command, claude-code, codex, gemini, acp, api)"
                )));
            }
        };

        if fm.max_concurrent == Some(0) {
            return Err(ProfileError::ZeroConcurrency);
        }
        Ok(AgentProfile {
            name,
            description: fm.description,
            runtime,
            model: fm.model,
            tags: fm.tags,
            max_concurrent: fm.max_concurrent,
            permissions: fm.permissions,
            allow: fm.allow,
            env: fm.env,
            pass_env: fm.pass_env,
            args: fm.args,
            timeout: fm.timeout.filter(|t| *t > 0),
            idle_timeout: fm.idle_timeout.filter(|t| *t > 0),
            instructions: body.trim().to_string(),
            source: None,
            builtin: false,
        })
    }

    /// The prompt an agent gets: its standing instructions, then the task (its title,
    /// body and any messages for it).
    pub fn prompt(&self, task: &str) -> String {
        if self.instructions.is_empty() {
            format!("# Task: {}\n", task.trim())
        } else {
            format!("{}\n\n# Task: {}\n", self.instructions, task.trim())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECHOER: &str = "---\nname: echoer\ndescription: Writes files\nruntime: command\ncommand: [\"sh\", \"-c\", \"echo hi\"]\ntags: [backend, docs]\nmax_concurrent: 3\n---\nYou are careful.\n";

    #[test]
    fn yaml_errors_name_the_line_of_the_file() {
        // Line 1 is `---`: the unclosed list is found unclosed at the file's line 5.
        let text = "---\nname: x\nruntime: command\ncommand: [a\n---\n";
        let err = AgentProfile::parse(text, "x").unwrap_err().to_string();
        assert_eq!(err, "invalid front matter: did not find expected ',' or ']' at line 5 column 1");
        let text = "---\nname: x\nruntime: command\ncommand: [a]\nbogus: 1\n---\n";
        let err = AgentProfile::parse(text, "x").unwrap_err().to_string();
        assert!(err.contains("unknown field `bogus`") && err.ends_with("at line 5 column 1"), "{err}");
    }

    #[test]
    fn parses_a_command_profile() {
        let p = AgentProfile::parse(ECHOER, "file-stem").unwrap();
        assert_eq!(p.name, "echoer");
        assert_eq!(p.runtime, Runtime::Command { command: vec!["sh".into(), "-c".into(), "echo hi".into()], interactive: false });
        assert_eq!(p.permissions, Permissions::AutoEdits);
        assert_eq!(p.tags, vec!["backend", "docs"]);
        assert_eq!(p.max_concurrent, Some(3));
        assert_eq!(p.instructions, "You are careful.");
        assert_eq!(p.prompt("Add a greeting\n\nWrite hello.txt"), "You are careful.\n\n# Task: Add a greeting\n\nWrite hello.txt\n");
    }

    #[test]
    fn claude_profile_with_policy() {
        let text = "---\nname: reviewer\nruntime: claude-code\nmodel: sonnet\npermissions: ask\nallow: [\"Bash(cargo test*)\"]\nenv: {FOO: bar}\npass_env: [MY_KEY]\nargs: [--verbose]\ntimeout: 600\n---\nReview.\n";
        let p = AgentProfile::parse(text, "x").unwrap();
        assert_eq!(p.runtime, Runtime::ClaudeCode);
        assert_eq!((p.permissions, p.model.as_deref(), p.timeout), (Permissions::Ask, Some("sonnet"), Some(600)));
        assert_eq!(p.allow, vec!["Bash(cargo test*)"]);
        assert_eq!(p.env.get("FOO").map(String::as_str), Some("bar"));
        assert_eq!((p.pass_env.clone(), p.args.clone()), (vec!["MY_KEY".to_string()], vec!["--verbose".to_string()]));
    }

    #[test]
    fn api_profiles() {
        let text = "---\nname: analyst\nruntime: api\nprovider: openai-compatible\nbase_url: http://127.0.0.1:11434/v1/\nmodel: qwen3:8b\nkey_env: OPENROUTER_API_KEY\nmax_turns: 12\n---\nYou write analyses.\n";
        let p = AgentProfile::parse(text, "x").unwrap();
        let Runtime::Api(api) = &p.runtime else { panic!("{:?}", p.runtime) };
        assert_eq!(
            (api.provider, api.base_url.as_str(), api.key_env.as_deref()),
            (ApiProvider::OpenAiCompatible, "http://127.0.0.1:11434/v1", Some("OPENROUTER_API_KEY"))
        );
        assert_eq!((api.tools.len(), api.max_turns, p.instructions.as_str()), (API_TOOLS.len(), 12, "You write analyses."));
        let p = AgentProfile::parse("---\nruntime: api\nprovider: anthropic\nmodel: claude-sonnet-4-5\ntools: [read, deliver]\n---\n", "x")
            .unwrap();
        let Runtime::Api(api) = &p.runtime else { panic!() };
        assert_eq!(
            (api.base_url.as_str(), api.tools.clone(), api.max_turns),
            ("https://api.anthropic.com/v1", vec!["read".to_string(), "deliver".to_string()], API_MAX_TURNS)
        );
        let err = |fm: &str| AgentProfile::parse(&format!("---\n{fm}---\n"), "x").unwrap_err().to_string();
        assert_eq!(err("runtime: api\nmodel: m\n"), "runtime `api` needs `provider:` (anthropic, openai, openai-compatible, gemini)");
        assert_eq!(
            err("runtime: api\nprovider: bedrock\nmodel: m\n"),
            "unknown provider `bedrock` (known: anthropic, openai, openai-compatible, gemini)"
        );
        assert_eq!(err("runtime: api\nprovider: openai\n"), "runtime `api` needs `model:` (the model's name at the provider)");
        assert!(err("runtime: api\nprovider: openai-compatible\nmodel: m\n").starts_with("provider `openai-compatible` needs `base_url:`"));
        assert_eq!(
            err("runtime: api\nprovider: openai\nmodel: m\nbase_url: ftp://x\n"),
            "base_url `ftp://x` is not an http:// or https:// URL"
        );
        assert!(err("runtime: api\nprovider: openai\nmodel: m\nkey_env: \"A B\"\n").starts_with("key_env `A B` is not"));
        assert!(err("runtime: api\nprovider: openai\nmodel: m\ntools: [read, browse]\n").starts_with("unknown tool `browse`"));
        assert_eq!(err("runtime: api\nprovider: openai\nmodel: m\nmax_turns: 0\n"), "max_turns must be at least 1");
        assert_eq!(err("runtime: codex\nprovider: openai\n"), "`provider:` is a setting of runtime `api`, not `codex`");
    }

    #[test]
    fn name_defaults_to_the_file_stem() {
        let p = AgentProfile::parse("---\nruntime: command\ncommand: [true]\n---\n", "stem").unwrap();
        assert_eq!(p.name, "stem");
    }

    #[test]
    fn clear_errors() {
        assert_eq!(AgentProfile::parse("no front matter", "x"), Err(ProfileError::NoFrontMatter));
        assert_eq!(AgentProfile::parse("---\nruntime: command\n", "x"), Err(ProfileError::NoFrontMatter));
        assert_eq!(AgentProfile::parse("---\nruntime: command\n---\n", "x"), Err(ProfileError::EmptyCommand));
        assert!(
            matches!(AgentProfile::parse("---\nruntime: warp\n---\n", "x"), Err(ProfileError::Yaml(m)) if m.contains("unknown runtime `warp`"))
        );
        assert!(matches!(AgentProfile::parse("---\nruntime: claude-code\npermissions: sometimes\n---\n", "x"), Err(ProfileError::Yaml(_))));
        assert!(matches!(AgentProfile::parse("---\nruntime: command\ncommand: [a]\nbogus: 1\n---\n", "x"), Err(ProfileError::Yaml(_))));
        assert_eq!(
            AgentProfile::parse("---\nname: ../evil\nruntime: command\ncommand: [a]\n---\n", "x"),
            Err(ProfileError::BadName("../evil".into()))
        );
    }
}
