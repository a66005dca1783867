//! The `api_keys` table: issued keys by hash, their role and binding, revocation.

use crate::http::error::ApiResult;
use omniedge::access::Principal;
use omniedge::shared::channel::Channel;
use omniedge::shared::ids::LocationId;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::D1Database;

/// An issued key as listed (never with its secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub role: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

pub async fn insert(db: &D1Database, key: &ApiKey, hash: &str) -> ApiResult<()> {
    let opt = |v: &Option<String>| v.as_deref().map_or(JsValue::NULL, JsValue::from);
    db.prepare(
        "INSERT INTO api_keys (id, key_hash, role, label, location_id, channel, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&[
        key.id.as_str().into(),
        hash.into(),
        key.role.as_str().into(),
        key.label.as_str().into(),
        opt(&key.location_id),
        opt(&key.channel),
        key.created_at.as_str().into(),
    ])?
    .run()
    .await?;
    Ok(())
}

pub async fn list(db: &D1Database) -> ApiResult<Vec<ApiKey>> {
    Ok(db
        .prepare("SELECT id, role, label, location_id, channel, created_at, revoked_at FROM api_keys ORDER BY created_at, id")
        .all()
        .await?
        .results()?)
}

/// Revokes a live key; false when there is no such live key.
pub async fn revoke(db: &D1Database, id: &str, at: &str) -> ApiResult<bool> {
    let result = db
        .prepare("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
        .bind(&[id.into(), at.into()])?
        .run()
        .await?;
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
}

/// The caller a live key stands for.
pub async fn principal_for_hash(db: &D1Database, hash: &str) -> ApiResult<Option<Principal>> {
    let key: Option<ApiKey> = db
        .prepare("SELECT id, role, label, location_id, channel, created_at, revoked_at FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL")
        .bind(&[hash.into()])?
        .first(None)
        .await?;
    Ok(key.and_then(|k| principal(&k)))
}

fn principal(key: &ApiKey) -> Option<Principal> {
    let key_id = key.id.clone();
    Some(match key.role.as_str() {
        "admin" => Principal::Admin { key_id },
        "store" => Principal::Store { key_id, location_id: LocationId::parse(key.location_id.as_deref()?).ok()? },
        "storefront" => Principal::Storefront {
            key_id,
            channel: serde_json::from_value::<Channel>(serde_json::Value::String(key.channel.clone()?)).ok()?,
        },
        _ => return None,
    })
}
