//! Whether a due reminder step goes to the shopper: it goes only when every condition
//! holds, and otherwise is skipped for the first reason that fails, named so the
//! back-office log and report can say why. Pure: the worker gathers the facts (the
//! cart from its object; orders, consents, subscriptions, unsubscribes and earlier
//! reminders from D1) and logs the answer.

use super::ReminderChannel;
use crate::customers::Email;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The cart as the step finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartState {
    /// Open, with at least one line.
    Waiting,
    Empty,
    Ordered,
    /// The cart no longer exists.
    Gone,
}

/// Where a reminder on the step's channel would go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// An address known before: the customer's, or one typed on the cart.
    Email(Option<Email>),
    /// The live push subscriptions of the cart or its customer.
    Push { live_subscriptions: u32 },
}

/// Everything the decision needs, read at the moment the step is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFacts {
    pub cart: CartState,
    /// The cart's last change: the sequence counts from it.
    pub quiet_since: DateTime<Utc>,
    /// The step's delay after the last change.
    pub delay: Duration,
    pub now: DateTime<Utc>,
    /// The shopper placed an order in any channel since the cart's last change.
    pub ordered_since: bool,
    pub reach: Reach,
    /// The latest consent given or withdrawn for the channel (false when never asked).
    pub consent: bool,
    /// The address (or shopper) unsubscribed from reminders on this channel.
    pub unsubscribed: bool,
    /// When a reminder of any cart last reached this shopper on this channel.
    pub last_reminded: Option<DateTime<Utc>>,
    /// The frequency cap: at most one reminder per shopper and channel within it.
    pub cap: Duration,
}

/// Why a due step was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    CartGone,
    CartOrdered,
    CartEmpty,
    /// The shopper bought in another channel or cart since the cart's last change.
    OrderedElsewhere,
    NoAddress,
    NoSubscription,
    Unsubscribed,
    NoConsent,
    FrequencyCap,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::CartGone => "cart_gone",
            SkipReason::CartOrdered => "cart_ordered",
            SkipReason::CartEmpty => "cart_empty",
            SkipReason::OrderedElsewhere => "ordered_elsewhere",
            SkipReason::NoAddress => "no_address",
            SkipReason::NoSubscription => "no_subscription",
            SkipReason::Unsubscribed => "unsubscribed",
            SkipReason::NoConsent => "no_consent",
            SkipReason::FrequencyCap => "frequency_cap",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Send,
    Skip(SkipReason),
    /// The cart changed after the step was armed: the sequence starts again from the
    /// change (the cart's alarm is already set for it); nothing to log.
    NotYetDue,
}

impl StepFacts {
    pub fn channel(&self) -> ReminderChannel {
        match self.reach {
            Reach::Email(_) => ReminderChannel::Email,
            Reach::Push { .. } => ReminderChannel::Push,
        }
    }
}

/// Decides a due step from its facts.
pub fn decide(facts: &StepFacts) -> Decision {
    use SkipReason::*;
    match facts.cart {
        CartState::Gone => return Decision::Skip(CartGone),
        CartState::Ordered => return Decision::Skip(CartOrdered),
        CartState::Empty => return Decision::Skip(CartEmpty),
        CartState::Waiting => {}
    }
    if facts.quiet_since + facts.delay > facts.now {
        return Decision::NotYetDue;
    }
    let unreachable = match &facts.reach {
        Reach::Email(None) => Some(NoAddress),
        Reach::Push { live_subscriptions: 0 } => Some(NoSubscription),
        Reach::Email(Some(_)) | Reach::Push { .. } => None,
    };
    let capped = facts.last_reminded.is_some_and(|at| at + facts.cap > facts.now);
    let reason = [
        facts.ordered_since.then_some(OrderedElsewhere),
        unreachable,
        facts.unsubscribed.then_some(Unsubscribed),
        (!facts.consent).then_some(NoConsent),
        capped.then_some(FrequencyCap),
    ]
    .into_iter()
    .flatten()
    .next();
    reason.map_or(Decision::Send, Decision::Skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    fn due_email() -> StepFacts {
        StepFacts {
            cart: CartState::Waiting,
            quiet_since: at(0),
            delay: Duration::minutes(20),
            now: at(20),
            ordered_since: false,
            reach: Reach::Email(Some(Email::parse("ann@example.com").unwrap())),
            consent: true,
            unsubscribed: false,
            last_reminded: None,
            cap: Duration::hours(24),
        }
    }

    #[test]
    fn a_due_step_with_every_condition_met_is_sent() {
        assert_eq!(decide(&due_email()), Decision::Send);
        let push = StepFacts { reach: Reach::Push { live_subscriptions: 2 }, ..due_email() };
        assert_eq!(decide(&push), Decision::Send);
        assert_eq!(push.channel(), ReminderChannel::Push);
    }

    #[test]
    fn each_failing_condition_skips_with_its_reason() {
        let cases = [
            (StepFacts { cart: CartState::Ordered, ..due_email() }, SkipReason::CartOrdered),
            (StepFacts { cart: CartState::Empty, ..due_email() }, SkipReason::CartEmpty),
            (StepFacts { cart: CartState::Gone, ..due_email() }, SkipReason::CartGone),
            (StepFacts { ordered_since: true, ..due_email() }, SkipReason::OrderedElsewhere),
            (StepFacts { reach: Reach::Email(None), ..due_email() }, SkipReason::NoAddress),
            (StepFacts { reach: Reach::Push { live_subscriptions: 0 }, ..due_email() }, SkipReason::NoSubscription),
            (StepFacts { unsubscribed: true, ..due_email() }, SkipReason::Unsubscribed),
            (StepFacts { consent: false, ..due_email() }, SkipReason::NoConsent),
            (StepFacts { last_reminded: Some(at(-60)), ..due_email() }, SkipReason::FrequencyCap),
        ];
        for (facts, reason) in cases {
            assert_eq!(decide(&facts), Decision::Skip(reason), "{facts:?}");
        }
    }

    #[test]
    fn the_cap_counts_from_the_last_reminder_of_any_cart() {
        let just_outside = StepFacts { last_reminded: Some(at(20) - Duration::hours(24)), ..due_email() };
        assert_eq!(decide(&just_outside), Decision::Send);
        let inside = StepFacts { last_reminded: Some(at(21) - Duration::hours(24)), ..due_email() };
        assert_eq!(decide(&inside), Decision::Skip(SkipReason::FrequencyCap));
    }

    #[test]
    fn a_cart_changed_since_the_alarm_waits_for_its_new_time() {
        let changed = StepFacts { quiet_since: at(5), ..due_email() };
        assert_eq!(decide(&changed), Decision::NotYetDue);
        let ordered_meanwhile = StepFacts { quiet_since: at(5), cart: CartState::Ordered, ..due_email() };
        assert_eq!(decide(&ordered_meanwhile), Decision::Skip(SkipReason::CartOrdered));
    }

    #[test]
    fn buying_elsewhere_outranks_every_reachability_reason() {
        let facts = StepFacts { ordered_since: true, consent: false, reach: Reach::Email(None), ..due_email() };
        assert_eq!(decide(&facts), Decision::Skip(SkipReason::OrderedElsewhere));
    }
}
