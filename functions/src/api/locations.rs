//! Stores, warehouses and pickup points, maintained by back-office keys.

use crate::d1;
use crate::http::error::ApiResult;
use crate::http::{json, json_body, now_rfc3339, path_id, Query};
use omniedge::access::Principal;
use omniedge::shared::ids::LocationId;
use omniedge::locations::{Location, LocationDraft, LocationKind};
use crate::http::problem::Problem;
use worker::{Env, Request, Response};

pub async fn list(req: &Request, env: &Env) -> ApiResult<Response> {
    let query = Query::of(req)?;
    query.only(&["kind"])?;
    let kind = query.parse("kind", |k| LocationKind::parse(k).ok_or("must be store, warehouse or pickup_point"))?;
    let items = d1::locations::list(&d1::database(env)?, kind).await?;
    json(200, &serde_json::json!({ "items": items }))
}

pub async fn get(id: &str, env: &Env) -> ApiResult<Response> {
    let id = path_id(id, LocationId::parse)?;
    match d1::locations::get(&d1::database(env)?, &id).await? {
        Some(location) => json(200, &location),
        None => Err(Problem::not_found("location", id.as_str()).into()),
    }
}

pub async fn put(id: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    caller.require_admin()?;
    let id = path_id(id, LocationId::parse)?;
    let draft: LocationDraft = json_body(req).await?;
    let location = Location::from_draft(id, draft, now_rfc3339());
    let created = d1::locations::put(&d1::database(env)?, &location).await?;
    json(if created { 201 } else { 200 }, &location)
}
