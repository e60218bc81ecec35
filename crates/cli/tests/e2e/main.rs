//! End-to-end tests: the real `bosun` binary, a real daemon process, real git and
//! SQLite, the scripted fake agent. One test binary (link time matters on 2 cores).

mod harness;

mod api;
mod api_agent;
mod auth;
mod budget;
mod budget_real;
mod cleanup;
mod codex;
mod conflicts;
mod day;
mod deliverables;
mod deps;
mod discard;
mod disk;
mod gemini;
mod hostile;
mod human;
mod lifecycle;
mod matrix;
mod merge;
mod notify;
mod pool;
mod pr;
mod provenance;
mod real_clis;
mod resume;
mod review;
mod routing;
mod setup;
mod sources;
mod start;
mod store_failure;
mod survive;
mod tidy;
mod tls;
mod waits;
mod words;
