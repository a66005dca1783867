//! Products (SKUs) grouped into styles, maintained by back-office keys.

use crate::d1;
use crate::http::error::ApiResult;
use crate::http::{json, json_body, now_rfc3339, path_id, Query};
use omniedge::access::Principal;
use omniedge::catalog::{Product, ProductDraft};
use omniedge::shared::ids::{Sku, StyleCode};
use crate::http::problem::Problem;
use worker::{Env, Request, Response};

pub async fn list(req: &Request, env: &Env) -> ApiResult<Response> {
    let query = Query::of(req)?;
    query.only(&["style"])?;
    let style = query.parse("style", StyleCode::parse)?;
    let items = d1::catalog::list(&d1::database(env)?, style.as_ref()).await?;
    json(200, &serde_json::json!({ "items": items }))
}

pub async fn get(sku: &str, env: &Env) -> ApiResult<Response> {
    let sku = path_id(sku, Sku::parse)?;
    json(200, &find(&d1::database(env)?, &sku).await?)
}

/// The product for a SKU, or the 404 every SKU route gives.
pub async fn find(db: &worker::D1Database, sku: &Sku) -> ApiResult<Product> {
    d1::catalog::get(db, sku).await?.ok_or_else(|| Problem::not_found("sku", sku.as_str()).into())
}

pub async fn put(sku: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    caller.require_admin()?;
    let sku = path_id(sku, Sku::parse)?;
    let draft: ProductDraft = json_body(req).await?;
    let product = Product::from_draft(sku, draft, now_rfc3339());
    match d1::catalog::put(&d1::database(env)?, &product).await? {
        Some(created) => json(if created { 201 } else { 200 }, &product),
        None => Err(Problem::conflict("style_is_fixed", format!("{} belongs to another style; a SKU never changes style", product.sku)).into()),
    }
}
