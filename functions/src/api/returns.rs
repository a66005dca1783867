//! Returns and exchanges from every channel: opening one, reading and listing them (an
//! order's, a store's expected ones, the back office's by status, location and date),
//! moving one on (receive, reject, cancel, refund), a location's damaged units (and
//! writing them off) and a customer's store credit. The flows are `omniedge::workflows::returns`.

use crate::config;
use crate::d1;
use crate::http::error::ApiResult;
use crate::http::faults;
use crate::http::problem::Problem;
use crate::http::{body_bytes, idempotency_key, invalid_query, json, new_id, parse_json, parse_value, path_id, query_count, Query};
use crate::ports::EdgePorts;
use omniedge::access::{AccessError, Principal};
use omniedge::returns::damaged::{WriteOff, WriteOffRequest};
use omniedge::returns::{ReceiptRequest, RefundMethod, Rejection, ReturnRequest, ReturnState, ReturnStatus};
use omniedge::shared::channel::Channel;
use omniedge::shared::ids::{CustomerId, LocationId, OrderId, ReturnId};
use omniedge::workflows::ports::{ClaimKey, ClaimRefused};
use omniedge::workflows::returns::{self, Actor, Answered, Step};
use sha2::{Digest, Sha256};
use worker::{Env, Request, Response};

/// The channel a caller opens returns in; back-office keys open in the order's channel.
fn channel_of(caller: &Principal) -> Option<Channel> {
    match caller {
        Principal::Admin { .. } => None,
        Principal::Store { .. } => Some(Channel::Store),
        Principal::Storefront { channel, .. } | Principal::Publishable { channel, .. } => Some(*channel),
    }
}

fn ports<'a>(req: &Request, env: &'a Env) -> ApiResult<EdgePorts<'a>> {
    Ok(EdgePorts::new(env, faults::requested(req, env))?.with_clock_offset(faults::clock_offset(req, env)))
}

/// The body as JSON and its fingerprint (bodies that say the same thing are one request).
async fn fingerprinted(req: &mut Request) -> ApiResult<(serde_json::Value, String)> {
    let body: serde_json::Value = parse_json(&body_bytes(req).await?)?;
    let fingerprint = hex::encode(Sha256::digest(body.to_string()));
    Ok((body, fingerprint))
}

fn answer(status: u16, answered: Answered) -> ApiResult<Response> {
    match answered {
        Answered::New(ret) => json(status, &ret),
        Answered::Replayed(ret) => {
            let response = json(status, &ret)?;
            response.headers().set("idempotent-replayed", "true")?;
            Ok(response)
        }
    }
}

/// Opens a return: `POST /v1/returns`.
pub async fn open(req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let key = idempotency_key(req)?;
    let (body, fingerprint) = fingerprinted(req).await?;
    let request: ReturnRequest = parse_value(body)?;
    let id = ReturnId::parse(&new_id("ret")).map_err(|_| Problem::internal())?;
    let claim = ClaimKey { scope: format!("{}:returns", caller.key_id()), key, fingerprint, owner: new_id("claim") };
    let settings = config::return_settings(env)?;
    let at = request.location_id.clone();
    let on_the_spot = request.received.is_some();
    let authorize = |order: &omniedge::sales::placement::Order| {
        caller.may_ask_return(order.customer_id.as_ref(), &at)?;
        if on_the_spot {
            caller.may_handle_returns_at(&at)?;
        }
        Ok(())
    };
    let actor = Actor { by: caller.key_id(), channel: channel_of(caller), authorize };
    answer(201, returns::open(&ports(req, env)?, id, request, &claim, &settings, actor).await?)
}

pub async fn get(id: &str, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, ReturnId::parse)?;
    let ret = d1::returns::get(&d1::database(env)?, &id).await?.ok_or_else(|| Problem::not_found("return", id.as_str()))?;
    caller.may_read_order(ret.customer_id.as_ref())?;
    json(200, &ret)
}

/// `GET /v1/returns`: an order's returns (`order_id`, for whoever may read the order),
/// or the back office's list by `status`, `location_id` and opening date (`from`, `to`).
pub async fn list(req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let query = Query::of(req)?;
    query.only(&["order_id", "status", "location_id", "from", "to", "limit"])?;
    let db = d1::database(env)?;
    if let Some(order) = query.parse("order_id", OrderId::parse)? {
        if ["status", "location_id", "from", "to", "limit"].iter().any(|p| query.get(p).is_some()) {
            return Err(invalid_query("order_id lists all of the order's returns: send it alone".into()));
        }
        let stored = d1::orders::get(&db, &order).await?.ok_or_else(|| Problem::not_found("order", order.as_str()))?;
        caller.may_read_order(stored.order.customer_id.as_ref())?;
        return json(200, &serde_json::json!({ "items": d1::returns::of_order(&db, &order).await? }));
    }
    caller.require_admin()?;
    let status = query.parse("status", |s| {
        ReturnStatus::ALL.into_iter().find(|k| k.as_str() == s).ok_or("must be requested, received, refunded, rejected or cancelled")
    })?;
    let instant = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .map_err(|_| "must be an RFC 3339 timestamp such as 2026-11-01T00:00:00Z")
    };
    let filter = d1::returns::Filter {
        status,
        location: query.parse("location_id", LocationId::parse)?,
        from: query.parse("from", instant)?,
        to: query.parse("to", instant)?,
        limit: query.parse("limit", |l| query_count(l, 1..=200).ok_or("must be 1 to 200"))?.unwrap_or(50),
    };
    json(200, &serde_json::json!({ "items": d1::returns::list(&db, &filter).await? }))
}

/// Moves a return on: `POST /v1/returns/{id}/{receive|reject|cancel|refund}`.
pub async fn act(id: &str, action: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, ReturnId::parse)?;
    if !["receive", "reject", "cancel", "refund"].contains(&action) {
        return Err(Problem::new(404, "not_found", format!("no return action {action:?}; use receive, reject, cancel or refund")).into());
    }
    let key = idempotency_key(req)?;
    let (step, fingerprint) = match action {
        "cancel" => (Step::Cancel, "cancel".to_owned()),
        _ => {
            let (body, fingerprint) = fingerprinted(req).await?;
            let step = match action {
                "receive" => {
                    let receipt: ReceiptRequest = parse_value(body)?;
                    let at = match (receipt.location_id, caller) {
                        (Some(at), _) => at,
                        (None, Principal::Store { location_id, .. }) => location_id.clone(),
                        (None, _) => return Err(Problem::unprocessable("invalid_body", "location_id: name where the goods arrived").into()),
                    };
                    Step::Receive { at, conditions: receipt.lines.into_iter().map(|l| (l.sku, l.condition)).collect() }
                }
                "reject" => Step::Reject { reason: parse_value::<Rejection>(body)?.reason },
                _ => Step::Refund(parse_value::<RefundMethod>(body)?),
            };
            (step, fingerprint)
        }
    };
    let claim = ClaimKey { scope: format!("{}:return:{id}:{action}", caller.key_id()), key, fingerprint, owner: new_id("claim") };
    let authorize = |ret: &omniedge::returns::Return| -> Result<(), AccessError> {
        match &step {
            Step::Receive { at, .. } => caller.may_handle_returns_at(at),
            Step::Reject { .. } => caller.may_handle_returns_at(&ret.location_id),
            Step::Cancel => caller.may_ask_return(ret.customer_id.as_ref(), &ret.location_id),
            Step::Refund(_) => match &ret.state {
                ReturnState::Received { receipt } | ReturnState::Refunded { receipt, .. } => caller.may_handle_returns_at(&receipt.location_id),
                _ => caller.may_handle_returns_at(&ret.location_id),
            },
        }
    };
    let actor = Actor { by: caller.key_id(), channel: channel_of(caller), authorize };
    let ports = ports(req, env)?;
    answer(200, returns::step(&ports, &id, step.clone(), &claim, actor).await?)
}

/// A location's expected returns and exchanges (with the units set aside), oldest first.
pub async fn expected(location: &str, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let location = path_id(location, LocationId::parse)?;
    caller.may_handle_returns_at(&location)?;
    let db = d1::database(env)?;
    d1::locations::get(&db, &location).await?.ok_or_else(|| Problem::not_found("location", location.as_str()))?;
    json(200, &serde_json::json!({ "items": d1::returns::expected_at(&db, &location).await? }))
}

/// Units received damaged at a location: never available, listed until written off.
pub async fn damaged(location: &str, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let location = path_id(location, LocationId::parse)?;
    caller.may_handle_returns_at(&location)?;
    let db = d1::database(env)?;
    d1::locations::get(&db, &location).await?.ok_or_else(|| Problem::not_found("location", location.as_str()))?;
    let damaged = d1::returns::damaged_at(&db, &location).await?;
    json(200, &serde_json::json!({ "location_id": location, "items": damaged.items, "counts": damaged.counts, "write_offs": damaged.write_offs }))
}

/// Writes off damaged units at a location: `POST /v1/locations/{id}/damaged-units/write-offs`,
/// under `Idempotency-Key`; never below zero, and a refusal changes nothing.
pub async fn write_off(location: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let location = path_id(location, LocationId::parse)?;
    caller.may_handle_returns_at(&location)?;
    let key = idempotency_key(req)?;
    let (body, fingerprint) = fingerprinted(req).await?;
    let request: WriteOffRequest = parse_value(body)?;
    let db = d1::database(env)?;
    d1::locations::get(&db, &location).await?.ok_or_else(|| Problem::not_found("location", location.as_str()))?;
    let claim = ClaimKey { scope: format!("{}:write-off:{location}", caller.key_id()), key, fingerprint, owner: new_id("claim") };
    match d1::idempotency::claim(&db, &claim.scope, &claim.key, &claim.fingerprint, &claim.owner, &crate::http::now_rfc3339()).await?? {
        d1::idempotency::Claim::Owned => {}
        d1::idempotency::Claim::Replay { body } => {
            let response = json(201, &serde_json::from_str::<WriteOff>(&body)?)?;
            response.headers().set("idempotent-replayed", "true")?;
            return Ok(response);
        }
    }
    let written: ApiResult<WriteOff> = async {
        // Another write-off may take the units between the count and the write: count again.
        for _ in 0..4 {
            let remaining = d1::returns::damaged_remaining(&db, &location, &request.sku).await?;
            let write_off = request.clone().write_off(new_id("wo"), location.clone(), remaining, caller.key_id(), chrono::Utc::now())?;
            if d1::returns::write_off(&db, &claim, &write_off).await? {
                return Ok(write_off);
            }
        }
        Err(ClaimRefused::InUse.into())
    }
    .await;
    match written {
        Ok(write_off) => json(201, &write_off),
        Err(refused) => {
            d1::idempotency::abandon(&db, &claim.scope, &claim.key, &claim.owner).await?;
            Err(refused)
        }
    }
}

/// A customer's store credit balance, per currency.
pub async fn store_credit(id: &str, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CustomerId::parse)?;
    caller.may_read_customer(&id)?;
    let db = d1::database(env)?;
    d1::customers::get(&db, &id).await?.ok_or_else(|| Problem::not_found("customer", id.as_str()))?;
    json(200, &serde_json::json!({ "customer_id": id, "balances": d1::store_credit::balances(&db, &id).await? }))
}
