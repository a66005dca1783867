//! Deployment settings read from `[vars]` in wrangler.toml, with the documented defaults.

use crate::http::problem::Problem;
use omniedge::access::session::{SigningKey, SigningKeys};
use worker::Env;

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

/// How long a cart line holds its units after the last activity (`HOLD_MINUTES`, default 15; 0 disables holds).
pub fn cart_hold_seconds(env: &Env) -> u32 {
    var(env, "HOLD_MINUTES").and_then(|m| m.trim().parse::<u32>().ok()).map_or(15 * 60, |m| m.saturating_mul(60))
}

/// What one cart may hold (`CART_MAX_LINES`, default and ceiling 100 distinct SKUs;
/// `CART_MAX_UNITS_PER_SKU`, default 10): a storefront cannot hoard a product in one cart.
pub fn cart_limits(env: &Env) -> omniedge::sales::cart::CartLimits {
    let defaults = omniedge::sales::cart::CartLimits::default();
    let number = |name| var(env, name).and_then(|v| v.trim().parse::<u32>().ok()).filter(|n| *n > 0);
    omniedge::sales::cart::CartLimits {
        max_lines: number("CART_MAX_LINES").map_or(defaults.max_lines, |n| n.min(omniedge::sales::cart::MAX_LINES)),
        max_units_per_sku: number("CART_MAX_UNITS_PER_SKU").unwrap_or(defaults.max_units_per_sku),
    }
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

/// The keys shopper sessions are signed and verified with: the secret
/// `SHOPPER_SIGNING_KEY` (`<kid>:<secret>`) and, while rotating, the secret
/// `SHOPPER_SIGNING_KEY_PREVIOUS`. None when sessions are not configured; a malformed
/// key is a deployment error.
pub fn shopper_signing_keys(env: &Env) -> Result<Option<SigningKeys>, Problem> {
    let Some(current) = signing_key(env, "SHOPPER_SIGNING_KEY")? else {
        return Ok(None);
    };
    Ok(Some(SigningKeys { current, previous: signing_key(env, "SHOPPER_SIGNING_KEY_PREVIOUS")? }))
}

fn signing_key(env: &Env, name: &str) -> Result<Option<SigningKey>, Problem> {
    let Ok(secret) = env.secret(name) else {
        return Ok(None);
    };
    SigningKey::parse(&secret.to_string()).map(Some).map_err(|e| {
        worker::console_error!("{name} is malformed: {e}");
        Problem::internal()
    })
}

/// The window of the `PUBLIC_WRITES` rate limit in wrangler.toml (`simple.period`):
/// what a refused caller is told to wait.
pub const PUBLIC_WRITES_PERIOD_SECONDS: u32 = 60;

/// The window of the `HOLD_WRITES` rate limit in wrangler.toml (`simple.period`).
pub const HOLD_WRITES_PERIOD_SECONDS: u32 = 10;

/// The return rules: windows (`RETURN_WINDOWS`, e.g. "default=14,web=7,defective=730";
/// default 14 days, defective 730), how long exchange units stay held at the receiving
/// location (`EXCHANGE_HOLD_DAYS`, default 3), which reasons earn goodwill
/// (`GOODWILL_REASONS`, default "defective"; "none" for none) and what
/// (`GOODWILL_OFFER`: "coupon:<percent>:<days>", default "coupon:10:90", or "gift:<sku>").
/// A malformed value is a deployment error.
pub fn return_settings(env: &Env) -> Result<omniedge::workflows::returns::ReturnSettings, Problem> {
    let malformed = |name: &str, e: String| {
        worker::console_error!("{name} is malformed: {e}");
        Problem::internal()
    };
    let policy = omniedge::returns::policy::ReturnPolicy::parse(&var(env, "RETURN_WINDOWS").unwrap_or_default()).map_err(|e| malformed("RETURN_WINDOWS", e))?;
    let goodwill = omniedge::returns::exchange::GoodwillPolicy::parse(
        &var(env, "GOODWILL_REASONS").unwrap_or_else(|| "defective".into()),
        &var(env, "GOODWILL_OFFER").unwrap_or_else(|| "coupon:10:90".into()),
    )
    .map_err(|e| malformed("GOODWILL_REASONS/GOODWILL_OFFER", e))?;
    let hold_days = var(env, "EXCHANGE_HOLD_DAYS").and_then(|d| d.trim().parse::<i64>().ok()).filter(|d| (1..=60).contains(d)).unwrap_or(3);
    Ok(omniedge::workflows::returns::ReturnSettings {
        policy,
        goodwill,
        replacement_hold: chrono::Duration::days(hold_days),
        opening_hold: chrono::Duration::seconds(placement_hold_seconds(env)),
    })
}
