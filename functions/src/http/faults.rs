//! Fault injection for the end-to-end tests. Only when the `FAULT_INJECTION` var is
//! "enabled" (the test runner sets it; wrangler.toml does not) may a request name a
//! point with `x-omniedge-fault: <point>` at which the worker then dies, so tests can
//! prove that a failure there leaks nothing to the client and that stored state
//! converges afterwards. The points sit in the port bindings, right after the step
//! they name took effect. The same switch serves the test hooks (many holds at once)
//! and lets a return request move the workflows' clock forward
//! (`x-omniedge-clock-offset-days`), so a closed return window is testable without waiting.

use worker::{Env, Request};

/// Where a request may ask to die.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// At once, before any work.
    Panic,
    /// A placement, after its units are taken (held and committed) in every SKU.
    AfterReserve,
    /// A placement, after the order and what it owes are written.
    AfterOrderWrite,
    /// A status change, after the status and what it owes are written.
    AfterStatusWrite,
    /// A return step, after the return and what it owes are written.
    AfterReturnWrite,
}

impl Fault {
    fn parse(point: &str) -> Option<Self> {
        match point {
            "panic" => Some(Fault::Panic),
            "after_reserve" => Some(Fault::AfterReserve),
            "after_order_write" => Some(Fault::AfterOrderWrite),
            "after_status_write" => Some(Fault::AfterStatusWrite),
            "after_return_write" => Some(Fault::AfterReturnWrite),
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

/// Days the workflows' clock is moved forward for this request (return steps only),
/// when fault injection is on: 0 to 3650.
pub fn clock_offset(req: &Request, env: &Env) -> chrono::Duration {
    if !enabled(env) {
        return chrono::Duration::zero();
    }
    let days = req.headers().get("x-omniedge-clock-offset-days").ok().flatten().and_then(|d| d.trim().parse::<i64>().ok());
    chrono::Duration::days(days.filter(|d| (0..=3650).contains(d)).unwrap_or(0))
}
