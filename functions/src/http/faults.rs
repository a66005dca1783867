//! Fault injection for the end-to-end tests. Only when the `FAULT_INJECTION` var is
//! "enabled" (the test runner sets it; wrangler.toml does not) may a request name a
//! point with `x-omniedge-fault: <point>` at which the worker then dies, so tests can
//! prove that a failure there leaks nothing to the client and that stored state
//! converges afterwards. The points sit in the port bindings, right after the step
//! they name took effect. The same switch serves the test hooks (many holds at once).

use worker::{Env, Request};

/// Where a request may ask to die.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// At once, before any work.
    Panic,
    /// A placement, after its units are held in every SKU.
    AfterReserve,
    /// A placement, after the order and what it owes are written.
    AfterOrderWrite,
    /// A status change, after the status and what it owes are written.
    AfterStatusWrite,
}

impl Fault {
    fn parse(point: &str) -> Option<Self> {
        match point {
            "panic" => Some(Fault::Panic),
            "after_reserve" => Some(Fault::AfterReserve),
            "after_order_write" => Some(Fault::AfterOrderWrite),
            "after_status_write" => Some(Fault::AfterStatusWrite),
            _ => None,
        }
    }
}

/// Whether this deployment is a test one (`FAULT_INJECTION=enabled`): faults may be
/// asked for, and the test hooks are served.
pub fn enabled(env: &Env) -> bool {
    env.var("FAULT_INJECTION").map(|v| v.to_string() == "enabled").unwrap_or(false)
}

/// The fault this request asked for, when fault injection is on.
pub fn requested(req: &Request, env: &Env) -> Option<Fault> {
    if !enabled(env) {
        return None;
    }
    req.headers().get("x-omniedge-fault").ok().flatten().as_deref().and_then(Fault::parse)
}
