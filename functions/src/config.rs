//! Deployment settings read from `[vars]` in wrangler.toml, with the documented defaults.

use crate::http::problem::Problem;
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

/// The delivery charge (`DELIVERY_TARIFF`, e.g. "flat:4.95" or
/// "bands:5=2.95,20=4.95,100=7.95;free_from=100"); a malformed value is a deployment error.
pub fn delivery_tariff(env: &Env) -> Result<omniedge::pricing::DeliveryTariff, Problem> {
    let text = var(env, "DELIVERY_TARIFF").unwrap_or_else(|| DEFAULT_TARIFF.to_owned());
    omniedge::pricing::DeliveryTariff::parse(&text).map_err(|e| {
        worker::console_error!("DELIVERY_TARIFF is malformed: {e}");
        Problem::internal()
    })
}

const DEFAULT_TARIFF: &str = "bands:5=2.95,20=4.95,100=7.95;free_from=100";
