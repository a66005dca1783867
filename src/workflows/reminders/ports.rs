//! The ports the reminder delivery workflow runs over: the reminder tables (D1 in the
//! worker: consents, subscriptions, unsubscribes, orders read for "bought elsewhere",
//! the delivery keys, the log and what carts owe), a cart (its Durable Object, the
//! order workflows' `CartPort`), the reminder queue, the push and email transports, and
//! the clock. The worker binds them to the platform; the simulation binds them to
//! in-memory fakes that fail and crash on purpose.
//!
//! As with the order ports, `Unavailable` means the call may or may not have taken effect.

// The worker runs single-threaded (wasm), so the futures need not be `Send`.
#![allow(async_fn_in_trait)]

use crate::customers::{Customer, Email};
use crate::engagement::decision::SkipReason;
use crate::engagement::delivery::{CartEffect, ReminderMessage, SendOutcome};
use crate::engagement::ReminderChannel;
use crate::sales::cart::Cart;
use crate::shared::ids::{CartId, CustomerId};
use crate::workflows::ports::{CartPort, Unavailable};
use chrono::{DateTime, Utc};

/// A browser a push reminder can go to (a registered, still live push subscription).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushDevice {
    pub endpoint: String,
    /// base64url, as the browser gave them.
    pub p256dh: String,
    pub auth: String,
}

/// How claiming a step's delivery key went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimed {
    /// The key is this step's: what it owes (handing it to the queue) is recorded.
    Mine,
    /// The step was claimed before (a second alarm, a redelivered message).
    Before,
    /// Another reminder reached the shopper on this channel within the cap meanwhile.
    Capped,
}

/// What a step decided `send` is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<'a> {
    pub cart: &'a CartId,
    pub step: u32,
    pub channel: ReminderChannel,
    /// Who the frequency cap counts for (see `shopper`).
    pub shopper: &'a str,
    /// Email steps only.
    pub address: Option<&'a Email>,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Queued,
    Sending,
    Retrying,
    Sent,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sending => "sending",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [DeliveryState::Queued, DeliveryState::Sending, DeliveryState::Retrying, DeliveryState::Sent, DeliveryState::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A delivery taken for sending: its channel, address and how many attempts it has had
/// (this one included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sending {
    pub channel: ReminderChannel,
    pub address: Option<Email>,
    pub attempts: u32,
}

/// How an attempt leaves a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Sent,
    Failed { cause: String },
    /// A temporary failure: the queue brings the delivery back after the backoff.
    Retrying { cause: String },
}

impl Ending {
    pub fn state(&self) -> DeliveryState {
        match self {
            Ending::Sent => DeliveryState::Sent,
            Ending::Failed { .. } => DeliveryState::Failed,
            Ending::Retrying { .. } => DeliveryState::Retrying,
        }
    }

    pub fn cause(&self) -> Option<&str> {
        match self {
            Ending::Sent => None,
            Ending::Failed { cause } | Ending::Retrying { cause } => Some(cause),
        }
    }
}

/// An effect a cart owes, with its place in the cart's debts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedByCart {
    pub seq: i64,
    pub effect: CartEffect,
}

/// The reminder tables and what a due step reads (D1 in the worker).
pub trait ReminderStore {
    /// Whether the step's delivery key exists (it was decided `send` before).
    async fn delivery_exists(&self, cart: &CartId, step: u32) -> Result<bool, Unavailable>;
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Unavailable>;
    /// The live push subscriptions of the cart and its customer, newest first.
    async fn reachable_devices(&self, cart: &CartId, customer: Option<&CustomerId>) -> Result<Vec<PushDevice>, Unavailable>;
    /// The newest consent for the channel recorded on the cart or its customer, if any.
    async fn latest_consent(&self, cart: &CartId, customer: Option<&CustomerId>, channel: ReminderChannel) -> Result<Option<bool>, Unavailable>;
    async fn is_unsubscribed(&self, channel: ReminderChannel, address: &Email) -> Result<bool, Unavailable>;
    /// Whether an order was placed from the cart, or the shopper (customer or email
    /// address) placed one in any channel after `since`.
    async fn ordered_since(&self, cart: &CartId, customer: Option<&CustomerId>, email: Option<&Email>, since: DateTime<Utc>) -> Result<bool, Unavailable>;
    /// When a reminder of any cart last reached (or is on its way to) the shopper on the channel.
    async fn last_reminded(&self, shopper: &str, channel: ReminderChannel) -> Result<Option<DateTime<Utc>>, Unavailable>;
    /// Logs a due step that is not sent, with its reason, unless the step holds a
    /// delivery key (a duplicate decision that lost the race to the claim says nothing).
    async fn skipped(&self, cart: &CartId, step: u32, channel: ReminderChannel, reason: SkipReason, now: DateTime<Utc>) -> Result<(), Unavailable>;
    /// Claims the step's delivery key in state `queued`, unless the shopper was reminded
    /// on the channel after `cap_since`, and with it logs `queued` and records that the
    /// cart owes `DeliverReminder` — all or nothing.
    async fn claim(&self, delivery: &Delivery<'_>, cap_since: DateTime<Utc>, now: DateTime<Utc>) -> Result<Claimed, Unavailable>;
    /// Moves a `queued` or `retrying` delivery to `sending`, counting the attempt; None
    /// when it is in no such state (one taker wins).
    async fn take(&self, cart: &CartId, step: u32, now: DateTime<Utc>) -> Result<Option<Sending>, Unavailable>;
    /// Ends a delivery left `sending` since before `since` as `failed` with `cause`, and
    /// logs that, all or nothing; false when it is not such a delivery.
    async fn fail_stale(&self, cart: &CartId, step: u32, since: DateTime<Utc>, cause: &str, now: DateTime<Utc>) -> Result<bool, Unavailable>;
    async fn state(&self, cart: &CartId, step: u32) -> Result<Option<DeliveryState>, Unavailable>;
    /// Ends (or pauses, `Retrying`) a delivery after an attempt, and logs it, all or nothing.
    async fn finish(&self, cart: &CartId, step: u32, channel: ReminderChannel, ending: &Ending, now: DateTime<Utc>) -> Result<(), Unavailable>;
    /// Forgets a subscription the push service said is gone (404/410).
    async fn forget_device(&self, endpoint: &str) -> Result<(), Unavailable>;
    async fn owed_by_cart(&self, cart: &CartId) -> Result<Vec<OwedByCart>, Unavailable>;
    /// Crosses off an applied cart effect.
    async fn settled(&self, seq: i64) -> Result<(), Unavailable>;
    /// Carts that owe effects, oldest debt first.
    async fn carts_owing(&self, limit: u32) -> Result<Vec<CartId>, Unavailable>;
}

/// The reminder queue (a Cloudflare Queue in the worker).
pub trait ReminderQueue {
    async fn hand_on(&self, message: &ReminderMessage) -> Result<(), Unavailable>;
}

/// The transports: renders the step's reminder from the cart as it is now and sends it.
/// A transport's own failure (no answer, a refusal) is a `SendOutcome`; `Unavailable`
/// is reserved for what rendering reads (the catalog).
pub trait Sender {
    /// One outcome per device, in the order given.
    async fn push(&self, cart: &Cart, step: u32, devices: &[PushDevice]) -> Result<Vec<SendOutcome>, Unavailable>;
    async fn email(&self, cart: &Cart, step: u32, to: &Email) -> Result<SendOutcome, Unavailable>;
}

/// Everything the reminder workflow runs over.
pub trait ReminderPorts {
    type Store: ReminderStore;
    type Carts: CartPort;
    type Queue: ReminderQueue;
    type Sender: Sender;
    fn store(&self) -> &Self::Store;
    fn carts(&self) -> &Self::Carts;
    fn queue(&self) -> &Self::Queue;
    fn sender(&self) -> &Self::Sender;
    fn now(&self) -> DateTime<Utc>;
}
