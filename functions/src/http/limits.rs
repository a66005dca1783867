//! Abuse limits at the door: every change a publishable key makes (carts, lines,
//! profiles) counts against the `PUBLIC_WRITES` rate-limiting binding, and every call
//! of a secret storefront key that creates holds (setting a cart line, placing an
//! order) against `HOLD_WRITES`, both per key and client address; over the limit the
//! answer is 429 with `Retry-After`. So a storefront key alone cannot hold a product's
//! stock away from everyone else. Bodies are limited in size for everyone
//! (`MAX_BODY_BYTES`), carts in lines and units (`CartLimits`).

use crate::config::{HOLD_WRITES_PERIOD_SECONDS, PUBLIC_WRITES_PERIOD_SECONDS};
use crate::http::error::ApiResult;
use crate::http::problem::Problem;
use worker::{Env, Request};

pub async fn public_write(req: &Request, env: &Env, key_id: &str) -> ApiResult<()> {
    within(req, env, "PUBLIC_WRITES", PUBLIC_WRITES_PERIOD_SECONDS, key_id).await
}

/// A call of a secret storefront key that creates holds.
pub async fn hold_write(req: &Request, env: &Env, key_id: &str) -> ApiResult<()> {
    within(req, env, "HOLD_WRITES", HOLD_WRITES_PERIOD_SECONDS, key_id).await
}

async fn within(req: &Request, env: &Env, binding: &str, period: u32, key_id: &str) -> ApiResult<()> {
    let client = req.headers().get("cf-connecting-ip")?.unwrap_or_else(|| "unknown".into());
    let outcome = env.rate_limiter(binding)?.limit(format!("{key_id}:{client}")).await?;
    if outcome.success {
        Ok(())
    } else {
        Err(Problem::rate_limited(period).into())
    }
}
