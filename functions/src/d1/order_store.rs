//! The workflows' order store over D1: orders with their revision and owed effects,
//! the Idempotency-Key claims of placements, and what placing an order reads (products
//! and coupons fresh, locations from the isolate cache). A write that spans several
//! tables is one D1 batch, so it happens whole or not at all; when a batch fails, the
//! store re-reads to tell a refusal (coupon used up, cart already ordered, store credit
//! short) from a failure.

use crate::d1::{catalog, coupons, customers, idempotency, locations, orders, store_credit};
use crate::http::error::ApiError;
use crate::http::faults::Fault;
use crate::http::new_id;
use omniedge::catalog::Product;
use omniedge::customers::Email;
use omniedge::locations::Location;
use omniedge::pricing::coupon::{Coupon, CouponCode};
use omniedge::sales::order::OrderStatus;
use omniedge::sales::placement::Order;
use omniedge::shared::ids::{CustomerId, OrderId, Sku};
use omniedge::workflows::effects::{Effect, OwedEffect};
use omniedge::workflows::ports::{Claim, ClaimKey, ClaimRefused, Claimed, OrderStore, OwedBefore, Placing, PortError, StoredOrder, Unavailable, WriteRefused};
use worker::{D1Database, D1Result};

pub struct D1OrderStore {
    pub db: D1Database,
    /// A failure the tests asked this request to suffer (see `http::faults`).
    pub fault: Option<Fault>,
    /// How long a placement may run before it is given up for dead (`unwritten`).
    pub placement_hold: chrono::Duration,
}

pub(crate) fn unavailable(e: ApiError) -> Unavailable {
    Unavailable(format!("d1: {} {}", e.0.code, e.0.detail))
}

pub(crate) trait OrUnavailable<T> {
    fn or_unavailable(self) -> Result<T, Unavailable>;
}

impl<T, E: Into<ApiError>> OrUnavailable<T> for Result<T, E> {
    fn or_unavailable(self) -> Result<T, Unavailable> {
        self.map_err(|e| unavailable(e.into()))
    }
}

/// The effects a batch recorded, read back from the `RETURNING seq` of each insert.
pub(crate) fn recorded(results: &[D1Result], effects: &[Effect]) -> Result<Vec<OwedEffect>, Unavailable> {
    #[derive(serde::Deserialize)]
    struct Seq {
        seq: i64,
    }
    results
        .iter()
        .zip(effects)
        .map(|(result, effect)| {
            let seq = result.results::<Seq>().or_unavailable()?.first().map(|s| s.seq);
            seq.map(|seq| OwedEffect { seq, effect: effect.clone() }).ok_or_else(|| Unavailable("an owed effect was not recorded".into()))
        })
        .collect()
}

impl D1OrderStore {
    /// After a failed batch: was it refused by a constraint, or did it fail?
    async fn why_not_written(&self, order: &Order) -> Result<WriteRefused, Unavailable> {
        if let Some(cart) = &order.cart_id {
            if orders::exists_for_cart(&self.db, cart).await.or_unavailable()? {
                return Ok(WriteRefused::CartAlreadyOrdered);
            }
        }
        if let Some(code) = &order.coupon_code {
            if coupons::get(&self.db, code).await.or_unavailable()?.is_some_and(|c| c.remaining() == Some(0)) {
                return Ok(WriteRefused::CouponUsedUp);
            }
        }
        if let (Some(credit), Some(customer)) = (&order.store_credit, &order.customer_id) {
            let balance = store_credit::balance(&self.db, customer, credit.applied.currency).await.or_unavailable()?;
            if balance.amount < credit.applied.amount {
                return Ok(WriteRefused::StoreCreditShort);
            }
        }
        Err(Unavailable(format!("writing order {} failed", order.id)))
    }
}

impl OrderStore for D1OrderStore {
    async fn claim(&self, key: &ClaimKey, placing: &Placing) -> Result<Claimed, PortError<ClaimRefused>> {
        let db = &self.db;
        let now = crate::http::now_rfc3339();
        // One round trip: the claim, the order it places with what it owes unless written, its products.
        let with = || {
            let mut statements = orders::placing(db, &placing.order, &placing.owed, &now, [&key.scope, &key.key, &key.owner])?;
            statements.push(catalog::many_statement(db, &placing.skus)?);
            Ok(statements)
        };
        match idempotency::claim_with(db, &key.scope, &key.key, &key.fingerprint, &key.owner, &now, &with).await.or_unavailable()? {
            Ok((idempotency::Claim::Owned, results)) => {
                let products = match results.last() {
                    Some(read) => catalog::read_many(read).or_unavailable()?,
                    None => return Err(Unavailable("the products were not read with the claim".into()).into()),
                };
                Ok(Claimed { claim: Claim::Owned, products })
            }
            Ok((idempotency::Claim::Replay { body }, _)) => {
                Ok(Claimed { claim: Claim::Replay(Box::new(serde_json::from_str(&body).or_unavailable()?)), products: Vec::new() })
            }
            Err(refused) => Err(PortError::Refused(refused)),
        }
    }

    async fn let_go(&self, key: &ClaimKey, order: &OrderId) -> Result<(), Unavailable> {
        orders::let_go(&self.db, order, [&key.scope, &key.key, &key.owner]).await.or_unavailable()
    }

    async fn unwritten(&self, order: &OrderId) -> Result<Option<Vec<OwedEffect>>, Unavailable> {
        let given_up_at = (chrono::Utc::now() - self.placement_hold).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        orders::unwritten(&self.db, order, &given_up_at).await.or_unavailable()
    }

    async fn abandon(&self, key: &ClaimKey) -> Result<(), Unavailable> {
        idempotency::abandon(&self.db, &key.scope, &key.key, &key.owner).await.or_unavailable()
    }

    async fn products(&self, skus: &[Sku]) -> Result<Vec<Product>, Unavailable> {
        catalog::many(&self.db, skus).await.or_unavailable()
    }

    async fn locations(&self) -> Result<Vec<Location>, Unavailable> {
        Ok(locations::all(&self.db).await.or_unavailable()?.as_ref().clone())
    }

    async fn coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, Unavailable> {
        coupons::get(&self.db, code).await.or_unavailable()
    }

    async fn customer_exists(&self, id: &CustomerId) -> Result<bool, Unavailable> {
        Ok(customers::get(&self.db, id).await.or_unavailable()?.is_some())
    }

    async fn customer_with_email(&self, email: &Email) -> Result<Option<CustomerId>, Unavailable> {
        Ok(customers::by_email(&self.db, email).await.or_unavailable()?.and_then(|c| CustomerId::parse(&c.id).ok()))
    }

    async fn insert(&self, order: &Order, owed: &[Effect], claim: &ClaimKey) -> Result<StoredOrder, PortError<WriteRefused>> {
        let db = &self.db;
        let now = crate::http::now_rfc3339();
        let revision = new_id("rev");
        let body = serde_json::to_string(order).or_unavailable()?;
        // The order is written only while this placement owns its claim; everything else
        // in the batch is written only with the order.
        let mut batch = orders::insert(db, order, &revision, [&claim.scope, &claim.key, &claim.owner]).or_unavailable()?;
        // What the order owed while being placed (its voids) is forgiven: the units are its own.
        batch.push(orders::forgive(db, &order.id, &revision).or_unavailable()?);
        if let Some(code) = &order.coupon_code {
            batch.extend(coupons::redeem(db, code, order.id.as_str(), &now).or_unavailable()?);
        }
        batch.extend(store_credit::spend(db, order, &now).or_unavailable()?);
        let first_effect = batch.len();
        batch.extend(orders::owe(db, &order.id, &revision, owed, &now).or_unavailable()?);
        batch.push(idempotency::finish(db, &claim.scope, &claim.key, &claim.owner, 201, &body).or_unavailable()?);
        let results = match db.batch(batch).await {
            Ok(results) => results,
            // Re-read to classify: written after all, refused by a constraint, or failed.
            Err(_) => {
                return match self.order(&order.id).await? {
                    Some(stored) => Ok(stored),
                    None => Err(PortError::Refused(self.why_not_written(order).await?)),
                };
            }
        };
        let written = results.first().and_then(|r| r.meta().ok().flatten()).and_then(|m| m.changes).unwrap_or(0) == 1;
        if !written {
            return Err(PortError::Refused(WriteRefused::ClaimLost));
        }
        if self.fault == Some(Fault::AfterOrderWrite) {
            panic!("injected fault: placement died after writing the order");
        }
        let owed = recorded(&results[first_effect..], owed)?;
        Ok(StoredOrder { order: order.clone(), revision, owed })
    }

    async fn order(&self, id: &OrderId) -> Result<Option<StoredOrder>, Unavailable> {
        orders::get(&self.db, id).await.or_unavailable()
    }

    async fn update(&self, order: &Order, read: &str, owed: &[Effect], before: OwedBefore) -> Result<Option<StoredOrder>, Unavailable> {
        let db = &self.db;
        let revision = new_id("rev");
        let now = crate::http::now_rfc3339();
        let mut batch = vec![orders::update(db, order, read, &revision, before == OwedBefore::MustBeSettled).or_unavailable()?];
        if before == OwedBefore::Replaced {
            batch.push(orders::forgive(db, &order.id, &revision).or_unavailable()?);
        }
        if order.status == OrderStatus::Cancelled {
            batch.extend(store_credit::give_back(db, order, &revision, &now).or_unavailable()?);
        }
        let first_effect = batch.len();
        batch.extend(orders::owe(db, &order.id, &revision, owed, &now).or_unavailable()?);
        let results = db.batch(batch).await.or_unavailable()?;
        let written = results.first().and_then(|r| r.meta().ok().flatten()).and_then(|m| m.changes).unwrap_or(0) == 1;
        if !written {
            return Ok(None);
        }
        if self.fault == Some(Fault::AfterStatusWrite) {
            panic!("injected fault: status change died after writing the status");
        }
        let owed = recorded(&results[first_effect..], owed)?;
        Ok(Some(StoredOrder { order: order.clone(), revision, owed }))
    }

    async fn settled(&self, order: &OrderId, seqs: &[i64]) -> Result<(), Unavailable> {
        orders::settled(&self.db, order, seqs).await.or_unavailable()
    }

    async fn owing(&self, limit: u32) -> Result<Vec<OrderId>, Unavailable> {
        orders::owing(&self.db, limit).await.or_unavailable()
    }
}
