//! Returns in D1: `returns` (the Return document and the columns it is listed by),
//! `return_lines` (conditions where received: the damaged-units list), `return_steps`
//! (who moved it on, when), `goodwill_issued` (once per return), `store_credit_entries`
//! (each refund to store credit; the balance it adds to is `store_credit`'s),
//! `damaged_write_offs` (damaged units written off, never below zero), and the
//! workflows' return store over them. A step is one
//! batch that first moves the return's order to a new revision (only while it is still
//! at the revision the step read, and only while the step owns its Idempotency-Key);
//! every other statement of the batch runs only if that happened.

use super::order_store::{D1OrderStore, OrUnavailable};
use super::{document, documents, idempotency, orders, store_credit};
use crate::http::error::ApiResult;
use crate::http::new_id;
use omniedge::returns::damaged::{DamagedCount, WriteOff};
use omniedge::returns::{Condition, Return, ReturnState, ReturnStatus};
use omniedge::shared::ids::{LocationId, OrderId, ReturnId, Sku};
use omniedge::workflows::ports::{
    ClaimKey, ClaimRefused, PortError, ReadOf, ReturnClaim, ReturnStore, ReturnWrite, ReturnWriteRefused, ReturnWritten, StoredOrder, Unavailable,
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// A statement guarded by the order being at the step's new revision (?1 order, ?2 revision).
const AT_NEW_REVISION: &str = "(SELECT revision FROM orders WHERE id = ?1) = ?2";

fn stamp(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The statements that write `ret` as it now stands, once its order is at `revision`.
fn save(db: &D1Database, ret: &Return, revision: &str, now: &str) -> ApiResult<Vec<D1PreparedStatement>> {
    let (order, revision) = (JsValue::from(ret.order_id.as_str()), JsValue::from(revision));
    let receipt = match &ret.state {
        ReturnState::Received { receipt } | ReturnState::Refunded { receipt, .. } => Some(receipt),
        _ => None,
    };
    let received_location = receipt.map_or(JsValue::NULL, |r| r.location_id.as_str().into());
    let opened = ret.history.first().map(|s| stamp(&s.at)).unwrap_or_else(|| now.to_owned());
    let mut statements = vec![db
        .prepare(format!(
            "INSERT INTO returns (id, order_id, customer_id, channel, status, location_id, received_location_id, body, created_at, updated_at)
             SELECT ?3, ?1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 WHERE {AT_NEW_REVISION}
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, received_location_id = excluded.received_location_id,
               body = excluded.body, updated_at = excluded.updated_at"
        ))
        .bind(&[
            order.clone(),
            revision.clone(),
            ret.id.as_str().into(),
            ret.customer_id.as_ref().map_or(JsValue::NULL, |c| c.as_str().into()),
            ret.channel.as_str().into(),
            ret.state.status().as_str().into(),
            ret.location_id.as_str().into(),
            received_location.clone(),
            serde_json::to_string(ret)?.into(),
            opened.into(),
            now.into(),
        ])?];
    // A status is reached at most once; a POS receipt opens and receives in one write.
    for step in &ret.history {
        statements.push(
            db.prepare(format!(
                "INSERT INTO return_steps (return_id, status, at, by_key) SELECT ?3, ?4, ?5, ?6 WHERE {AT_NEW_REVISION} ON CONFLICT DO NOTHING"
            ))
                .bind(&[order.clone(), revision.clone(), ret.id.as_str().into(), step.status.as_str().into(), stamp(&step.at).into(), step.by.as_str().into()])?,
        );
    }
    for line in &ret.lines {
        let condition = receipt.and_then(|r| r.lines.iter().find(|l| l.sku == line.sku)).map(|l| match l.condition {
            Condition::Resellable => "resellable",
            Condition::Damaged => "damaged",
        });
        let received = receipt.and_then(|_| ret.history.iter().rev().find(|s| s.status == ReturnStatus::Received)).map(|s| stamp(&s.at));
        statements.push(
            db.prepare(format!(
                "INSERT INTO return_lines (return_id, sku, quantity, condition, received_location_id, received_at)
                 SELECT ?3, ?4, ?5, ?6, ?7, ?8 WHERE {AT_NEW_REVISION}
                 ON CONFLICT (return_id, sku) DO UPDATE SET condition = excluded.condition,
                   received_location_id = excluded.received_location_id, received_at = excluded.received_at"
            ))
            .bind(&[
                order.clone(),
                revision.clone(),
                ret.id.as_str().into(),
                line.sku.as_str().into(),
                line.quantity.get().into(),
                condition.map_or(JsValue::NULL, JsValue::from),
                received_location.clone(),
                received.map_or(JsValue::NULL, JsValue::from),
            ])?,
        );
    }
    Ok(statements)
}

impl ReturnStore for D1OrderStore {
    async fn claim_step(&self, key: &ClaimKey) -> Result<ReturnClaim, PortError<ClaimRefused>> {
        Ok(self.claim_reading(key, None).await?.0)
    }

    async fn order_with_returns(&self, order: &OrderId) -> Result<Option<(StoredOrder, Vec<Return>)>, Unavailable> {
        self.read_order_with_returns(order).await.or_unavailable()
    }

    async fn return_by_id(&self, id: &ReturnId) -> Result<Option<Return>, Unavailable> {
        get(&self.db, id).await.or_unavailable()
    }

    async fn write(&self, write: ReturnWrite<'_>) -> Result<ReturnWritten, PortError<ReturnWriteRefused>> {
        self.write_step(write).await.or_unavailable()?
    }

    /// The claim and the read in one batch; only a key already claimed takes `claim_step`'s
    /// longer way (replay, wait, take over), with the batch's read (a read gone stale
    /// meanwhile only makes the step's write miss its revision and read again).
    async fn claim_and_read(&self, key: &ClaimKey, of: ReadOf<'_>) -> Result<(ReturnClaim, Option<(StoredOrder, Vec<Return>)>), PortError<ClaimRefused>> {
        self.claim_reading(key, Some(of)).await
    }
}

impl D1OrderStore {
    async fn read_order_with_returns(&self, order: &OrderId) -> ApiResult<Option<(StoredOrder, Vec<Return>)>> {
        let results = self.db.batch(self.order_reads(ReadOf::Order(order))?).await?;
        with_returns(&results)
    }

    /// Claims `key` and, when this step owns it, reads what `of` names in the same batch
    /// as the claim's write (nothing is read for a replay).
    async fn claim_reading(&self, key: &ClaimKey, of: Option<ReadOf<'_>>) -> Result<(ReturnClaim, Option<(StoredOrder, Vec<Return>)>), PortError<ClaimRefused>> {
        let now = crate::http::now_rfc3339();
        let reads = || of.map_or_else(|| Ok(Vec::new()), |of| self.order_reads(of));
        match idempotency::claim_with(&self.db, &key.scope, &key.key, &key.fingerprint, &key.owner, &now, &reads).await.or_unavailable()? {
            Ok((idempotency::Claim::Owned, results)) => {
                let read = if of.is_some() { with_returns(&results).or_unavailable()? } else { None };
                Ok((ReturnClaim::Owned, read))
            }
            Ok((idempotency::Claim::Replay { body }, _)) => Ok((ReturnClaim::Replay(Box::new(serde_json::from_str(&body).or_unavailable()?)), None)),
            Err(refused) => Err(PortError::Refused(refused)),
        }
    }

    /// The order `of` names, what it owes and every return of it.
    fn order_reads(&self, of: ReadOf<'_>) -> ApiResult<Vec<D1PreparedStatement>> {
        let (order, bind) = match of {
            ReadOf::Order(id) => ("?1", id.as_str()),
            ReadOf::Return(id) => ("(SELECT order_id FROM returns WHERE id = ?1)", id.as_str()),
        };
        let mut reads = orders::reads_of(&self.db, order, bind)?;
        reads.push(self.db.prepare(format!("SELECT body FROM returns WHERE order_id = {order} ORDER BY created_at, id")).bind(&[bind.into()])?);
        Ok(reads)
    }

    async fn write_step(&self, w: ReturnWrite<'_>) -> ApiResult<Result<ReturnWritten, PortError<ReturnWriteRefused>>> {
        let db = &self.db;
        let now = crate::http::now_rfc3339();
        let revision = new_id("rev");
        let ret = w.ret;
        let order = ret.order_id.as_str();
        let claim = w.claim;
        // This attempt writes under an owner of its own, taken over from the claim only
        // while the order is still at the revision read: nothing below runs otherwise.
        let writer = format!("{}:{revision}", claim.owner);
        let mut batch = vec![
            db.prepare(
                "UPDATE idempotency_records SET owner = ?4 WHERE scope = ?1 AND key = ?2 AND owner = ?3 AND state = 'pending'
                 AND (SELECT revision FROM orders WHERE id = ?5) = ?6",
            )
            .bind(&[claim.scope.as_str().into(), claim.key.as_str().into(), claim.owner.as_str().into(), writer.as_str().into(), order.into(), w.order_revision.into()])?,
            db.prepare(format!("UPDATE orders SET revision = ?2, updated_at = ?3 WHERE id = ?1 AND {}", idempotency::still_owned(4, 5, 6)))
                .bind(&[order.into(), revision.as_str().into(), now.as_str().into(), claim.scope.as_str().into(), claim.key.as_str().into(), writer.as_str().into()])?,
        ];
        batch.extend(save(db, ret, &revision, &now)?);
        let first_owed = batch.len();
        batch.extend(orders::owe(db, &ret.order_id, &revision, w.owed, &now)?);
        let linked_revision = new_id("rev");
        let mut first_linked_owed = batch.len();
        if let Some((linked, owed)) = w.linked {
            batch.extend(orders::insert(db, linked, &linked_revision, [&claim.scope, &claim.key, &writer])?);
            first_linked_owed = batch.len();
            batch.extend(orders::owe(db, &linked.id, &linked_revision, owed, &now)?);
        }
        if let Some(coupon) = &w.coupon {
            let max = coupon.max_redemptions.map_or(JsValue::NULL, JsValue::from);
            batch.push(
                db.prepare(format!(
                    "INSERT INTO coupons (code, body, max_redemptions, created_at, updated_at) SELECT ?3, ?4, ?5, ?6, ?6 WHERE {AT_NEW_REVISION}"
                ))
                .bind(&[order.into(), revision.as_str().into(), coupon.code.as_str().into(), serde_json::to_string(coupon)?.into(), max, now.as_str().into()])?,
            );
        }
        // Goodwill is issued by the receipt (once: the receipt is written once).
        if let Some(goodwill) = ret.goodwill.as_ref().filter(|_| ret.state.status() == ReturnStatus::Received) {
            let (kind, code) = match goodwill {
                omniedge::returns::exchange::Goodwill::Coupon { code, .. } => ("coupon", JsValue::from(code.as_str())),
                omniedge::returns::exchange::Goodwill::Gift { .. } => ("gift", JsValue::NULL),
            };
            batch.push(
                db.prepare(format!("INSERT INTO goodwill_issued (return_id, kind, coupon_code, issued_at) SELECT ?3, ?4, ?5, ?6 WHERE {AT_NEW_REVISION}"))
                    .bind(&[order.into(), revision.as_str().into(), ret.id.as_str().into(), kind.into(), code, now.as_str().into()])?,
            );
        }
        if let (Some(credit), Some(customer)) = (&w.store_credit, &ret.customer_id) {
            batch.push(
                db.prepare(format!(
                    "INSERT INTO store_credit_entries (customer_id, return_id, amount, currency, created_at) SELECT ?3, ?4, ?5, ?6, ?7 WHERE {AT_NEW_REVISION}"
                ))
                .bind(&[
                    order.into(),
                    revision.as_str().into(),
                    customer.as_str().into(),
                    ret.id.as_str().into(),
                    credit.amount.to_string().into(),
                    credit.currency.as_str().into(),
                    now.as_str().into(),
                ])?,
            );
            batch.push(store_credit::issue(db, customer, credit, order, &revision)?);
        }
        batch.push(idempotency::finish(db, &claim.scope, &claim.key, &writer, w.status, &serde_json::to_string(ret)?)?);
        let results = db.batch(batch).await?;
        let written = results.get(1).and_then(|r| r.meta().ok().flatten()).and_then(|m| m.changes).unwrap_or(0) == 1;
        if written && self.fault == Some(crate::http::faults::Fault::AfterReturnWrite) {
            panic!("injected fault: a return step died after writing the return");
        }
        if !written {
            return Ok(Err(PortError::Refused(ReturnWriteRefused::Changed)));
        }
        let owed = super::order_store::recorded(&results[first_owed..], w.owed)?;
        let linked = match w.linked {
            Some((order, effects)) => Some(StoredOrder {
                order: order.clone(),
                revision: linked_revision,
                owed: super::order_store::recorded(&results[first_linked_owed..], effects)?,
            }),
            None => None,
        };
        Ok(Ok(ReturnWritten { order_revision: revision, owed, linked }))
    }
}

pub async fn get(db: &D1Database, id: &ReturnId) -> ApiResult<Option<Return>> {
    document(db, "SELECT body FROM returns WHERE id = ?1", &[id.as_str().into()]).await
}

/// An order's returns, oldest first.
pub async fn of_order(db: &D1Database, order: &OrderId) -> ApiResult<Vec<Return>> {
    documents(db, "SELECT body FROM returns WHERE order_id = ?1 ORDER BY created_at, id", &[order.as_str().into()]).await
}

/// The order and its returns read by a batch of `order_reads`.
fn with_returns(results: &[worker::D1Result]) -> ApiResult<Option<(StoredOrder, Vec<Return>)>> {
    let Some(stored) = orders::stored(results)? else { return Ok(None) };
    let rows: Vec<super::DocumentRow> = results.get(2).map(|r| r.results()).transpose()?.unwrap_or_default();
    let returns = rows.iter().map(|r| serde_json::from_str(&r.body)).collect::<Result<_, _>>()?;
    Ok(Some((stored, returns)))
}

/// Returns heading to a location and not yet received, oldest first.
pub async fn expected_at(db: &D1Database, location: &LocationId) -> ApiResult<Vec<Return>> {
    documents(
        db,
        "SELECT body FROM returns WHERE location_id = ?1 AND status = 'requested' ORDER BY created_at, id LIMIT 500",
        &[location.as_str().into()],
    )
    .await
}

/// What the back office filters returns by.
pub struct Filter {
    pub status: Option<ReturnStatus>,
    pub location: Option<LocationId>,
    /// Opened at or after, and before (RFC 3339).
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: u32,
}

/// Returns by status, expected location and opening date, newest first.
pub async fn list(db: &D1Database, f: &Filter) -> ApiResult<Vec<Return>> {
    let text = |v: Option<&str>| v.map_or(JsValue::NULL, JsValue::from);
    documents(
        db,
        "SELECT body FROM returns WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR location_id = ?2)
         AND (?3 IS NULL OR created_at >= ?3) AND (?4 IS NULL OR created_at < ?4) ORDER BY created_at DESC, id DESC LIMIT ?5",
        &[text(f.status.map(ReturnStatus::as_str)), text(f.location.as_ref().map(|l| l.as_str())), text(f.from.as_deref()), text(f.to.as_deref()), f.limit.into()],
    )
    .await
}

/// Units received damaged at a location: kept out of stock, listed until written off.
#[derive(Debug, Serialize, Deserialize)]
pub struct DamagedLine {
    pub return_id: String,
    pub sku: String,
    pub quantity: u32,
    pub received_at: String,
}

/// A location's damaged units: what arrived damaged, the counts per SKU (received, written
/// off, remaining) and the write-offs, newest first; read at one instant.
#[derive(Debug, Serialize)]
pub struct Damaged {
    pub items: Vec<DamagedLine>,
    pub counts: Vec<DamagedCount>,
    pub write_offs: Vec<WriteOff>,
}

/// Per SKU at a location (?1): units received damaged, and written off.
const DAMAGED_COUNTS: &str = "SELECT sku, SUM(received) AS received, SUM(written_off) AS written_off FROM (
       SELECT sku, quantity AS received, 0 AS written_off FROM return_lines WHERE received_location_id = ?1 AND condition = 'damaged'
       UNION ALL SELECT sku, 0, quantity FROM damaged_write_offs WHERE location_id = ?1
     ) GROUP BY sku ORDER BY sku";

#[derive(Deserialize)]
struct CountRow {
    sku: String,
    received: u32,
    written_off: u32,
}

fn counts(rows: Vec<CountRow>) -> Vec<DamagedCount> {
    rows.into_iter().filter_map(|r| Some(DamagedCount::new(Sku::parse(&r.sku).ok()?, r.received, r.written_off))).collect()
}

pub async fn damaged_at(db: &D1Database, location: &LocationId) -> ApiResult<Damaged> {
    let at = JsValue::from(location.as_str());
    let results = db
        .batch(vec![
            db.prepare(
                "SELECT return_id, sku, quantity, received_at FROM return_lines WHERE received_location_id = ?1 AND condition = 'damaged'
                 ORDER BY received_at DESC, return_id LIMIT 500",
            )
            .bind(std::slice::from_ref(&at))?,
            db.prepare(DAMAGED_COUNTS).bind(std::slice::from_ref(&at))?,
            db.prepare("SELECT body FROM damaged_write_offs WHERE location_id = ?1 ORDER BY at DESC, id LIMIT 500").bind(&[at])?,
        ])
        .await?;
    let [items, count_rows, write_offs] = [0, 1, 2].map(|i| results.get(i));
    let write_offs: Vec<super::DocumentRow> = write_offs.map(|r| r.results()).transpose()?.unwrap_or_default();
    Ok(Damaged {
        items: items.map(|r| r.results()).transpose()?.unwrap_or_default(),
        counts: counts(count_rows.map(|r| r.results()).transpose()?.unwrap_or_default()),
        write_offs: write_offs.iter().map(|r| serde_json::from_str(&r.body)).collect::<Result<_, _>>()?,
    })
}

/// SQL for the damaged units of one SKU (placeholder `?{sku}`) still at one location
/// (`?{at}`): received damaged there less written off there, both read by index on the
/// location and SKU, so its cost does not grow with the location's other SKUs.
fn damaged_left(at: u8, sku: u8) -> String {
    format!(
        "(SELECT COALESCE(SUM(quantity), 0) FROM return_lines WHERE received_location_id = ?{at} AND sku = ?{sku} AND condition = 'damaged')
         - (SELECT COALESCE(SUM(quantity), 0) FROM damaged_write_offs WHERE location_id = ?{at} AND sku = ?{sku})"
    )
}

/// Damaged units of `sku` still at `location`.
pub async fn damaged_remaining(db: &D1Database, location: &LocationId, sku: &Sku) -> ApiResult<u32> {
    #[derive(Deserialize)]
    struct Left {
        remaining: i64,
    }
    let left: Option<Left> = db.prepare(format!("SELECT {} AS remaining", damaged_left(1, 2))).bind(&[location.as_str().into(), sku.as_str().into()])?.first(None).await?;
    Ok(left.map_or(0, |l| u32::try_from(l.remaining).unwrap_or(0)))
}

/// Writes `w` off under the claimed key, in one batch: only while the location still
/// holds that many damaged units of the SKU and the claim is still owned, with the answer
/// recorded for retries. False when it no longer holds them (nothing was written).
pub async fn write_off(db: &D1Database, claim: &ClaimKey, w: &WriteOff) -> ApiResult<bool> {
    let body = serde_json::to_string(w)?;
    let (scope, key, owner) = (claim.scope.as_str(), claim.key.as_str(), claim.owner.as_str());
    let results = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO damaged_write_offs (id, location_id, sku, quantity, reason, by_key, at, body)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE {} AND {} >= ?4",
                idempotency::still_owned(9, 10, 11),
                damaged_left(2, 3)
            ))
            .bind(&[
                w.id.as_str().into(),
                w.location_id.as_str().into(),
                w.sku.as_str().into(),
                w.quantity.get().into(),
                w.reason.as_str().into(),
                w.by.as_str().into(),
                stamp(&w.at).into(),
                body.as_str().into(),
                scope.into(),
                key.into(),
                owner.into(),
            ])?,
            db.prepare(
                "UPDATE idempotency_records SET state = 'done', status = 201, response = ?4 WHERE scope = ?1 AND key = ?2 AND owner = ?3
                 AND state = 'pending' AND EXISTS (SELECT 1 FROM damaged_write_offs WHERE id = ?5)",
            )
            .bind(&[scope.into(), key.into(), owner.into(), body.as_str().into(), w.id.as_str().into()])?,
        ])
        .await?;
    Ok(results.first().and_then(|r| r.meta().ok().flatten()).and_then(|m| m.changes).unwrap_or(0) == 1)
}
