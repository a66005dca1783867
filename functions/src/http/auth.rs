//! Who is calling: resolves `Authorization: Bearer <key>` to a `Principal`, either the
//! bootstrap admin key (the `ADMIN_API_KEY` secret) or an issued key found by its hash,
//! with the web origins a publishable key allows. A publishable key may carry a shopper
//! session (`X-Shopper-Token`), verified here against the signing keys; a secret key
//! needs none and its header is ignored.

use crate::config;
use crate::d1;
use crate::d1::api_keys::KeyRecord;
use crate::d1::cache::TtlCache;
use crate::http::error::ApiResult;
use crate::http::problem::Problem;
use omniedge::access::session::{self, SessionError};
use omniedge::access::{bearer_secret, key_hash, secrets_match, Principal};
use std::rc::Rc;
use worker::{Env, Request};

/// The key id reported for calls made with the bootstrap secret.
pub const BOOTSTRAP_KEY_ID: &str = "bootstrap-admin";

pub async fn authenticate(req: &Request, env: &Env) -> ApiResult<KeyRecord> {
    let header = req
        .headers()
        .get("authorization")?
        .ok_or_else(|| Problem::unauthorized("send an API key as Authorization: Bearer <key>"))?;
    let secret = bearer_secret(&header).ok_or_else(|| Problem::unauthorized("the Authorization header must be Bearer <key>"))?;
    if let Ok(admin) = env.secret("ADMIN_API_KEY") {
        if secrets_match(secret, &admin.to_string()) {
            return Ok(KeyRecord { principal: Principal::Admin { key_id: BOOTSTRAP_KEY_ID.into() }, origins: Vec::new() });
        }
    }
    let mut record = issued_key(secret, env).await?;
    if let (Principal::Publishable { channel, shopper, .. }, Some(token)) = (&mut record.principal, req.headers().get("x-shopper-token")?) {
        // Without signing keys no token can be valid: refused like one signed by a retired key.
        let keys = config::shopper_signing_keys(env)?.ok_or(SessionError::UnknownKey).map_err(Problem::from)?;
        let verified = session::verify(&keys, &token, *channel, chrono::Utc::now()).map_err(Problem::from)?;
        *shopper = Some(verified.customer_id);
    }
    Ok(record)
}

async fn issued_key(secret: &str, env: &Env) -> ApiResult<KeyRecord> {
    let hash = key_hash(secret);
    let cache = KEYS.with(Rc::clone);
    if let Some(record) = cache.get(&hash) {
        return Ok((*record).clone());
    }
    let record = d1::api_keys::record_for_hash(&d1::database(env)?, &hash)
        .await?
        .ok_or_else(|| Problem::unauthorized("unknown or revoked API key"))?;
    Ok((*cache.put(hash, record)).clone())
}

thread_local! {
    /// Issued keys by hash (see `cache`); a revocation clears it in this isolate at once.
    static KEYS: Rc<TtlCache<String, KeyRecord>> = Rc::new(TtlCache::new());
}

/// Forgets every cached key, after a revocation.
pub fn forget_keys() {
    KEYS.with(|c| c.clear());
    crate::http::cors::forget_origins();
}
