//! Fault injection for the end-to-end tests. Only when the `FAULT_INJECTION` var is
//! "enabled" (the test runner sets it; wrangler.toml does not) may a request name a
//! point with `x-omniedge-fault: <point>` at which the worker then fails, so tests can
//! prove that a failure there leaks nothing to the client or to stored state.

use worker::{Env, Request};

/// Whether this request asked to fail at `point` and fault injection is on.
pub fn requested(req: &Request, env: &Env, point: &str) -> bool {
    let enabled = env.var("FAULT_INJECTION").map(|v| v.to_string() == "enabled").unwrap_or(false);
    enabled && req.headers().get("x-omniedge-fault").ok().flatten().is_some_and(|p| p == point)
}
