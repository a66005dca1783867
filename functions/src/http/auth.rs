//! Who is calling: resolves `Authorization: Bearer <key>` to a `Principal`, either the
//! bootstrap admin key (the `ADMIN_API_KEY` secret) or an issued key found by its hash.

use crate::d1::cache::TtlCache;
use crate::d1;
use crate::http::error::ApiResult;
use omniedge::access::{bearer_secret, key_hash, secrets_match, Principal};
use crate::http::problem::Problem;
use std::rc::Rc;
use worker::{Env, Request};

/// The key id reported for calls made with the bootstrap secret.
pub const BOOTSTRAP_KEY_ID: &str = "bootstrap-admin";

pub async fn authenticate(req: &Request, env: &Env) -> ApiResult<Principal> {
    let header = req
        .headers()
        .get("authorization")?
        .ok_or_else(|| Problem::unauthorized("send an API key as Authorization: Bearer <key>"))?;
    let secret = bearer_secret(&header).ok_or_else(|| Problem::unauthorized("the Authorization header must be Bearer <key>"))?;
    if let Ok(admin) = env.secret("ADMIN_API_KEY") {
        if secrets_match(secret, &admin.to_string()) {
            return Ok(Principal::Admin { key_id: BOOTSTRAP_KEY_ID.into() });
        }
    }
    let hash = key_hash(secret);
    let cache = PRINCIPALS.with(Rc::clone);
    if let Some(principal) = cache.get(&hash) {
        return Ok((*principal).clone());
    }
    let principal = d1::api_keys::principal_for_hash(&d1::database(env)?, &hash)
        .await?
        .ok_or_else(|| Problem::unauthorized("unknown or revoked API key"))?;
    Ok((*cache.put(hash, principal)).clone())
}

thread_local! {
    /// Issued keys by hash (see `cache`); a revocation clears it in this isolate at once.
    static PRINCIPALS: Rc<TtlCache<String, Principal>> = Rc::new(TtlCache::new());
}

/// Forgets every cached key, after a revocation.
pub fn forget_keys() {
    PRINCIPALS.with(|c| c.clear());
}
