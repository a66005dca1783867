//! The reminder tables (migration 0007): marketing consents, push subscriptions,
//! unsubscribes, one delivery per cart and step (`reminder_deliveries`: the delivery
//! key, claimed before any send, with the frequency cap checked in the same
//! statement), the log of every decision and event, and what a cart owes
//! (`owed_effects` rows with a `cart_id`). Also what a due step reads of orders.
//! `D1Reminders` is all of it as the reminder workflow's `ReminderStore`.

use crate::d1::order_store::OrUnavailable;
use crate::http::error::ApiResult;
use crate::http::now_rfc3339;
use chrono::{DateTime, SecondsFormat, Utc};
use omniedge::customers::{Customer, Email};
use omniedge::engagement::consent::{ConsentDraft, ConsentSource};
use omniedge::engagement::delivery::CartEffect;
use omniedge::engagement::push::PushSubscription;
use omniedge::engagement::ReminderChannel;
use omniedge::shared::ids::{CartId, CustomerId};
use omniedge::engagement::decision::SkipReason;
use omniedge::shared::money::Money;
use omniedge::workflows::ports::Unavailable;
use omniedge::workflows::reminders::ports::{Claimed, Delivery, DeliveryState, Ending, OwedByCart, PushDevice, ReminderStore, Sending};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::D1Database;

pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn opt(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from)
}

/// A consent as recorded.
#[derive(Debug, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<String>,
    pub channel: String,
    pub granted: bool,
    pub source: String,
    pub recorded_at: String,
}

/// Records a consent given or withdrawn on a cart and/or a customer (at least one).
pub async fn record_consent(db: &D1Database, cart: Option<&CartId>, customer: Option<&CustomerId>, draft: ConsentDraft, source: ConsentSource) -> ApiResult<ConsentRecord> {
    let record = ConsentRecord {
        id: crate::http::new_id("consent"),
        customer_id: customer.map(|c| c.as_str().to_owned()),
        cart_id: cart.map(|c| c.as_str().to_owned()),
        channel: draft.channel.as_str().to_owned(),
        granted: draft.granted,
        source: source.as_str().to_owned(),
        recorded_at: now_rfc3339(),
    };
    db.prepare("INSERT INTO marketing_consents (id, customer_id, cart_id, channel, granted, source, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(&[
            record.id.as_str().into(),
            opt(record.customer_id.as_deref()),
            opt(record.cart_id.as_deref()),
            record.channel.as_str().into(),
            u32::from(record.granted).into(),
            record.source.as_str().into(),
            record.recorded_at.as_str().into(),
        ])?
        .run()
        .await?;
    Ok(record)
}

/// The newest consent for the channel recorded on the cart or its customer, if any.
pub async fn latest_consent(db: &D1Database, cart: &CartId, customer: Option<&CustomerId>, channel: ReminderChannel) -> ApiResult<Option<bool>> {
    #[derive(Deserialize)]
    struct Row {
        granted: i64,
    }
    let row: Option<Row> = db
        .prepare(
            "SELECT granted FROM marketing_consents WHERE channel = ?3 AND (cart_id = ?1 OR customer_id = ?2)
             ORDER BY recorded_at DESC, rowid DESC LIMIT 1",
        )
        .bind(&[cart.as_str().into(), opt(customer.map(CustomerId::as_str)), channel.as_str().into()])?
        .first(None)
        .await?;
    Ok(row.map(|r| r.granted == 1))
}

/// A push subscription as stored and listed (its keys are never answered).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredSubscription {
    pub id: String,
    pub endpoint: String,
    #[serde(skip_serializing)]
    pub p256dh: String,
    #[serde(skip_serializing)]
    pub auth: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    pub created_at: String,
}

/// Registers a browser's subscription for a cart (and its customer), with the push
/// consent that allowing notifications is, in one batch. An endpoint registered before
/// moves to this cart with its new keys.
pub async fn register_subscription(db: &D1Database, cart: &CartId, customer: Option<&CustomerId>, subscription: &PushSubscription, source: ConsentSource) -> ApiResult<StoredSubscription> {
    let now = now_rfc3339();
    let id = crate::http::new_id("psub");
    let customer = opt(customer.map(CustomerId::as_str));
    let results = db
        .batch(vec![
            db.prepare(
                "INSERT INTO push_subscriptions (id, endpoint, p256dh, auth, cart_id, customer_id, device, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth, cart_id = excluded.cart_id,
                   customer_id = COALESCE(excluded.customer_id, customer_id), device = COALESCE(excluded.device, device)
                 RETURNING id, endpoint, p256dh, auth, cart_id, customer_id, device, created_at",
            )
            .bind(&[
                id.into(),
                subscription.endpoint.as_str().into(),
                subscription.p256dh.as_str().into(),
                subscription.auth.as_str().into(),
                cart.as_str().into(),
                customer.clone(),
                opt(subscription.device.as_deref()),
                now.as_str().into(),
            ])?,
            db.prepare("INSERT INTO marketing_consents (id, customer_id, cart_id, channel, granted, source, recorded_at) VALUES (?1, ?2, ?3, 'push', 1, ?4, ?5)")
                .bind(&[crate::http::new_id("consent").into(), customer, cart.as_str().into(), source.as_str().into(), now.as_str().into()])?,
        ])
        .await?;
    let stored = results.first().map(|r| r.results::<StoredSubscription>()).transpose()?.and_then(|rows| rows.into_iter().next());
    stored.ok_or_else(|| crate::http::problem::Problem::internal().into())
}

/// The subscriptions registered for a cart.
pub async fn subscriptions_of_cart(db: &D1Database, cart: &CartId) -> ApiResult<Vec<StoredSubscription>> {
    Ok(db
        .prepare("SELECT id, endpoint, p256dh, auth, cart_id, customer_id, device, created_at FROM push_subscriptions WHERE cart_id = ?1 ORDER BY created_at, id")
        .bind(&[cart.as_str().into()])?
        .all()
        .await?
        .results()?)
}

/// The live subscriptions a reminder of the cart goes to: the cart's and its customer's.
pub async fn reachable_subscriptions(db: &D1Database, cart: &CartId, customer: Option<&CustomerId>) -> ApiResult<Vec<StoredSubscription>> {
    Ok(db
        .prepare(
            "SELECT id, endpoint, p256dh, auth, cart_id, customer_id, device, created_at FROM push_subscriptions
             WHERE cart_id = ?1 OR customer_id = ?2 ORDER BY created_at DESC, id LIMIT 10",
        )
        .bind(&[cart.as_str().into(), opt(customer.map(CustomerId::as_str))])?
        .all()
        .await?
        .results()?)
}

/// Deletes a cart's subscription; false when the cart has none with this id.
pub async fn delete_subscription(db: &D1Database, cart: &CartId, id: &str) -> ApiResult<bool> {
    let deleted: Option<serde_json::Value> = db
        .prepare("DELETE FROM push_subscriptions WHERE id = ?1 AND cart_id = ?2 RETURNING id")
        .bind(&[id.into(), cart.as_str().into()])?
        .first(None)
        .await?;
    Ok(deleted.is_some())
}

/// Forgets a subscription the push service said is gone (404/410).
pub async fn forget_endpoint(db: &D1Database, endpoint: &str) -> ApiResult<()> {
    db.prepare("DELETE FROM push_subscriptions WHERE endpoint = ?1").bind(&[endpoint.into()])?.run().await?;
    Ok(())
}

/// Records a one-click unsubscribe (idempotent).
pub async fn unsubscribe(db: &D1Database, channel: ReminderChannel, address: &Email) -> ApiResult<()> {
    db.prepare("INSERT INTO reminder_unsubscribes (channel, address, unsubscribed_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
        .bind(&[channel.as_str().into(), address.as_str().into(), now_rfc3339().into()])?
        .run()
        .await?;
    Ok(())
}

pub async fn is_unsubscribed(db: &D1Database, channel: ReminderChannel, address: &Email) -> ApiResult<bool> {
    let row: Option<serde_json::Value> = db
        .prepare("SELECT 1 AS found FROM reminder_unsubscribes WHERE channel = ?1 AND address = ?2")
        .bind(&[channel.as_str().into(), address.as_str().into()])?
        .first(None)
        .await?;
    Ok(row.is_some())
}

/// Whether the shopper (the customer, or the email address) placed an order in any
/// channel after `since`, or one was placed from this cart.
pub async fn ordered_since(db: &D1Database, cart: &CartId, customer: Option<&CustomerId>, email: Option<&Email>, since: DateTime<Utc>) -> ApiResult<bool> {
    let row: Option<serde_json::Value> = db
        .prepare(
            "SELECT 1 AS found FROM orders WHERE cart_id = ?1
                OR (created_at > ?4 AND (customer_id = ?2 OR json_extract(body, '$.contact.email') = ?3)) LIMIT 1",
        )
        .bind(&[cart.as_str().into(), opt(customer.map(CustomerId::as_str)), opt(email.map(Email::as_str)), stamp(since).into()])?
        .first(None)
        .await?;
    Ok(row.is_some())
}

/// When a reminder of any cart last reached (or is on its way to) this shopper on the channel.
pub async fn last_reminded(db: &D1Database, shopper: &str, channel: ReminderChannel) -> ApiResult<Option<DateTime<Utc>>> {
    #[derive(Deserialize)]
    struct Row {
        at: Option<String>,
    }
    let row: Option<Row> = db
        .prepare("SELECT MAX(created_at) AS at FROM reminder_deliveries WHERE shopper = ?1 AND channel = ?2 AND state <> 'failed'")
        .bind(&[shopper.into(), channel.as_str().into()])?
        .first(None)
        .await?;
    Ok(row.and_then(|r| r.at).and_then(|at| DateTime::parse_from_rfc3339(&at).ok()).map(|at| at.with_timezone(&Utc)))
}

/// Whether a delivery key exists for the cart's step (it was decided `send` before).
pub async fn delivery_exists(db: &D1Database, cart: &CartId, step: u32) -> ApiResult<bool> {
    let row: Option<serde_json::Value> = db
        .prepare("SELECT 1 AS found FROM reminder_deliveries WHERE cart_id = ?1 AND step = ?2")
        .bind(&[cart.as_str().into(), step.into()])?
        .first(None)
        .await?;
    Ok(row.is_some())
}

/// Claims the step's delivery key, unless the shopper was reminded on the channel after
/// `cap_since`, and with it logs `queued` and records what the cart owes — one batch.
pub async fn claim(db: &D1Database, delivery: &Delivery<'_>, cap_since: DateTime<Utc>, now: DateTime<Utc>) -> ApiResult<Claimed> {
    let now = stamp(now);
    let claim = crate::http::new_id("claim");
    let (cart, step) = (delivery.cart.as_str(), delivery.step);
    let effect = serde_json::to_string(&CartEffect::DeliverReminder { cart_id: delivery.cart.clone(), step })?;
    let mine = "EXISTS (SELECT 1 FROM reminder_deliveries WHERE cart_id = ?1 AND step = ?2 AND claim = ?3)";
    let results = db
        .batch(vec![
            db.prepare(
                "INSERT INTO reminder_deliveries (cart_id, step, channel, shopper, address, state, claim, created_at, updated_at)
                 SELECT ?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?7
                 WHERE NOT EXISTS (SELECT 1 FROM reminder_deliveries WHERE shopper = ?4 AND channel = ?3 AND state <> 'failed' AND created_at > ?8)
                 ON CONFLICT (cart_id, step) DO NOTHING",
            )
            .bind(&[
                cart.into(),
                step.into(),
                delivery.channel.as_str().into(),
                delivery.shopper.into(),
                opt(delivery.address.map(Email::as_str)),
                claim.as_str().into(),
                now.as_str().into(),
                stamp(cap_since).into(),
            ])?,
            db.prepare(format!("INSERT INTO reminder_log (cart_id, step, channel, event, at) SELECT ?1, ?2, ?4, 'queued', ?5 WHERE {mine}"))
                .bind(&[cart.into(), step.into(), claim.as_str().into(), delivery.channel.as_str().into(), now.as_str().into()])?,
            db.prepare(format!("INSERT INTO owed_effects (cart_id, effect, created_at) SELECT ?1, ?4, ?5 WHERE {mine}"))
                .bind(&[cart.into(), step.into(), claim.as_str().into(), effect.into(), now.as_str().into()])?,
            db.prepare("SELECT claim FROM reminder_deliveries WHERE cart_id = ?1 AND step = ?2").bind(&[cart.into(), step.into()])?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Row {
        claim: String,
    }
    let holder = results.get(3).map(|r| r.results::<Row>()).transpose()?.and_then(|rows| rows.into_iter().next());
    Ok(match holder {
        Some(row) if row.claim == claim => Claimed::Mine,
        Some(_) => Claimed::Before,
        None => Claimed::Capped,
    })
}

/// Logs a decision or event of a cart's step.
pub async fn log(db: &D1Database, cart: &CartId, step: u32, channel: ReminderChannel, event: &str, detail: Option<&str>) -> ApiResult<()> {
    db.prepare("INSERT INTO reminder_log (cart_id, step, channel, event, detail, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(&[cart.as_str().into(), step.into(), channel.as_str().into(), event.into(), opt(detail), now_rfc3339().into()])?
        .run()
        .await?;
    Ok(())
}

/// Logs a due step skipped with its reason, unless the step holds a delivery key (a
/// duplicate decision that lost the race to the claim logs nothing).
pub async fn log_skip(db: &D1Database, cart: &CartId, step: u32, channel: ReminderChannel, reason: SkipReason) -> ApiResult<()> {
    db.prepare(
        "INSERT INTO reminder_log (cart_id, step, channel, event, detail, at) SELECT ?1, ?2, ?3, 'skipped', ?4, ?5
         WHERE NOT EXISTS (SELECT 1 FROM reminder_deliveries WHERE cart_id = ?1 AND step = ?2)",
    )
    .bind(&[cart.as_str().into(), step.into(), channel.as_str().into(), reason.as_str().into(), now_rfc3339().into()])?
    .run()
    .await?;
    Ok(())
}

/// Moves a `queued` or `retrying` delivery to `sending`, counting the attempt (one taker wins).
pub async fn take(db: &D1Database, cart: &CartId, step: u32, now: DateTime<Utc>) -> ApiResult<Option<Sending>> {
    #[derive(Deserialize)]
    struct Row {
        channel: String,
        address: Option<String>,
        attempts: u32,
    }
    let taken: Option<Row> = db
        .prepare(
            "UPDATE reminder_deliveries SET state = 'sending', attempts = attempts + 1, updated_at = ?3
             WHERE cart_id = ?1 AND step = ?2 AND state IN ('queued', 'retrying') RETURNING channel, address, attempts",
        )
        .bind(&[cart.as_str().into(), step.into(), stamp(now).into()])?
        .first(None)
        .await?;
    taken
        .map(|row| {
            let channel = ReminderChannel::parse(&row.channel).ok_or_else(crate::http::problem::Problem::internal)?;
            Ok(Sending { channel, address: row.address.and_then(|a| Email::parse(&a).ok()), attempts: row.attempts })
        })
        .transpose()
}

/// Ends a delivery left `sending` since before `since` as failed with `cause`, and logs
/// that, in one batch (the log row is written only by the batch whose update matched).
pub async fn fail_stale(db: &D1Database, cart: &CartId, step: u32, since: DateTime<Utc>, cause: &str, now: DateTime<Utc>) -> ApiResult<bool> {
    let token = crate::http::new_id("stale");
    let (cart, now) = (cart.as_str(), stamp(now));
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE reminder_deliveries SET state = 'failed', cause = ?3, updated_at = ?4, claim = ?5
                 WHERE cart_id = ?1 AND step = ?2 AND state = 'sending' AND updated_at < ?6",
            )
            .bind(&[cart.into(), step.into(), cause.into(), now.as_str().into(), token.as_str().into(), stamp(since).into()])?,
            db.prepare(
                "INSERT INTO reminder_log (cart_id, step, channel, event, detail, at)
                 SELECT cart_id, step, channel, 'failed', cause, updated_at FROM reminder_deliveries WHERE cart_id = ?1 AND step = ?2 AND claim = ?3
                 RETURNING seq",
            )
            .bind(&[cart.into(), step.into(), token.as_str().into()])?,
        ])
        .await?;
    let logged = results.get(1).map(|r| r.results::<serde_json::Value>()).transpose()?;
    Ok(logged.is_some_and(|rows| !rows.is_empty()))
}

pub async fn state(db: &D1Database, cart: &CartId, step: u32) -> ApiResult<Option<DeliveryState>> {
    #[derive(Deserialize)]
    struct Row {
        state: String,
    }
    let row: Option<Row> = db
        .prepare("SELECT state FROM reminder_deliveries WHERE cart_id = ?1 AND step = ?2")
        .bind(&[cart.as_str().into(), step.into()])?
        .first(None)
        .await?;
    Ok(row.and_then(|r| DeliveryState::parse(&r.state)))
}

/// Ends (or pauses, `retrying`) a delivery after an attempt, and logs it.
pub async fn finish(db: &D1Database, cart: &CartId, step: u32, channel: ReminderChannel, ending: &Ending, now: DateTime<Utc>) -> ApiResult<()> {
    let (now, state, cause) = (stamp(now), ending.state().as_str(), ending.cause());
    db.batch(vec![
        db.prepare("UPDATE reminder_deliveries SET state = ?3, cause = ?4, updated_at = ?5 WHERE cart_id = ?1 AND step = ?2")
            .bind(&[cart.as_str().into(), step.into(), state.into(), opt(cause), now.as_str().into()])?,
        db.prepare("INSERT INTO reminder_log (cart_id, step, channel, event, detail, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .bind(&[cart.as_str().into(), step.into(), channel.as_str().into(), state.into(), opt(cause), now.as_str().into()])?,
    ])
    .await?;
    Ok(())
}

pub async fn owed_by_cart(db: &D1Database, cart: &CartId) -> ApiResult<Vec<OwedByCart>> {
    #[derive(Deserialize)]
    struct Row {
        seq: i64,
        effect: String,
    }
    let rows: Vec<Row> = db.prepare("SELECT seq, effect FROM owed_effects WHERE cart_id = ?1 ORDER BY seq").bind(&[cart.as_str().into()])?.all().await?.results()?;
    rows.into_iter().map(|r| Ok(OwedByCart { seq: r.seq, effect: serde_json::from_str(&r.effect)? })).collect()
}

/// Crosses off an applied cart effect.
pub async fn settled(db: &D1Database, seq: i64) -> ApiResult<()> {
    db.prepare("DELETE FROM owed_effects WHERE seq = ?1 AND cart_id IS NOT NULL").bind(&[(seq as f64).into()])?.run().await?;
    Ok(())
}

/// Carts that owe effects, oldest debt first.
pub async fn carts_owing(db: &D1Database, limit: u32) -> ApiResult<Vec<CartId>> {
    Ok(super::orders::debtors(db, super::orders::Debtor::Cart, limit).await?.iter().filter_map(|id| CartId::parse(id).ok()).collect())
}

/// One entry of a cart's reminder log.
#[derive(Debug, Serialize, Deserialize)]
pub struct LogEntry {
    pub step: u32,
    pub channel: String,
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub at: String,
}

pub async fn cart_log(db: &D1Database, cart: &CartId) -> ApiResult<Vec<LogEntry>> {
    Ok(db
        .prepare("SELECT step, channel, event, detail, at FROM reminder_log WHERE cart_id = ?1 ORDER BY seq LIMIT 500")
        .bind(&[cart.as_str().into()])?
        .all()
        .await?
        .results()?)
}

/// Counts of log events per step, channel, event and detail between two times.
#[derive(Debug, Serialize, Deserialize)]
pub struct EventCount {
    pub step: u32,
    pub channel: String,
    pub event: String,
    pub reason: Option<String>,
    pub count: u32,
}

pub async fn event_counts(db: &D1Database, from: &str, to: &str) -> ApiResult<Vec<EventCount>> {
    Ok(db
        .prepare(
            "SELECT step, channel, event, CASE WHEN event = 'skipped' THEN detail END AS reason, COUNT(*) AS count FROM reminder_log
             WHERE at >= ?1 AND at < ?2 AND event IN ('skipped', 'sent', 'failed', 'shown', 'clicked')
             GROUP BY step, channel, event, reason ORDER BY step, channel, event, reason",
        )
        .bind(&[from.into(), to.into()])?
        .all()
        .await?
        .results()?)
}

/// Orders placed from a reminded cart within the recovery window after a reminder was
/// sent, per step and channel that reached the cart, with their grand totals per currency.
#[derive(Debug, Serialize)]
pub struct Recovered {
    pub step: u32,
    pub channel: String,
    pub orders: u32,
    pub revenue: Money,
}

pub async fn recovered(db: &D1Database, from: &str, to: &str, window_seconds: i64) -> ApiResult<Vec<Recovered>> {
    #[derive(Deserialize)]
    struct Row {
        step: u32,
        channel: String,
        total: String,
    }
    let rows: Vec<Row> = db
        .prepare(
            "SELECT DISTINCT l.step, l.channel, o.id, json_extract(o.body, '$.totals.grand_total') AS total
             FROM reminder_log l JOIN orders o ON o.cart_id = l.cart_id
             WHERE l.event = 'sent' AND l.at >= ?1 AND l.at < ?2
               AND o.created_at > l.at AND julianday(o.created_at) <= julianday(l.at) + ?3 / 86400.0",
        )
        .bind(&[from.into(), to.into(), (window_seconds as f64).into()])?
        .all()
        .await?
        .results()?;
    let mut out: Vec<Recovered> = Vec::new();
    for row in rows {
        let total: Money = serde_json::from_str(&row.total)?;
        match out.iter_mut().find(|r| r.step == row.step && r.channel == row.channel && r.revenue.currency == total.currency) {
            Some(r) => {
                r.orders += 1;
                r.revenue.amount += total.amount;
            }
            None => out.push(Recovered { step: row.step, channel: row.channel, orders: 1, revenue: total }),
        }
    }
    Ok(out)
}

/// The reminder tables as the reminder workflow's store.
pub struct D1Reminders {
    pub db: D1Database,
}

impl ReminderStore for D1Reminders {
    async fn delivery_exists(&self, cart: &CartId, step: u32) -> Result<bool, Unavailable> {
        delivery_exists(&self.db, cart, step).await.or_unavailable()
    }
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Unavailable> {
        crate::d1::customers::get(&self.db, id).await.or_unavailable()
    }
    async fn reachable_devices(&self, cart: &CartId, customer: Option<&CustomerId>) -> Result<Vec<PushDevice>, Unavailable> {
        let subscriptions = reachable_subscriptions(&self.db, cart, customer).await.or_unavailable()?;
        Ok(subscriptions.into_iter().map(|s| PushDevice { endpoint: s.endpoint, p256dh: s.p256dh, auth: s.auth }).collect())
    }
    async fn latest_consent(&self, cart: &CartId, customer: Option<&CustomerId>, channel: ReminderChannel) -> Result<Option<bool>, Unavailable> {
        latest_consent(&self.db, cart, customer, channel).await.or_unavailable()
    }
    async fn is_unsubscribed(&self, channel: ReminderChannel, address: &Email) -> Result<bool, Unavailable> {
        is_unsubscribed(&self.db, channel, address).await.or_unavailable()
    }
    async fn ordered_since(&self, cart: &CartId, customer: Option<&CustomerId>, email: Option<&Email>, since: DateTime<Utc>) -> Result<bool, Unavailable> {
        ordered_since(&self.db, cart, customer, email, since).await.or_unavailable()
    }
    async fn last_reminded(&self, shopper: &str, channel: ReminderChannel) -> Result<Option<DateTime<Utc>>, Unavailable> {
        last_reminded(&self.db, shopper, channel).await.or_unavailable()
    }
    async fn skipped(&self, cart: &CartId, step: u32, channel: ReminderChannel, reason: SkipReason, _now: DateTime<Utc>) -> Result<(), Unavailable> {
        log_skip(&self.db, cart, step, channel, reason).await.or_unavailable()
    }
    async fn claim(&self, delivery: &Delivery<'_>, cap_since: DateTime<Utc>, now: DateTime<Utc>) -> Result<Claimed, Unavailable> {
        claim(&self.db, delivery, cap_since, now).await.or_unavailable()
    }
    async fn take(&self, cart: &CartId, step: u32, now: DateTime<Utc>) -> Result<Option<Sending>, Unavailable> {
        take(&self.db, cart, step, now).await.or_unavailable()
    }
    async fn fail_stale(&self, cart: &CartId, step: u32, since: DateTime<Utc>, cause: &str, now: DateTime<Utc>) -> Result<bool, Unavailable> {
        fail_stale(&self.db, cart, step, since, cause, now).await.or_unavailable()
    }
    async fn state(&self, cart: &CartId, step: u32) -> Result<Option<DeliveryState>, Unavailable> {
        state(&self.db, cart, step).await.or_unavailable()
    }
    async fn finish(&self, cart: &CartId, step: u32, channel: ReminderChannel, ending: &Ending, now: DateTime<Utc>) -> Result<(), Unavailable> {
        finish(&self.db, cart, step, channel, ending, now).await.or_unavailable()
    }
    async fn forget_device(&self, endpoint: &str) -> Result<(), Unavailable> {
        forget_endpoint(&self.db, endpoint).await.or_unavailable()
    }
    async fn owed_by_cart(&self, cart: &CartId) -> Result<Vec<OwedByCart>, Unavailable> {
        owed_by_cart(&self.db, cart).await.or_unavailable()
    }
    async fn settled(&self, seq: i64) -> Result<(), Unavailable> {
        settled(&self.db, seq).await.or_unavailable()
    }
    async fn carts_owing(&self, limit: u32) -> Result<Vec<CartId>, Unavailable> {
        carts_owing(&self.db, limit).await.or_unavailable()
    }
}
