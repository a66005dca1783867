//! Cart-abandonment reminders over HTTP: the VAPID public key storefronts subscribe
//! with; a cart's push subscriptions (register, list, delete) and marketing consents,
//! reached like the cart itself (a publishable key with the cart's token or its
//! shopper's session, or a secret key); the back office's log of a cart's reminders
//! and the outcome report; and the three links in reminders, which carry their own
//! signed token and no key: the RFC 8058 one-click unsubscribe (POST, never a
//! redirect), a tracked click (a redirect to the cart) and the service worker's
//! "shown". Tests (with `FAULT_INJECTION`) can hand a step to the queue twice.

use crate::api::carts;
use crate::config;
use crate::d1;
use crate::d1::reminders::LogEntry;
use crate::http::error::ApiResult;
use crate::http::faults;
use crate::http::problem::Problem;
use crate::http::{body_bytes, json, json_body, no_content, parse_json, path_id, query_count, Query};
use crate::jobs::reminders::push::VapidKey;
use crate::objects::cart::CartCommand;
use crate::objects::cart_client::CartClient;
use omniedge::access::Principal;
use omniedge::customers::Email;
use omniedge::engagement::consent::{ConsentDraft, ConsentSource};
use omniedge::engagement::delivery::ReminderMessage;
use omniedge::engagement::links::{verify, LinkClaim};
use omniedge::engagement::push::SubscriptionDraft;
use omniedge::engagement::ReminderChannel;
use omniedge::sales::cart::Cart;
use omniedge::shared::ids::CartId;
use serde::Serialize;
use std::collections::BTreeMap;
use worker::{Env, Headers, Request, Response};

/// `GET /v1/reminders/vapid-public-key`.
pub fn vapid_public_key(env: &Env) -> ApiResult<Response> {
    let key = config::vapid_private_key(env).ok_or_else(Problem::push_not_configured)?;
    let key = VapidKey::parse(&key).map_err(|e| {
        worker::console_error!("{e}");
        Problem::push_not_configured()
    })?;
    json(200, &serde_json::json!({ "public_key": key.public_key() }))
}

/// Browsers write `"expirationTime": null` in `PushSubscription.toJSON()`: that one
/// null is read as absent (requests elsewhere may not hold null).
fn browser_json(bytes: Vec<u8>) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return bytes };
    let subscription = value.get_mut("subscription").and_then(|s| s.as_object_mut());
    match subscription {
        Some(s) if s.get("expirationTime").is_some_and(serde_json::Value::is_null) => {
            s.remove("expirationTime");
            serde_json::to_vec(&value).unwrap_or(bytes)
        }
        _ => bytes,
    }
}

/// The cart at `id`, if the caller may reach it.
async fn reachable_cart(id: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Cart> {
    let id = path_id(id, CartId::parse)?;
    let cart = CartClient::for_cart(env, &id)?.send(CartCommand::Get).await?;
    carts::admit(&cart, req, caller)?;
    Ok(cart)
}

pub async fn register_subscription(id: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let draft: SubscriptionDraft = parse_json(&browser_json(body_bytes(req).await?))?;
    let cart = reachable_cart(id, req, env, caller).await?;
    let subscription = draft.parse(config::push_transport(env)).map_err(Problem::from)?;
    let db = d1::database(env)?;
    let stored = d1::reminders::register_subscription(&db, &cart.id, cart.customer_id.as_ref(), &subscription, ConsentSource::of(caller)).await?;
    json(201, &stored)
}

pub async fn list_subscriptions(id: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let cart = reachable_cart(id, req, env, caller).await?;
    let items = d1::reminders::subscriptions_of_cart(&d1::database(env)?, &cart.id).await?;
    json(200, &serde_json::json!({ "cart_id": cart.id, "items": items }))
}

pub async fn delete_subscription(id: &str, subscription: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let cart = reachable_cart(id, req, env, caller).await?;
    if d1::reminders::delete_subscription(&d1::database(env)?, &cart.id, subscription).await? {
        no_content()
    } else {
        Err(Problem::not_found("push_subscription", subscription).into())
    }
}

pub async fn record_consent(id: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let draft: ConsentDraft = json_body(req).await?;
    let cart = reachable_cart(id, req, env, caller).await?;
    let record = d1::reminders::record_consent(&d1::database(env)?, Some(&cart.id), cart.customer_id.as_ref(), draft, ConsentSource::of(caller)).await?;
    json(201, &record)
}

/// What the back office sees of a cart's reminders: every decision and event, and the counts.
#[derive(Serialize)]
struct CartReminders {
    cart_id: CartId,
    counts: BTreeMap<String, u32>,
    entries: Vec<LogEntry>,
}

pub async fn cart_log(id: &str, env: &Env, caller: &Principal) -> ApiResult<Response> {
    caller.require_secret()?;
    let id = path_id(id, CartId::parse)?;
    let entries = d1::reminders::cart_log(&d1::database(env)?, &id).await?;
    let mut counts: BTreeMap<String, u32> = ["sent", "skipped", "failed", "shown", "clicked"].iter().map(|e| ((*e).to_owned(), 0)).collect();
    for entry in &entries {
        if let Some(n) = counts.get_mut(&entry.event) {
            *n += 1;
        }
    }
    json(200, &CartReminders { cart_id: id, counts, entries })
}

/// One row of the outcome report: a step and channel.
#[derive(Serialize, Default)]
struct ReportRow {
    step: u32,
    channel: String,
    sent: u32,
    skipped: BTreeMap<String, u32>,
    failed: u32,
    shown: u32,
    clicked: u32,
    recovered_orders: u32,
    recovered_revenue: Vec<omniedge::shared::money::Money>,
}

/// `GET /v1/reminders/report?from=&to=` (RFC 3339; default the last 7 days).
pub async fn report(req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    caller.require_admin()?;
    let query = Query::of(req)?;
    query.only(&["from", "to"])?;
    let time = |t: &str| chrono::DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&chrono::Utc));
    let now = chrono::Utc::now();
    let to = query.parse("to", time)?.unwrap_or(now);
    let from = query.parse("from", time)?.unwrap_or(to - chrono::Duration::days(7));
    if from >= to {
        return Err(crate::http::invalid_query("from must be before to".into()));
    }
    let settings = config::reminder_settings(env).map_err(|e| {
        worker::console_error!("reminders: {e}");
        Problem::internal()
    })?;
    let db = d1::database(env)?;
    let (from_text, to_text) = (d1::reminders::stamp(from), d1::reminders::stamp(to));
    let counts = d1::reminders::event_counts(&db, &from_text, &to_text).await?;
    let recovered = d1::reminders::recovered(&db, &from_text, &to_text, settings.recovery_window.num_seconds()).await?;
    let mut rows: BTreeMap<(u32, String), ReportRow> = BTreeMap::new();
    fn row<'a>(rows: &'a mut BTreeMap<(u32, String), ReportRow>, step: u32, channel: &str) -> &'a mut ReportRow {
        rows.entry((step, channel.to_owned())).or_insert_with(|| ReportRow { step, channel: channel.to_owned(), ..ReportRow::default() })
    }
    for c in counts {
        let r = row(&mut rows, c.step, &c.channel);
        match c.event.as_str() {
            "sent" => r.sent += c.count,
            "failed" => r.failed += c.count,
            "shown" => r.shown += c.count,
            "clicked" => r.clicked += c.count,
            _ => *r.skipped.entry(c.reason.unwrap_or_default()).or_default() += c.count,
        }
    }
    for rec in recovered {
        let r = row(&mut rows, rec.step, &rec.channel);
        r.recovered_orders += rec.orders;
        r.recovered_revenue.push(rec.revenue);
    }
    json(200, &serde_json::json!({ "from": from_text, "to": to_text, "rows": rows.into_values().collect::<Vec<_>>() }))
}

fn link_keys(env: &Env) -> ApiResult<omniedge::access::session::SigningKeys> {
    config::reminder_settings(env).map(|s| s.link_keys).map_err(|e| {
        worker::console_error!("reminders: {e}");
        Problem::internal().into()
    })
}

/// The address an unsubscribe token names.
fn unsubscribing(token: Option<&str>, env: &Env) -> ApiResult<Email> {
    let token = token.ok_or_else(|| crate::http::invalid_query("token is required".into()))?;
    match verify(&link_keys(env)?, token).map_err(Problem::from)? {
        LinkClaim::Unsubscribe { address } => Ok(address),
        LinkClaim::Reminder { .. } => Err(Problem::from(omniedge::engagement::links::InvalidLink).into()),
    }
}

/// RFC 8058 one-click unsubscribe: a POST with the signed token, no login or cookie,
/// answered 200 (never a redirect); idempotent. The address gets no more email
/// reminders, and its customer's email consent is withdrawn.
pub async fn unsubscribe(req: &mut Request, env: &Env) -> ApiResult<Response> {
    let query = Query::of(req)?;
    let address = unsubscribing(query.get("token"), env)?;
    let db = d1::database(env)?;
    d1::reminders::unsubscribe(&db, ReminderChannel::Email, &address).await?;
    if let Some(customer) = d1::customers::by_email(&db, &address).await? {
        let customer = omniedge::shared::ids::CustomerId::parse(&customer.id).map_err(|_| Problem::internal())?;
        let withdrawn = ConsentDraft { channel: ReminderChannel::Email, granted: false };
        d1::reminders::record_consent(&db, None, Some(&customer), withdrawn, ConsentSource::UnsubscribeLink).await?;
    }
    json(200, &serde_json::json!({ "unsubscribed": true, "channel": "email" }))
}

/// The visible unsubscribe link opened in a browser: a page whose button makes the
/// one-click POST (a GET changes nothing, so link scanners cannot unsubscribe anyone).
pub fn unsubscribe_page(req: &Request, env: &Env) -> ApiResult<Response> {
    let query = Query::of(req)?;
    unsubscribing(query.get("token"), env)?;
    let token = query.get("token").unwrap_or_default();
    let page = format!(
        r#"<!doctype html><html><body><form method="post" action="?token={token}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><p>Stop cart reminders by email?</p><button type="submit">Unsubscribe</button></form></body></html>"#
    );
    let headers = Headers::new();
    headers.set("content-type", "text/html; charset=utf-8")?;
    Ok(Response::ok(page)?.with_headers(headers))
}

/// The reminder a link token names.
fn reminder_of(token: &str, env: &Env) -> ApiResult<(CartId, u32, ReminderChannel)> {
    match verify(&link_keys(env)?, token).map_err(Problem::from)? {
        LinkClaim::Reminder { cart_id, step, channel } => Ok((cart_id, step, channel)),
        LinkClaim::Unsubscribe { .. } => Err(Problem::from(omniedge::engagement::links::InvalidLink).into()),
    }
}

/// A click on a reminder: recorded, then on to the cart (302).
pub async fn click(token: &str, env: &Env) -> ApiResult<Response> {
    let (cart, step, channel) = reminder_of(token, env)?;
    d1::reminders::log(&d1::database(env)?, &cart, step, channel, "clicked", None).await?;
    let settings = config::reminder_settings(env).map_err(|e| {
        worker::console_error!("reminders: {e}");
        Problem::internal()
    })?;
    let headers = Headers::new();
    headers.set("location", &settings.cart_url(&cart))?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::empty()?.with_status(302).with_headers(headers))
}

/// The service worker showed the push notification.
pub async fn shown(token: &str, env: &Env) -> ApiResult<Response> {
    let (cart, step, channel) = reminder_of(token, env)?;
    d1::reminders::log(&d1::database(env)?, &cart, step, channel, "shown", None).await?;
    no_content()
}

/// Tests only: hands a cart's step to the queue `copies` times, as a due step (a
/// doubled alarm) or as a delivery (a redelivered message).
pub async fn test_enqueue(id: &str, step: &str, path: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    if !faults::enabled(env) {
        return Err(Problem::new(404, "not_found", format!("no route {path}; see /v1/openapi.json")).into());
    }
    caller.require_admin()?;
    let cart_id = path_id(id, CartId::parse)?;
    let step = path_id(step, |s| s.parse::<u32>().map_err(|e| e.to_string()))?;
    let query = Query::of(req)?;
    query.only(&["kind", "copies"])?;
    let copies = query.parse("copies", |c| query_count(c, 1..=5).ok_or("1 to 5"))?.unwrap_or(2);
    let message = match query.get("kind").unwrap_or("step_due") {
        "step_due" => ReminderMessage::StepDue { cart_id, step },
        "deliver" => ReminderMessage::Deliver { cart_id, step },
        other => return Err(crate::http::invalid_query(format!("kind is step_due or deliver, got {other:?}"))),
    };
    let queue = env.queue("REMINDERS")?;
    for _ in 0..copies {
        queue.send(message.clone()).await?;
    }
    json(202, &serde_json::json!({ "enqueued": copies }))
}
