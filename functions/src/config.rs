//! Deployment settings read from `[vars]` in wrangler.toml, with the documented defaults.

use worker::Env;

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

/// How long a cart line holds its units after the last activity (`HOLD_MINUTES`, default 15; 0 disables holds).
pub fn cart_hold_seconds(env: &Env) -> u32 {
    var(env, "HOLD_MINUTES").and_then(|m| m.trim().parse::<u32>().ok()).map_or(15 * 60, |m| m.saturating_mul(60))
}

/// How long units reserved by an order being placed stay held if the placement dies
/// before committing them (`PLACEMENT_HOLD_SECONDS`, default 120).
pub fn placement_hold_seconds(env: &Env) -> i64 {
    var(env, "PLACEMENT_HOLD_SECONDS").and_then(|s| s.trim().parse::<i64>().ok()).filter(|s| *s > 0).unwrap_or(120)
}
