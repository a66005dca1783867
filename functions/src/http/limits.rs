//! Abuse limits at the door: every change a publishable key makes (carts, lines,
//! profiles) counts against the `PUBLIC_WRITES` rate-limiting binding, per key and
//! client address; over the limit the answer is 429 with `Retry-After`. Bodies are
//! limited in size for everyone (`MAX_BODY_BYTES`), carts in lines (`MAX_LINES`).

use crate::config::PUBLIC_WRITES_PERIOD_SECONDS;
use crate::http::error::ApiResult;
use crate::http::problem::Problem;
use worker::{Env, Request};

pub async fn public_write(req: &Request, env: &Env, key_id: &str) -> ApiResult<()> {
    let client = req.headers().get("cf-connecting-ip")?.unwrap_or_else(|| "unknown".into());
    let outcome = env.rate_limiter("PUBLIC_WRITES")?.limit(format!("{key_id}:{client}")).await?;
    if outcome.success {
        Ok(())
    } else {
        Err(Problem::rate_limited(PUBLIC_WRITES_PERIOD_SECONDS).into())
    }
}
