//! The `api_keys` table: issued keys by hash, their role and binding (a store key's
//! location, a storefront or publishable key's channel, a publishable key's origins),
//! revocation.

use crate::http::error::ApiResult;
use omniedge::access::origin::WebOrigin;
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
    #[serde(default, skip_serializing_if = "Option::is_none", with = "origins_json")]
    pub allowed_origins: Option<Vec<WebOrigin>>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// D1 keeps a publishable key's origins as a JSON array in one column.
mod origins_json {
    use omniedge::access::origin::WebOrigin;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(origins: &Option<Vec<WebOrigin>>, s: S) -> Result<S::Ok, S::Error> {
        origins.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<WebOrigin>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| serde_json::from_str(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// A live key: who calls with it, and from which web origins (publishable keys only).
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub principal: Principal,
    pub origins: Vec<WebOrigin>,
}

const COLUMNS: &str = "id, role, label, location_id, channel, allowed_origins, created_at, revoked_at";

pub async fn insert(db: &D1Database, key: &ApiKey, hash: &str) -> ApiResult<()> {
    let opt = |v: &Option<String>| v.as_deref().map_or(JsValue::NULL, JsValue::from);
    let origins = key.allowed_origins.as_ref().map(serde_json::to_string).transpose()?;
    db.prepare(
        "INSERT INTO api_keys (id, key_hash, role, label, location_id, channel, allowed_origins, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(&[
        key.id.as_str().into(),
        hash.into(),
        key.role.as_str().into(),
        key.label.as_str().into(),
        opt(&key.location_id),
        opt(&key.channel),
        opt(&origins),
        key.created_at.as_str().into(),
    ])?
    .run()
    .await?;
    Ok(())
}

pub async fn list(db: &D1Database) -> ApiResult<Vec<ApiKey>> {
    Ok(db.prepare(format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id")).all().await?.results()?)
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

/// The live key with this hash.
pub async fn record_for_hash(db: &D1Database, hash: &str) -> ApiResult<Option<KeyRecord>> {
    let key: Option<ApiKey> = db
        .prepare(format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL"))
        .bind(&[hash.into()])?
        .first(None)
        .await?;
    Ok(key.and_then(record))
}

/// Whether some live publishable key allows pages from `origin` (asked by CORS preflights).
pub async fn origin_allowed(db: &D1Database, origin: &WebOrigin) -> ApiResult<bool> {
    let hit: Option<serde_json::Value> = db
        .prepare(
            "SELECT 1 AS hit FROM api_keys, json_each(api_keys.allowed_origins) AS o \
             WHERE api_keys.role = 'publishable' AND api_keys.revoked_at IS NULL AND o.value = ?1 LIMIT 1",
        )
        .bind(&[origin.as_str().into()])?
        .first(None)
        .await?;
    Ok(hit.is_some())
}

fn record(key: ApiKey) -> Option<KeyRecord> {
    let key_id = key.id;
    let channel = || serde_json::from_value::<Channel>(serde_json::Value::String(key.channel.clone()?)).ok();
    let principal = match key.role.as_str() {
        "admin" => Principal::Admin { key_id },
        "store" => Principal::Store { key_id, location_id: LocationId::parse(key.location_id.as_deref()?).ok()? },
        "storefront" => Principal::Storefront { key_id, channel: channel()? },
        "publishable" => Principal::Publishable { key_id, channel: channel()?, shopper: None },
        _ => return None,
    };
    Some(KeyRecord { principal, origins: key.allowed_origins.unwrap_or_default() })
}
