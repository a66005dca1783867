//! The ports the workflows run over: the order and return stores (D1 in the worker), a SKU's stock
//! and a cart (Durable Objects in the worker), and the clock. The worker binds them to
//! the platform; the simulation binds them to in-memory fakes that crash on purpose.
//!
//! Every call either answers, is refused by the domain (`PortError::Refused`, with the
//! domain's own error), or fails (`Unavailable`): then the step may or may not have
//! happened, and the flow stops where it is; what it owes is finished later.

// The worker runs single-threaded (wasm), so the futures need not be `Send`.
#![allow(async_fn_in_trait)]

use crate::catalog::Product;
use crate::customers::Email;
use crate::inventory::ledger::{Allocation, Commitment, HoldRef, LocationLevel, OrderRef, StockError};
use crate::locations::Location;
use crate::pricing::coupon::{Coupon, CouponCode};
use crate::returns::Return;
use crate::sales::cart::{Cart, CartError};
use crate::sales::placement::Order;
use crate::shared::ids::{CartId, CustomerId, LocationId, OrderId, ReturnId, Sku};
use crate::shared::money::Money;
use crate::shared::quantity::PositiveQuantity;
use crate::workflows::effects::{Effect, OwedEffect};
use chrono::{DateTime, Utc};

/// A store or object could not be reached, or failed: the step may or may not have happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// A port call that did not answer as hoped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError<E> {
    /// The domain refused; nothing changed.
    #[error(transparent)]
    Refused(E),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// The cart hold that withdrawn units are held for again, and until when.
pub type HoldAgain = (HoldRef, DateTime<Utc>);

/// The SKUs' stock (in the worker, a Durable Object per style keeps the ledgers of its
/// SKUs). Every command on an order is idempotent: the ledger remembers what became of
/// each order's units.
pub trait StockPort {
    /// The SKU's counts at every location, as `hold` sees them: its own holds count as available.
    async fn levels_for(&self, sku: &Sku, hold: &HoldRef) -> Result<Vec<LocationLevel>, Unavailable>;
    /// The SKU's counts as read recently (possibly a few seconds old, from a cache), with
    /// every hold counted as held: a first guess to allocate from, which holds then check.
    async fn recent_levels(&self, sku: &Sku) -> Result<Vec<LocationLevel>, Unavailable>;
    /// Holds exactly `allocations` for `hold` until `expires_at` (all or nothing).
    async fn hold(&self, sku: &Sku, hold: &HoldRef, allocations: &[Allocation], expires_at: DateTime<Utc>) -> Result<(), PortError<StockError>>;
    /// Holds as `hold` does for `order`'s units, unless that order's units are settled
    /// already (then nothing is held).
    async fn hold_for_order(&self, sku: &Sku, order: &OrderRef, hold: &HoldRef, allocations: &[Allocation], expires_at: DateTime<Utc>) -> Result<(), PortError<StockError>>;
    async fn release(&self, sku: &Sku, hold: &HoldRef) -> Result<(), Unavailable>;
    async fn commit(&self, sku: &Sku, order: &OrderRef, hold: &HoldRef, allocations: &[Allocation]) -> Result<(), PortError<StockError>>;
    /// Holds and commits `order`'s units of each SKU in one step while it is being placed
    /// (`StockLedger::take`), in one call per object the SKUs' stock is kept in: answers,
    /// per SKU in order, the order's commitment, or a refusal with the short locations
    /// (nothing recorded for that SKU).
    async fn take(&self, order: &OrderRef, hold: &HoldRef, lines: &[(Sku, Vec<Allocation>)]) -> Vec<Result<Commitment, PortError<StockError>>>;
    /// Undoes the takes of these SKUs, whose order will not be written
    /// (`StockLedger::withdraw`); a SKU's `keep` holds its units again for a cart until its time.
    async fn withdraw(&self, order: &OrderRef, lines: &[(Sku, Option<HoldAgain>)]) -> Result<(), Unavailable>;
    async fn hand_over(&self, sku: &Sku, order: &OrderRef) -> Result<(), PortError<StockError>>;
    async fn restock(&self, sku: &Sku, order: &OrderRef) -> Result<(), PortError<StockError>>;
    /// Puts a received return line's units on hand at `at`, once per `receipt`.
    async fn receive_return(&self, sku: &Sku, receipt: &OrderRef, at: &LocationId, quantity: PositiveQuantity) -> Result<(), Unavailable>;
}

/// A cart (a Durable Object per cart in the worker).
pub trait CartPort {
    async fn cart(&self, id: &CartId) -> Result<Option<Cart>, Unavailable>;
    /// Closes the cart for `order`; closing it again for the same order changes nothing.
    async fn close(&self, id: &CartId, order: &OrderId) -> Result<(), PortError<CartError>>;
}

/// A placement's claim on its caller's Idempotency-Key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimKey {
    /// The calling key's id and the operation.
    pub scope: String,
    pub key: String,
    /// A hash of the request body: the same key with another body is refused.
    pub fingerprint: String,
    /// A token unique to this attempt: a retry that takes over a stale claim becomes its
    /// owner, and only the owner's order can be written under the key.
    pub owner: String,
}

/// The order a placement is about to place: what it owes should it never be written
/// (every SKU's units voided), recorded with its claim before any stock is touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placing {
    pub order: OrderId,
    pub skus: Vec<Sku>,
    pub owed: Vec<Effect>,
}

/// A placement's claim, with the products it orders read in the same round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub claim: Claim,
    pub products: Vec<Product>,
}

/// The outcome of claiming an Idempotency-Key.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This placement owns the key: it writes the answer with the order, or abandons the key.
    Owned,
    /// An earlier placement with this key and body finished: its order.
    Replay(Box<Order>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefused {
    #[error("this Idempotency-Key was already used with a different request body")]
    KeyReused,
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    InUse,
}

/// Why a new order could not be written (nothing was).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteRefused {
    #[error("the coupon has no redemptions left")]
    CouponUsedUp,
    #[error("this cart was just ordered by another request")]
    CartAlreadyOrdered,
    /// The customer's store credit balance no longer covers what the order spends.
    #[error("the store credit balance is less than the order spends")]
    StoreCreditShort,
    /// A retry took the Idempotency-Key over while this placement was slow.
    #[error("a retry with this Idempotency-Key took over this request")]
    ClaimLost,
}

/// An order as stored, with the revision it was read at and the effects it still owes.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOrder {
    pub order: Order,
    /// Changes with every write of the order: a write names the revision it read.
    pub revision: String,
    /// Oldest first.
    pub owed: Vec<OwedEffect>,
}

/// What a status change does with the effects the order owes before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwedBefore {
    /// There must be none: a transition never starts before earlier effects are settled.
    MustBeSettled,
    /// They are dropped and replaced (an order cancelled because its commit cannot be applied).
    Replaced,
}

/// Orders, what they owe, and what placing one reads (D1 in the worker).
pub trait OrderStore {
    /// Claims `key` for placing `placing.order`, recording in the same write what that
    /// order owes should it never be written (while this placement owns the claim), and
    /// reads the products of `placing.skus`.
    async fn claim(&self, key: &ClaimKey, placing: &Placing) -> Result<Claimed, PortError<ClaimRefused>>;
    /// Lets go of a claim after a refusal, so a corrected retry may run.
    async fn abandon(&self, key: &ClaimKey) -> Result<(), Unavailable>;
    /// Lets go of a refused placement's claim and of what its order owed while being
    /// placed: the placement holds no units of it (whatever it took, it withdrew).
    async fn let_go(&self, key: &ClaimKey, order: &OrderId) -> Result<(), Unavailable>;
    /// What an order that was never written owes (its placement's voids), once its
    /// placement can no longer write it: its claim went to a retry or was let go, or it
    /// is older than the placement hold (then it is revoked here, so that the late
    /// placement writes nothing). `None` while it may still be written, or once it was.
    async fn unwritten(&self, order: &OrderId) -> Result<Option<Vec<OwedEffect>>, Unavailable>;
    async fn products(&self, skus: &[Sku]) -> Result<Vec<Product>, Unavailable>;
    async fn locations(&self) -> Result<Vec<Location>, Unavailable>;
    async fn coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, Unavailable>;
    async fn customer_exists(&self, id: &CustomerId) -> Result<bool, Unavailable>;
    async fn customer_with_email(&self, email: &Email) -> Result<Option<CustomerId>, Unavailable>;
    /// Writes a new order, the effects it owes, its coupon redemption, the store credit it
    /// spends and the claim's answer, all or nothing, and only while `claim.owner` still
    /// owns the claim; what the order owed while being placed (its voids) is forgiven in
    /// the same write.
    async fn insert(&self, order: &Order, owed: &[Effect], claim: &ClaimKey) -> Result<StoredOrder, PortError<WriteRefused>>;
    async fn order(&self, id: &OrderId) -> Result<Option<StoredOrder>, Unavailable>;
    /// Saves a status change and the effects it owes (a cancelled order gives back the
    /// store credit it spent), unless the order was written since
    /// `revision` (or, with `MustBeSettled`, still owes effects): `None` then.
    async fn update(&self, order: &Order, revision: &str, owed: &[Effect], before: OwedBefore) -> Result<Option<StoredOrder>, Unavailable>;
    /// Crosses off applied effects.
    async fn settled(&self, order: &OrderId, seqs: &[i64]) -> Result<(), Unavailable>;
    /// Orders that owe effects, oldest debt first.
    async fn owing(&self, limit: u32) -> Result<Vec<OrderId>, Unavailable>;
}

/// The outcome of claiming a return step's Idempotency-Key.
#[derive(Debug, Clone, PartialEq)]
pub enum ReturnClaim {
    /// This step owns the key: it writes its answer with the return, or abandons the key.
    Owned,
    /// An earlier call with this key and body finished: the return as it answered.
    Replay(Box<Return>),
}

/// Why a return step's write was not made (nothing was).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReturnWriteRefused {
    /// The order was written since it was read (another return or move), or a retry took the key over.
    #[error("the order changed meanwhile")]
    Changed,
}

/// One step of a return written whole: the return and its new history step, what the
/// return's order now owes the objects, the linked order of its replacement units with
/// what that owes, the goodwill coupon and the store credit, and the claim's answer.
pub struct ReturnWrite<'a> {
    pub ret: &'a Return,
    /// The revision of the return's order the step read: the write happens only while
    /// the order is still at it, and moves it on.
    pub order_revision: &'a str,
    pub owed: &'a [Effect],
    pub linked: Option<(&'a Order, &'a [Effect])>,
    pub coupon: Option<Coupon>,
    /// Credit to the order's customer, refunded as store credit.
    pub store_credit: Option<Money>,
    pub claim: &'a ClaimKey,
    /// The HTTP status the claim answers with on a replay (201 for opening, 200 for a step).
    pub status: u16,
}

/// Returns (D1 in the worker). Their Idempotency-Key claims share the orders' records, so
/// a step lets go of a refused claim with `OrderStore::abandon`.
pub trait ReturnStore {
    async fn claim_step(&self, key: &ClaimKey) -> Result<ReturnClaim, PortError<ClaimRefused>>;
    /// An order as stored and every return of it, in any state, read at one instant.
    async fn order_with_returns(&self, order: &OrderId) -> Result<Option<(StoredOrder, Vec<Return>)>, Unavailable>;
    async fn return_by_id(&self, id: &ReturnId) -> Result<Option<Return>, Unavailable>;
    async fn write(&self, write: ReturnWrite<'_>) -> Result<ReturnWritten, PortError<ReturnWriteRefused>>;

    /// Claims `key`, then reads the order `of` names with every return of it (`None`: no
    /// such order or return; nothing is read for a replay). A store may do both at once.
    async fn claim_and_read(&self, key: &ClaimKey, of: ReadOf<'_>) -> Result<(ReturnClaim, Option<(StoredOrder, Vec<Return>)>), PortError<ClaimRefused>> {
        let claim = self.claim_step(key).await?;
        let order = match (&claim, of) {
            (ReturnClaim::Replay(_), _) => return Ok((claim, None)),
            (ReturnClaim::Owned, ReadOf::Order(id)) => id.clone(),
            (ReturnClaim::Owned, ReadOf::Return(id)) => match self.return_by_id(id).await.map_err(PortError::Unavailable)? {
                Some(ret) => ret.order_id,
                None => return Ok((claim, None)),
            },
        };
        let read = self.order_with_returns(&order).await.map_err(PortError::Unavailable)?;
        Ok((claim, read))
    }
}

/// What a return step reads: an order (to open a return of it), or the order of a return.
#[derive(Debug, Clone, Copy)]
pub enum ReadOf<'a> {
    Order(&'a OrderId),
    Return(&'a ReturnId),
}

/// What a return step wrote: the order's new revision and the effects it now owes (those
/// it owed before first), and the linked order as written with what it owes.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnWritten {
    pub order_revision: String,
    pub owed: Vec<OwedEffect>,
    pub linked: Option<StoredOrder>,
}

/// Everything a workflow runs over.
pub trait Ports {
    type Orders: OrderStore;
    type Returns: ReturnStore;
    type Stock: StockPort;
    type Carts: CartPort;
    fn orders(&self) -> &Self::Orders;
    fn returns(&self) -> &Self::Returns;
    fn stock(&self) -> &Self::Stock;
    fn carts(&self) -> &Self::Carts;
    fn now(&self) -> DateTime<Utc>;
}
