//! Returns: a shopper brings or sends back units of a handed-over order, from any
//! channel to any location. Opening one checks eligibility (units handed over and not
//! yet returned, the window of `policy`) and fixes its refund (`refund`); receiving it
//! records each line's condition: resellable units go back on hand where received,
//! damaged ones are only counted, until written off (`damaged`). A line may be exchanged
//! for another SKU of the same style, the price difference paid at the till or refunded,
//! and a return for a goodwill reason earns a goodwill gesture (`exchange`). Lifecycle:
//! requested → received → refunded (to the original payment at most what it paid, the
//! share store credit paid as store credit), or rejected / cancelled while requested;
//! every step names who and when. An order shows its returns as `ReturnSummary`.

pub mod damaged;
pub mod exchange;
pub mod policy;
pub mod refund;

use crate::inventory::ledger::OrderRef;
use crate::sales::order::OrderStatus;
use crate::sales::placement::Order;
use crate::shared::channel::Channel;
use crate::shared::ids::{CustomerId, LocationId, OrderId, ReturnId, Sku};
use crate::shared::money::Money;
use crate::shared::quantity::PositiveQuantity;
use chrono::{DateTime, Duration, Utc};
use exchange::{Goodwill, Replacement};
use policy::ReturnPolicy;
use refund::{delivery_paid, from_minor, unit_prices_paid, Payout};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Why the shopper returns a line: `{"code":"wrong_size"}`, or `{"code":"other","note":..}`
/// (only `other` carries a note, and it must).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case", try_from = "ReasonWire")]
pub enum ReturnReason {
    Defective,
    WrongSize,
    NotAsDescribed,
    ChangedMind,
    Other { note: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonWire {
    code: String,
    #[serde(default, deserialize_with = "crate::shared::text::optional_line")]
    note: Option<String>,
}

impl TryFrom<ReasonWire> for ReturnReason {
    type Error = String;
    fn try_from(wire: ReasonWire) -> Result<Self, String> {
        let code = ReasonCode::parse(&wire.code).ok_or_else(|| format!("unknown reason code {:?}", wire.code.chars().take(40).collect::<String>()))?;
        Ok(match (code, wire.note) {
            (ReasonCode::Other, Some(note)) => ReturnReason::Other { note },
            (ReasonCode::Other, None) => return Err("reason \"other\" needs a note".into()),
            (_, Some(_)) => return Err("only reason \"other\" carries a note".into()),
            (ReasonCode::Defective, None) => ReturnReason::Defective,
            (ReasonCode::WrongSize, None) => ReturnReason::WrongSize,
            (ReasonCode::NotAsDescribed, None) => ReturnReason::NotAsDescribed,
            (ReasonCode::ChangedMind, None) => ReturnReason::ChangedMind,
        })
    }
}

/// A reason without its free text: what policies are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReasonCode {
    Defective,
    WrongSize,
    NotAsDescribed,
    ChangedMind,
    Other,
}

impl ReasonCode {
    /// A reason code as written on the wire and in configuration (`wrong_size`).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "defective" => ReasonCode::Defective,
            "wrong_size" => ReasonCode::WrongSize,
            "not_as_described" => ReasonCode::NotAsDescribed,
            "changed_mind" => ReasonCode::ChangedMind,
            "other" => ReasonCode::Other,
            _ => return None,
        })
    }
}

impl ReturnReason {
    pub fn code(&self) -> ReasonCode {
        match self {
            ReturnReason::Defective => ReasonCode::Defective,
            ReturnReason::WrongSize => ReasonCode::WrongSize,
            ReturnReason::NotAsDescribed => ReasonCode::NotAsDescribed,
            ReturnReason::ChangedMind => ReasonCode::ChangedMind,
            ReturnReason::Other { .. } => ReasonCode::Other,
        }
    }
}

/// One line of a return as a channel asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    pub sku: Sku,
    pub quantity: PositiveQuantity,
    pub reason: ReturnReason,
    /// Exchange: the SKU the shopper takes instead (same style, at its own price; the
    /// same SKU for a defect), held at the receiving location until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement_sku: Option<Sku>,
}

/// A return as a channel asks for it: the order, the lines and where they will be
/// received (a store, or a warehouse for goods sent by courier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub order_id: OrderId,
    pub location_id: LocationId,
    pub lines: Vec<LineRequest>,
    /// A store's POS receiving the goods on the spot: each line's condition; the return
    /// is then received at `location_id` as it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<Vec<ReceiptLineRequest>>,
}

/// One line of an opened return, with what it refunds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    pub sku: Sku,
    pub quantity: PositiveQuantity,
    pub reason: ReturnReason,
    /// What the shopper paid for these units: their shares of the order after its discount.
    pub paid: Money,
    /// What the units refund: what was paid for them; when exchanged, only a cheaper
    /// replacement's price difference (at most what was paid).
    pub refund: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement_sku: Option<Sku>,
}

/// What a return gives back: its lines, the delivery charge where due, and the total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub lines: Money,
    pub delivery: Money,
    pub total: Money,
}

impl Refund {
    /// The lines' refunds and the delivery charge `delivery`, and their total.
    pub fn of(lines: &[ReturnLine], delivery: Money) -> Refund {
        let currency = delivery.currency;
        let lines: Decimal = lines.iter().map(|l| l.refund.amount).sum();
        Refund { lines: Money { amount: lines, currency }, total: Money { amount: lines + delivery.amount, currency }, delivery }
    }
}

/// The state a received unit is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Back on hand at the receiving location, sellable at once.
    Resellable,
    /// Counted at the receiving location, never available.
    Damaged,
}

/// One line as it was received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedLine {
    pub sku: Sku,
    pub quantity: PositiveQuantity,
    pub condition: Condition,
}

/// What a receiving location sends: each line's condition, and (for back-office keys)
/// where the goods arrived; a store key receives at its own location.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    #[serde(default)]
    pub location_id: Option<LocationId>,
    pub lines: Vec<ReceiptLineRequest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLineRequest {
    pub sku: Sku,
    pub condition: Condition,
}

/// Why the retailer refuses a return.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    #[serde(deserialize_with = "crate::shared::text::line")]
    pub reason: String,
}

/// Where and in what state the goods arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub location_id: LocationId,
    pub lines: Vec<ReceivedLine>,
}

/// Where a return stands; a receipt exists exactly when the goods arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReturnState {
    Requested,
    Received { receipt: Receipt },
    Refunded {
        receipt: Receipt,
        refunded_to: RefundMethod,
        /// How much went to the original payment and how much became store credit (the
        /// share the order paid with store credit comes back as store credit).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payout: Option<Payout>,
    },
    Rejected { reason: String },
    Cancelled,
}

/// A step of a return's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Requested,
    Received,
    Refunded,
    Rejected,
    Cancelled,
}

impl ReturnStatus {
    pub const ALL: [ReturnStatus; 5] = [ReturnStatus::Requested, ReturnStatus::Received, ReturnStatus::Refunded, ReturnStatus::Rejected, ReturnStatus::Cancelled];

    /// As on the wire and in D1.
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnStatus::Requested => "requested",
            ReturnStatus::Received => "received",
            ReturnStatus::Refunded => "refunded",
            ReturnStatus::Rejected => "rejected",
            ReturnStatus::Cancelled => "cancelled",
        }
    }
}

impl ReturnState {
    pub fn status(&self) -> ReturnStatus {
        match self {
            ReturnState::Requested => ReturnStatus::Requested,
            ReturnState::Received { .. } => ReturnStatus::Received,
            ReturnState::Refunded { .. } => ReturnStatus::Refunded,
            ReturnState::Rejected { .. } => ReturnStatus::Rejected,
            ReturnState::Cancelled => ReturnStatus::Cancelled,
        }
    }
}

/// Where the refund went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum RefundMethod {
    /// Back to the original payment; the payment service's refund id is recorded (omniedge moves no money).
    OriginalPayment {
        #[serde(deserialize_with = "psp_reference")]
        psp_reference: String,
    },
    /// A store credit balance on the customer, spendable in every channel.
    StoreCredit,
}

/// Longest PSP reference.
pub const MAX_PSP_REFERENCE: usize = 128;

fn psp_reference<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    let ok = (1..=MAX_PSP_REFERENCE).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(text)
    } else {
        Err(serde::de::Error::custom(format!("psp_reference must be 1 to {MAX_PSP_REFERENCE} visible ASCII characters")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnStep {
    pub status: ReturnStatus,
    pub at: DateTime<Utc>,
    pub by: String,
}

/// A return of units of one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    pub id: ReturnId,
    pub order_id: OrderId,
    /// The order's customer, if it has one (whose timeline shows the return).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// The channel that opened it.
    pub channel: Channel,
    /// Where it is expected.
    pub location_id: LocationId,
    pub lines: Vec<ReturnLine>,
    pub refund: Refund,
    /// What the shopper takes home at the receiving location: exchanged units and a
    /// goodwill gift, held there until `held_until`, a linked order once received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<Replacement>,
    /// The goodwill gesture this return earns; issued when the goods are received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goodwill: Option<Goodwill>,
    #[serde(flatten)]
    pub state: ReturnState,
    pub history: Vec<ReturnStep>,
}

/// A return as its order shows it: where it stands, which units, what it refunds, and
/// the linked order its replacement units were (or will be) handed over under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnSummary {
    pub id: ReturnId,
    pub status: ReturnStatus,
    pub location_id: LocationId,
    pub lines: Vec<ReturnedUnits>,
    pub refund: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement_order_id: Option<OrderId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedUnits {
    pub sku: Sku,
    pub quantity: PositiveQuantity,
}

impl From<&Return> for ReturnSummary {
    fn from(ret: &Return) -> Self {
        ReturnSummary {
            id: ret.id.clone(),
            status: ret.state.status(),
            location_id: ret.location_id.clone(),
            lines: ret.lines.iter().map(|l| ReturnedUnits { sku: l.sku.clone(), quantity: l.quantity }).collect(),
            refund: ret.refund.total.clone(),
            replacement_order_id: ret.replacement.as_ref().map(|r| r.order_id.clone()),
        }
    }
}

/// Why a return cannot be opened or moved on; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("a return needs at least one line")]
    NoLines,
    #[error("order is cancelled: nothing was handed over to return")]
    OrderCancelled,
    #[error("order is {status}: only goods handed over can be returned")]
    NotHandedOver { status: OrderStatus },
    #[error("{sku} is not a line of this order")]
    UnknownLine { sku: Sku },
    #[error("{sku} is named twice in the return")]
    RepeatedLine { sku: Sku },
    #[error("{requested} units of {sku} asked back, only {returnable} can still be returned")]
    OverReturn { sku: Sku, requested: u32, returnable: u32 },
    #[error("the {days}-day return window for {sku} closed at {closed_at}")]
    WindowClosed { sku: Sku, days: u32, closed_at: DateTime<Utc> },
    #[error("the return is {}: it cannot be {action}", status.as_str())]
    InvalidTransition { status: ReturnStatus, action: &'static str },
    #[error("the receipt must name every line of the return exactly once with its condition; {sku} does not fit")]
    ReceiptMismatch { sku: Sku },
    #[error("the order has no customer to hold store credit: refund to the original payment")]
    NoCustomerForCredit,
}

/// What opening a return needs to know besides the request.
pub struct Opening<'a> {
    pub id: ReturnId,
    pub order: &'a Order,
    /// Every earlier return of the order, in any state.
    pub earlier: &'a [Return],
    pub policy: &'a ReturnPolicy,
    pub channel: Channel,
    pub by: &'a str,
    pub now: DateTime<Utc>,
}

impl Return {
    /// Opens a return if every line is eligible, with its refund fixed.
    pub fn open(request: ReturnRequest, opening: Opening<'_>) -> Result<Return, ReturnError> {
        let Opening { id, order, earlier, policy, channel, by, now } = opening;
        if request.lines.is_empty() {
            return Err(ReturnError::NoLines);
        }
        let handed_over_at = match order.status {
            OrderStatus::Cancelled => return Err(ReturnError::OrderCancelled),
            status if !status.is_handed_over() => return Err(ReturnError::NotHandedOver { status }),
            _ => order.history.iter().rev().find(|s| s.status.is_handed_over()).map_or(order.placed_at, |s| s.at),
        };
        let live: Vec<&Return> = earlier.iter().filter(|r| r.counts()).collect();
        let paid = unit_prices_paid(order);
        let currency = order.totals.grand_total.currency;
        let mut lines = Vec::new();
        for (i, asked) in request.lines.iter().enumerate() {
            if request.lines[..i].iter().any(|l| l.sku == asked.sku) {
                return Err(ReturnError::RepeatedLine { sku: asked.sku.clone() });
            }
            let index = order.lines.iter().position(|l| l.sku == asked.sku).ok_or_else(|| ReturnError::UnknownLine { sku: asked.sku.clone() })?;
            let returned = units_returned(&live, &asked.sku);
            let returnable = order.lines[index].quantity.get().saturating_sub(returned);
            if asked.quantity.get() > returnable {
                return Err(ReturnError::OverReturn { sku: asked.sku.clone(), requested: asked.quantity.get(), returnable });
            }
            let days = policy.window_days(order.origin.channel(), asked.reason.code());
            let closed_at = handed_over_at + Duration::days(i64::from(days));
            if now > closed_at {
                return Err(ReturnError::WindowClosed { sku: asked.sku.clone(), days, closed_at });
            }
            // The units take the next shares of what was paid, refunded unless exchanged.
            let units = &paid[index][returned as usize..(returned + asked.quantity.get()) as usize];
            let paid = Money { amount: from_minor(units.iter().sum(), currency), currency };
            let refund = if asked.replacement_sku.is_some() { Money { amount: from_minor(0, currency), currency } } else { paid.clone() };
            lines.push(ReturnLine {
                sku: asked.sku.clone(),
                quantity: asked.quantity,
                reason: asked.reason.clone(),
                paid,
                refund,
                replacement_sku: asked.replacement_sku.clone(),
            });
        }
        let all_returned = order.lines.iter().all(|l| units_returned(&live, &l.sku) + request_units(&request, &l.sku) == l.quantity.get());
        let defective = lines.iter().any(|l| l.reason == ReturnReason::Defective);
        let delivery_refunded = live.iter().any(|r| !r.refund.delivery.amount.is_zero());
        let delivery = if (all_returned || defective) && !delivery_refunded { delivery_paid(order) } else { 0 };
        let refund = Refund::of(&lines, Money { amount: from_minor(delivery, currency), currency });
        Ok(Return {
            id,
            order_id: order.id.clone(),
            customer_id: order.customer_id.clone(),
            channel,
            location_id: request.location_id,
            lines,
            refund,
            replacement: None,
            goodwill: None,
            state: ReturnState::Requested,
            history: vec![ReturnStep { status: ReturnStatus::Requested, at: now, by: by.to_owned() }],
        })
    }

    /// Whether the return still covers its units (it was not rejected or cancelled).
    pub fn counts(&self) -> bool {
        !matches!(self.state, ReturnState::Rejected { .. } | ReturnState::Cancelled)
    }

    /// The goods arrived at `at`, each line in the condition named for its SKU.
    pub fn receive(&mut self, at: LocationId, conditions: &[(Sku, Condition)], by: &str, now: DateTime<Utc>) -> Result<(), ReturnError> {
        self.expect_requested("received")?;
        if let Some((sku, _)) = conditions.iter().enumerate().find(|(i, (sku, _))| conditions[..*i].iter().any(|(s, _)| s == sku)).map(|(_, c)| c) {
            return Err(ReturnError::ReceiptMismatch { sku: sku.clone() });
        }
        if let Some((sku, _)) = conditions.iter().find(|(sku, _)| !self.lines.iter().any(|l| &l.sku == sku)) {
            return Err(ReturnError::ReceiptMismatch { sku: sku.clone() });
        }
        let lines = self
            .lines
            .iter()
            .map(|line| match conditions.iter().find(|(sku, _)| sku == &line.sku) {
                Some((_, condition)) => Ok(ReceivedLine { sku: line.sku.clone(), quantity: line.quantity, condition: *condition }),
                None => Err(ReturnError::ReceiptMismatch { sku: line.sku.clone() }),
            })
            .collect::<Result<_, _>>()?;
        self.step(ReturnState::Received { receipt: Receipt { location_id: at, lines } }, by, now);
        Ok(())
    }

    /// Where its refund went, once refunded.
    pub fn payout(&self) -> Option<&Payout> {
        match &self.state {
            ReturnState::Refunded { payout, .. } => payout.as_ref(),
            _ => None,
        }
    }

    /// What this return gave back to the order's original payment.
    pub fn refunded_to_payment(&self) -> Decimal {
        match &self.state {
            ReturnState::Refunded { payout: Some(payout), .. } => payout.original_payment.amount,
            ReturnState::Refunded { refunded_to: RefundMethod::OriginalPayment { .. }, payout: None, .. } => self.refund.total.amount,
            _ => Decimal::ZERO,
        }
    }

    /// The refund was paid out, to `method`: to the original payment at most what it paid
    /// for `order` less what the order's `others` returns gave back to it, the rest (what
    /// store credit paid) as store credit.
    pub fn refunded(&mut self, method: RefundMethod, order: &Order, others: &[Return], by: &str, now: DateTime<Utc>) -> Result<(), ReturnError> {
        let paid_by_payment = order.store_credit.as_ref().map_or(&order.totals.grand_total, |credit| &credit.balance_due);
        let before: Decimal = others.iter().filter(|r| r.id != self.id).map(Return::refunded_to_payment).sum();
        let to_payment = matches!(method, RefundMethod::OriginalPayment { .. });
        let payout = refund::payout(&self.refund.total, to_payment, paid_by_payment, before);
        match &self.state {
            ReturnState::Received { .. } if !payout.store_credit.amount.is_zero() && self.customer_id.is_none() => Err(ReturnError::NoCustomerForCredit),
            ReturnState::Received { receipt } => {
                let receipt = receipt.clone();
                self.step(ReturnState::Refunded { receipt, refunded_to: method, payout: Some(payout) }, by, now);
                Ok(())
            }
            state => Err(ReturnError::InvalidTransition { status: state.status(), action: "refunded" }),
        }
    }

    /// The retailer refuses the return before the goods arrive.
    pub fn reject(&mut self, reason: String, by: &str, now: DateTime<Utc>) -> Result<(), ReturnError> {
        self.expect_requested("rejected")?;
        self.step(ReturnState::Rejected { reason }, by, now);
        Ok(())
    }

    /// The shopper keeps the goods after all.
    pub fn cancel(&mut self, by: &str, now: DateTime<Utc>) -> Result<(), ReturnError> {
        self.expect_requested("cancelled")?;
        self.step(ReturnState::Cancelled, by, now);
        Ok(())
    }

    /// The resellable units received, per line: what goes back on hand where received.
    pub fn restocks(&self) -> Vec<(Sku, OrderRef, LocationId, PositiveQuantity)> {
        match &self.state {
            ReturnState::Received { receipt } | ReturnState::Refunded { receipt, .. } => receipt
                .lines
                .iter()
                .filter(|l| l.condition == Condition::Resellable)
                .map(|l| (l.sku.clone(), self.receipt_ref(&l.sku), receipt.location_id.clone(), l.quantity))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The reference one line's units are received under in the SKU's ledger, so that
    /// receiving them is idempotent.
    pub fn receipt_ref(&self, sku: &Sku) -> OrderRef {
        OrderRef(format!("return:{}:{sku}", self.id))
    }

    fn expect_requested(&self, action: &'static str) -> Result<(), ReturnError> {
        match self.state {
            ReturnState::Requested => Ok(()),
            ref state => Err(ReturnError::InvalidTransition { status: state.status(), action }),
        }
    }

    fn step(&mut self, state: ReturnState, by: &str, now: DateTime<Utc>) {
        self.history.push(ReturnStep { status: state.status(), at: now, by: by.to_owned() });
        self.state = state;
    }
}

fn units_returned(returns: &[&Return], sku: &Sku) -> u32 {
    returns.iter().flat_map(|r| &r.lines).filter(|l| &l.sku == sku).map(|l| l.quantity.get()).sum()
}

fn request_units(request: &ReturnRequest, sku: &Sku) -> u32 {
    request.lines.iter().filter(|l| &l.sku == sku).map(|l| l.quantity.get()).sum()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod reason_tests {
    use super::ReturnReason;

    #[test]
    fn only_other_carries_a_note_and_it_must() {
        let parse = |v: serde_json::Value| serde_json::from_value::<ReturnReason>(v);
        assert_eq!(parse(serde_json::json!({"code":"defective"})).unwrap(), ReturnReason::Defective);
        assert!(parse(serde_json::json!({"code":"defective","note":"scuffed"})).is_err());
        assert!(parse(serde_json::json!({"code":"other"})).is_err());
        assert!(parse(serde_json::json!({"code":"lost"})).is_err());
        assert!(parse(serde_json::json!({"code":"wrong_size","colour":"red"})).is_err());
        let other = parse(serde_json::json!({"code":"other","note":" too small "})).unwrap();
        assert_eq!(serde_json::to_value(&other).unwrap(), serde_json::json!({"code":"other","note":"too small"}));
    }
}
