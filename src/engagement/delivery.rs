//! What a push service's or email API's answer means for a reminder, and when to try
//! again: delivered; gone (push 404/410: the subscription is dead and is removed);
//! a temporary failure (429, 5xx, no answer), retried with exponential backoff that
//! honours `Retry-After`, up to the attempts the deployment allows; or failed for
//! good with its cause (413 and any other 4xx).

use crate::shared::ids::CartId;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// What the reminder queue carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReminderMessage {
    /// A cart's alarm found the step due: decide it (and log the decision).
    StepDue { cart_id: CartId, step: u32 },
    /// A step decided `send`, its delivery key recorded: send it.
    Deliver { cart_id: CartId, step: u32 },
}

/// What a cart owes once a step was decided `send` (recorded in `owed_effects` with
/// the delivery key, in one D1 batch): handing the delivery to the queue. Applying it
/// twice is harmless, since a delivery is sent only from its `queued` or `retrying` state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CartEffect {
    DeliverReminder { cart_id: CartId, step: u32 },
}

impl CartEffect {
    pub fn message(&self) -> ReminderMessage {
        match self {
            CartEffect::DeliverReminder { cart_id, step } => ReminderMessage::Deliver { cart_id: cart_id.clone(), step: *step },
        }
    }
}

/// The answer to one send, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Delivered,
    /// The push subscription expired or was unsubscribed (404, 410).
    Gone { status: u16 },
    Temporary { cause: String, retry_after: Option<Duration> },
    Failed { cause: String },
}

/// Reads an HTTP answer of a push service (RFC 8030) or email API.
pub fn outcome(status: u16, retry_after: Option<&str>, now: DateTime<Utc>, gone_means_unsubscribed: bool) -> SendOutcome {
    match status {
        200..=299 => SendOutcome::Delivered,
        404 | 410 if gone_means_unsubscribed => SendOutcome::Gone { status },
        429 | 500..=599 => SendOutcome::Temporary {
            cause: format!("answered {status}"),
            retry_after: retry_after.and_then(|text| parse_retry_after(text, now)),
        },
        413 => SendOutcome::Failed { cause: "413: the payload is too large for the push service".into() },
        other => SendOutcome::Failed { cause: format!("answered {other}") },
    }
}

/// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110).
pub fn parse_retry_after(text: &str, now: DateTime<Utc>) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u32>() {
        return Some(Duration::seconds(i64::from(seconds)));
    }
    let at = DateTime::parse_from_rfc2822(text).ok()?.with_timezone(&Utc);
    Some((at - now).max(Duration::zero()))
}

/// How often and how patiently a temporary failure is retried
/// (`REMINDER_MAX_ATTEMPTS`, default 5; `REMINDER_RETRY_BASE`, default 30s: waits of
/// 30 s, 2 min, 8 min, 32 min, each at least what `Retry-After` asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
}

/// The longest a queue message may be delayed (Cloudflare Queues: 12 hours).
pub const MAX_RETRY_DELAY: i64 = 12 * 3600;

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 5, base: Duration::seconds(30) }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt after `attempts` failed temporarily, or None
    /// when they are used up (the reminder then fails with the last cause).
    pub fn next_wait(&self, attempts: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let backoff = self.base * 4i32.saturating_pow(attempts.saturating_sub(1).min(10));
        let wait = retry_after.map_or(backoff, |asked| asked.max(backoff));
        Some(wait.min(Duration::seconds(MAX_RETRY_DELAY)))
    }
}

/// One outcome for several devices: delivered to any, else retry if any may still take
/// it (waiting as long as the most patient asked), else gone if all are, else failed.
pub fn combine(outcomes: Vec<SendOutcome>) -> SendOutcome {
    if outcomes.iter().any(|o| matches!(o, SendOutcome::Delivered)) {
        return SendOutcome::Delivered;
    }
    let mut temporary = outcomes.iter().filter_map(|o| match o {
        SendOutcome::Temporary { cause, retry_after } => Some((cause, retry_after)),
        _ => None,
    });
    if let Some((cause, first_wait)) = temporary.next() {
        let retry_after = temporary.fold(*first_wait, |wait, (_, other)| wait.max(*other));
        return SendOutcome::Temporary { cause: cause.clone(), retry_after };
    }
    let failed = outcomes.iter().find_map(|o| match o {
        SendOutcome::Failed { cause } => Some(cause.clone()),
        _ => None,
    });
    match (failed, outcomes.first()) {
        (Some(cause), _) => SendOutcome::Failed { cause },
        (None, Some(gone)) => gone.clone(),
        (None, None) => SendOutcome::Failed { cause: "no device".into() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn answers_are_read_as_the_rfcs_say() {
        assert_eq!(outcome(201, None, now(), true), SendOutcome::Delivered);
        assert_eq!(outcome(410, None, now(), true), SendOutcome::Gone { status: 410 });
        assert_eq!(outcome(404, None, now(), true), SendOutcome::Gone { status: 404 });
        assert!(matches!(outcome(404, None, now(), false), SendOutcome::Failed { .. }), "an email API's 404 is no subscription");
        assert_eq!(outcome(429, Some("7"), now(), true), SendOutcome::Temporary { cause: "answered 429".into(), retry_after: Some(Duration::seconds(7)) });
        assert_eq!(
            outcome(503, Some("Sun, 22 Nov 2026 10:01:00 GMT"), now(), true),
            SendOutcome::Temporary { cause: "answered 503".into(), retry_after: Some(Duration::seconds(60)) }
        );
        assert!(matches!(outcome(413, None, now(), true), SendOutcome::Failed { cause } if cause.contains("too large")));
        assert!(matches!(outcome(400, None, now(), true), SendOutcome::Failed { .. }));
        assert_eq!(parse_retry_after("soon", now()), None);
    }

    #[test]
    fn retries_back_off_honour_retry_after_and_stop() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.next_wait(1, None), Some(Duration::seconds(30)));
        assert_eq!(policy.next_wait(2, None), Some(Duration::seconds(120)));
        assert_eq!(policy.next_wait(2, Some(Duration::seconds(600))), Some(Duration::seconds(600)));
        assert_eq!(policy.next_wait(1, Some(Duration::days(3))), Some(Duration::seconds(MAX_RETRY_DELAY)));
        assert_eq!(policy.next_wait(5, None), None);
    }

    #[test]
    fn devices_combine_without_sending_twice() {
        let temporary = |s: i64| SendOutcome::Temporary { cause: "answered 429".into(), retry_after: Some(Duration::seconds(s)) };
        let failed = SendOutcome::Failed { cause: "answered 400".into() };
        assert_eq!(combine(vec![SendOutcome::Gone { status: 410 }, SendOutcome::Delivered, temporary(5)]), SendOutcome::Delivered);
        assert_eq!(combine(vec![temporary(5), failed.clone(), temporary(9)]), temporary(9));
        assert_eq!(combine(vec![SendOutcome::Gone { status: 410 }, failed.clone()]), failed);
        assert_eq!(combine(vec![SendOutcome::Gone { status: 404 }]), SendOutcome::Gone { status: 404 });
    }
}
