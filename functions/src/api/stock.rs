//! Stock lookups (one SKU, a batch, a whole style), strong or with a bounded staleness,
//! and adjustments from stock systems.

use crate::d1;
use crate::http::error::ApiResult;
use crate::http::{idempotency_key, invalid_query, json, json_body, json_text, new_id, now_rfc3339, path_id, query_count, Query};
use crate::api::catalog::find;
use crate::objects::stock_client::StockClient;
use crate::http::faults;
use crate::objects::protocol::request;
use crate::objects::stock::{AdjustCommand, StockCall, StockCommand, StockRefusal};
use crate::objects::stock_legacy::{self, LegacyLedger};
use omniedge::access::Principal;
use omniedge::inventory::adjustment::AdjustmentRequest;
use crate::objects::stock_views::{age_seconds, levels};
use omniedge::inventory::availability::{sku_stock, style_stock, BatchLookup, MaxStaleness, StockQuery};
use omniedge::shared::geo::{Position, RadiusKm};
use omniedge::shared::ids::{LocationId, Sku, StyleCode};
use omniedge::locations::LocationKind;
use crate::http::problem::Problem;
use sha2::{Digest, Sha256};
use worker::{Env, Request, Response};

/// Reads `near`, `radius_km`, `kind` and `pickup` from the query string.
fn stock_query(query: &Query) -> ApiResult<StockQuery> {
    let near = query.parse("near", Position::parse_near)?;
    let radius = query.parse("radius_km", RadiusKm::parse)?;
    let kind = query.parse("kind", |k| LocationKind::parse(k).ok_or("must be store, warehouse or pickup_point"))?;
    let pickup = query
        .parse("pickup", |p| match p {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err("must be true or false"),
        })?
        .unwrap_or(false);
    StockQuery::new(near, radius, kind, pickup).map_err(|e| invalid_query(e.to_string()))
}

const LOOKUP_PARAMS: [&str; 5] = ["near", "radius_km", "kind", "pickup", "max_staleness"];

/// Reads `max_staleness`: absent means a strong read.
fn freshness(query: &Query) -> ApiResult<Option<MaxStaleness>> {
    query.parse("max_staleness", MaxStaleness::parse)
}

/// A lookup's answer; one that accepted stale counts says in `Age` how old the oldest is.
fn lookup_answer<'a, T: serde::Serialize>(
    value: &T,
    freshness: Option<MaxStaleness>,
    read_at: impl IntoIterator<Item = &'a chrono::DateTime<chrono::Utc>>,
) -> ApiResult<Response> {
    let response = json(200, value)?;
    if freshness.is_some() {
        response.headers().set("age", &age_seconds(read_at).to_string())?;
    }
    Ok(response)
}

pub async fn lookup_one(sku: &str, req: &Request, env: &Env) -> ApiResult<Response> {
    let sku = path_id(sku, Sku::parse)?;
    let query = Query::of(req)?;
    query.only(&LOOKUP_PARAMS)?;
    let fresh = freshness(&query)?;
    let query = stock_query(&query)?;
    let db = d1::database(env)?;
    let product = d1::catalog::get_cached(&db, &sku).await?.ok_or_else(|| Problem::not_found("sku", sku.as_str()))?;
    let wanted = [(&sku, &product.style)];
    let (locations, mut read) = futures_util::try_join!(d1::locations::by_id(&db), levels(env, &wanted, fresh))?;
    let read = read.pop().ok_or_else(Problem::internal)?;
    let stock = sku_stock(sku, &read, &locations, &query);
    lookup_answer(&stock, fresh, [&stock.read_at])
}

pub async fn lookup_batch(req: &mut Request, env: &Env) -> ApiResult<Response> {
    let body: BatchLookup = json_body(req).await?;
    let (skus, query, fresh) = body.into_parts().map_err(Problem::from)?;
    let db = d1::database(env)?;
    let (known, locations) = futures_util::try_join!(d1::catalog::many_cached(&db, &skus), d1::locations::by_id(&db))?;
    let unknown: Vec<&Sku> = skus.iter().filter(|s| !known.iter().any(|p| &p.sku == *s)).collect();
    if !unknown.is_empty() {
        return Err(Problem::new(404, "unknown_skus", format!("{} of the SKUs are not in the catalog", unknown.len()))
            .with("unknown_skus", unknown)
            .into());
    }
    let styles: Vec<(&Sku, &StyleCode)> = skus.iter().filter_map(|sku| known.iter().find(|p| &p.sku == sku).map(|p| (sku, &p.style))).collect();
    let reads = levels(env, &styles, fresh).await?;
    let items: Vec<_> = skus.into_iter().zip(reads).map(|(sku, read)| sku_stock(sku, &read, &locations, &query)).collect();
    lookup_answer(&serde_json::json!({ "items": items }), fresh, items.iter().map(|i| &i.read_at))
}

pub async fn lookup_style(sku: &str, req: &Request, env: &Env) -> ApiResult<Response> {
    let scanned = path_id(sku, Sku::parse)?;
    let query = Query::of(req)?;
    query.only(&LOOKUP_PARAMS)?;
    let fresh = freshness(&query)?;
    let query = stock_query(&query)?;
    let db = d1::database(env)?;
    let product = find(&db, &scanned).await?;
    let (variants, locations) =
        futures_util::try_join!(d1::catalog::list(&db, Some(&product.style)), d1::locations::by_id(&db))?;
    let reads = levels(env, &variants.iter().map(|p| (&p.sku, &p.style)).collect::<Vec<_>>(), fresh).await?;
    let stocks = variants
        .into_iter()
        .zip(reads)
        .map(|(p, read)| {
            let stock = sku_stock(p.sku.clone(), &read, &locations, &query);
            (p, stock)
        })
        .collect();
    let style = style_stock(scanned, product.style, stocks);
    lookup_answer(&style, fresh, style.variants.iter().map(|v| &v.read_at))
}

pub async fn adjust(sku: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let sku = path_id(sku, Sku::parse)?;
    let key = idempotency_key(req)?;
    let body: AdjustmentRequest = json_body(req).await?;
    caller.may_adjust_stock_at(&body.location_id)?;
    let db = d1::database(env)?;
    let (product, location) = futures_util::try_join!(find(&db, &sku), d1::locations::get(&db, &body.location_id))?;
    if location.is_none() {
        return Err(Problem::not_found("location", body.location_id.as_str()).into());
    }
    let fingerprint = fingerprint(&sku, &body)?;
    let command = AdjustCommand {
        idempotency_key: format!("{}:{key}", caller.key_id()),
        fingerprint,
        recorded_by: caller.key_id().to_owned(),
        adjustment_id: new_id("adj"),
        recorded_at: now_rfc3339(),
        location_id: body.location_id,
        change: body.change,
        reason: body.reason,
        note: body.note,
    };
    let reply = StockClient::for_product(env, &product).adjust(command).await?;
    let response = json_text(201, reply.body)?;
    if reply.replayed {
        response.headers().set("idempotent-replayed", "true")?;
    }
    Ok(response)
}

/// What makes two adjustment requests "the same" for idempotency.
fn fingerprint(sku: &Sku, body: &AdjustmentRequest) -> ApiResult<String> {
    let canonical = serde_json::to_string(&(sku, &body.location_id, &body.change, &body.reason, &body.note))?;
    Ok(hex::encode(Sha256::digest(canonical.as_bytes())))
}

pub async fn list_adjustments(sku: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let sku = path_id(sku, Sku::parse)?;
    let query = Query::of(req)?;
    query.only(&["location_id", "limit", "cursor"])?;
    let asked = query.parse("location_id", LocationId::parse)?;
    let location = caller.adjustment_scope(asked)?;
    let limit = query
        .parse("limit", |l| query_count(l, 1..=200).ok_or("must be 1 to 200"))?
        .unwrap_or(50);
    let before = query.parse("cursor", |c| c.parse::<i64>().ok().filter(|n| *n > 0).ok_or("is not a cursor from this list"))?;
    let product = find(&d1::database(env)?, &sku).await?;
    let page = StockClient::for_product(env, &product).list_adjustments(location, limit, before).await?;
    json(200, &page)
}

/// The body of the test hook `POST /v1/test-hooks/stock/{sku}/holds`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkHolds {
    location_id: LocationId,
    /// 1 to 5,000 holds of one unit each.
    count: u32,
    hold_seconds: u32,
}

/// Tests only (served when `FAULT_INJECTION` is enabled, to admin keys): opens `count`
/// holds of one unit on a SKU at once, through the ledger's own hold rule, so that
/// flash-sale tests and benchmarks can reach tens of thousands of live holds quickly.
pub async fn bulk_hold(sku: &str, path: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let sku = test_hook(sku, path, env, caller)?;
    let body: BulkHolds = json_body(req).await?;
    if !(1..=5000).contains(&body.count) {
        return Err(Problem::unprocessable("invalid_body", "count must be 1 to 5000").into());
    }
    let command = StockCommand::BulkHold {
        prefix: format!("bulk:{}:", new_id("b")),
        location_id: body.location_id,
        count: body.count,
        expires_at: chrono::Utc::now() + chrono::Duration::seconds(body.hold_seconds.into()),
    };
    let held: u32 = StockClient::for_sku(env, &sku).await?.bulk_hold(command).await?;
    json(201, &serde_json::json!({ "held": held }))
}

/// A test hook's SKU: served only when `FAULT_INJECTION` is enabled, to admin keys.
fn test_hook(sku: &str, path: &str, env: &Env, caller: &Principal) -> ApiResult<Sku> {
    if !faults::enabled(env) {
        return Err(Problem::new(404, "not_found", format!("no route {path}; see /v1/openapi.json")).into());
    }
    caller.require_admin()?;
    path_id(sku, Sku::parse)
}

/// The body of the test hook `POST /v1/test-hooks/stock/{sku}/legacy-ledger`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlantedLedger {
    ledger: LegacyLedger,
    #[serde(default)]
    as_json: bool,
}

/// Tests only: writes a ledger into the SKU's own stock object, as stock was kept before
/// styles, so that tests can see a style's object take it over on first touch.
pub async fn plant_legacy(sku: &str, path: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let sku = test_hook(sku, path, env, caller)?;
    let PlantedLedger { ledger, as_json } = json_body(req).await?;
    let stub = stock_legacy::old_object(env, &sku)?;
    request::<_, (), StockRefusal>(&stub, &StockCall::PlantLegacy { ledger, as_json }).await??;
    Ok(Response::empty()?.with_status(204))
}
