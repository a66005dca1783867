//! API keys: issued by back-office, shown once, stored hashed, revocable. Secret keys
//! (admin, store, storefront) are `oe_…`; publishable keys, safe in a web page, are
//! `oe_pub_…` and carry the origins allowed to use them.

use crate::d1;
use crate::d1::api_keys::ApiKey;
use crate::http::error::ApiResult;
use crate::http::{json, json_body, new_id, no_content, now_rfc3339};
use omniedge::access::{key_hash, KeyGrant, Principal, KEY_PREFIX, PUBLISHABLE_PREFIX};
use crate::http::problem::Problem;
use serde::Serialize;
use worker::{Env, Request, Response};

#[derive(Serialize)]
struct Issued<'a> {
    #[serde(flatten)]
    key: &'a ApiKey,
    /// The secret, shown only in this answer.
    secret: String,
}

pub async fn create(req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    caller.require_admin()?;
    let grant: KeyGrant = json_body(req).await?;
    let db = d1::database(env)?;
    let key = |role: &str, label: String| ApiKey {
        id: new_id("key"),
        role: role.to_owned(),
        label,
        location_id: None,
        channel: None,
        allowed_origins: None,
        created_at: now_rfc3339(),
        revoked_at: None,
    };
    let (key, prefix) = match grant {
        KeyGrant::Admin { label } => (key("admin", label), KEY_PREFIX),
        KeyGrant::Store { label, location_id } => {
            if d1::locations::get(&db, &location_id).await?.is_none() {
                return Err(Problem::not_found("location", location_id.as_str()).into());
            }
            (ApiKey { location_id: Some(location_id.to_string()), ..key("store", label) }, KEY_PREFIX)
        }
        KeyGrant::Storefront { label, channel } => (ApiKey { channel: Some(channel.as_str().to_owned()), ..key("storefront", label) }, KEY_PREFIX),
        KeyGrant::Publishable { label, channel, allowed_origins } => {
            let bound = ApiKey { channel: Some(channel.as_str().to_owned()), allowed_origins: Some(allowed_origins), ..key("publishable", label) };
            (bound, PUBLISHABLE_PREFIX)
        }
    };
    let secret = format!("{prefix}{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    d1::api_keys::insert(&db, &key, &key_hash(&secret)).await?;
    crate::http::cors::forget_origins();
    json(201, &Issued { key: &key, secret })
}

pub async fn list(env: &Env, caller: &Principal) -> ApiResult<Response> {
    caller.require_admin()?;
    let items = d1::api_keys::list(&d1::database(env)?).await?;
    json(200, &serde_json::json!({ "items": items }))
}

pub async fn revoke(id: &str, env: &Env, caller: &Principal) -> ApiResult<Response> {
    caller.require_admin()?;
    if d1::api_keys::revoke(&d1::database(env)?, id, &now_rfc3339()).await? {
        crate::http::auth::forget_keys();
        no_content()
    } else {
        Err(Problem::not_found("api_key", id).into())
    }
}
