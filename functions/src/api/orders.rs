//! Orders from every channel: placing one, reading it, moving it on, listing a
//! customer's orders and a store's pickups. The flows themselves (and how a crash
//! halfway converges) are `omniedge::workflows`; here they are bound to the request.

use crate::config;
use crate::d1;
use crate::http::error::ApiResult;
use crate::http::faults;
use crate::http::{body_bytes, idempotency_key, invalid_query, json, new_id, parse_json, parse_value, path_id, query_count, Query};
use crate::ports::EdgePorts;
use omniedge::access::Principal;
use omniedge::returns::ReturnSummary;
use omniedge::sales::order::OrderAction;
use omniedge::sales::placement::{Order, OrderDraft};
use omniedge::shared::ids::{CustomerId, LocationId, OrderId};
use omniedge::workflows::lifecycle;
use omniedge::workflows::placement::{self, Placed, PlacementRequest};
use omniedge::workflows::ports::ClaimKey;
use crate::http::problem::Problem;
use serde::Serialize;
use sha2::{Digest, Sha256};
use worker::{Env, Request, Response};

pub async fn place(req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let key = idempotency_key(req)?;
    // Bodies that say the same thing (member order, spacing, `1` or `1.0`) are the same
    // request under one Idempotency-Key: the fingerprint is of the body as read.
    let body: serde_json::Value = parse_json(&body_bytes(req).await?)?;
    let fingerprint = hex::encode(Sha256::digest(body.to_string()));
    let draft: OrderDraft = parse_value(body)?;
    let request = PlacementRequest {
        order_id: OrderId::parse(&new_id("ord")).map_err(|_| Problem::internal())?,
        draft,
        caller: caller.clone(),
        claim: ClaimKey { scope: format!("{}:orders", caller.key_id()), key, fingerprint, owner: new_id("claim") },
        tariff: config::delivery_tariff(env)?,
    };
    let ports = EdgePorts::new(env, faults::requested(req, env))?;
    match placement::place(&ports, request).await? {
        Placed::New(order) => json(201, &order),
        Placed::Replayed(order) => {
            let response = json(201, &order)?;
            response.headers().set("idempotent-replayed", "true")?;
            Ok(response)
        }
    }
}

/// One order, with its returns (read alongside it, from D1).
pub async fn get(id: &str, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, OrderId::parse)?;
    let db = d1::database(env)?;
    let ports = EdgePorts::new(env, None)?;
    let (order, returns) = futures_util::future::join(lifecycle::read(&ports, &id), d1::returns::of_order(&db, &id)).await;
    let order = order?;
    caller.may_read_order(order.customer_id.as_ref())?;
    json(200, &OrderWithReturns { order: &order, returns: returns?.iter().map(ReturnSummary::from).collect() })
}

/// An order as `GET /v1/orders/{id}` answers it: with a summary of each of its returns.
#[derive(Serialize)]
struct OrderWithReturns<'a> {
    #[serde(flatten)]
    order: &'a Order,
    returns: Vec<ReturnSummary>,
}

/// Moves an order on (mark_ready, collect, ship, deliver, cancel) with its stock effect.
pub async fn act(id: &str, action: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, OrderId::parse)?;
    let action = OrderAction::parse(action)
        .ok_or_else(|| Problem::new(404, "not_found", format!("no order action {action:?}; use mark_ready, collect, ship, deliver or cancel")))?;
    let ports = EdgePorts::new(env, faults::requested(req, env))?;
    let order = lifecycle::move_on(&ports, &id, action, caller.key_id(), |order| caller.may_move_order(&order.id, &order.locations())).await?;
    json(200, &order)
}

/// A customer's orders from every channel, newest first, with a cursor.
pub async fn list(req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let query = Query::of(req)?;
    query.only(&["customer_id", "limit", "cursor"])?;
    let customer = query
        .parse("customer_id", CustomerId::parse)?
        .ok_or_else(|| invalid_query("customer_id is required".into()))?;
    caller.may_read_customer(&customer)?;
    let limit = query
        .parse("limit", |l| query_count(l, 1..=100).ok_or("must be 1 to 100"))?
        .unwrap_or(20);
    let after = query.parse("cursor", decode_cursor)?;
    let db = d1::database(env)?;
    let mut orders = d1::orders::for_customer(&db, &customer, limit + 1, after).await?;
    let next_cursor = (orders.len() > limit as usize).then(|| {
        orders.truncate(limit as usize);
        orders.last().map(encode_cursor).unwrap_or_default()
    });
    json(200, &serde_json::json!({ "items": orders, "next_cursor": next_cursor }))
}

fn encode_cursor(order: &Order) -> String {
    hex::encode(format!("{}|{}", order.placed_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), order.id))
}

fn decode_cursor(text: &str) -> Result<(String, String), &'static str> {
    let bytes = hex::decode(text).map_err(|_| "is not a cursor from this list")?;
    let text = String::from_utf8(bytes).map_err(|_| "is not a cursor from this list")?;
    let (at, id) = text.split_once('|').ok_or("is not a cursor from this list")?;
    Ok((at.to_owned(), id.to_owned()))
}

/// A store's click & collect orders waiting to be handed over.
pub async fn pickups(location: &str, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let location = path_id(location, LocationId::parse)?;
    caller.may_see_pickups_at(&location)?;
    let db = d1::database(env)?;
    d1::locations::get(&db, &location).await?.ok_or_else(|| Problem::not_found("location", location.as_str()))?;
    let items = d1::orders::open_pickups(&db, &location).await?;
    json(200, &serde_json::json!({ "items": items }))
}
