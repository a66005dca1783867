//! Engagement: cart-abandonment reminders. The sequence of steps a deployment
//! configures (`sequence`), whether a due step may go to this shopper (`decision`),
//! what shoppers agreed to (`consent`), the Web Push side (`push`: subscriptions,
//! the notification, what a push service's answer means), the email (`email`), the
//! signed links in both (`links`: one-click unsubscribe, tracked clicks) and what a
//! failed send means for the next attempt (`delivery`).

pub mod consent;
pub mod decision;
pub mod delivery;
pub mod email;
pub mod links;
pub mod push;
pub mod sequence;

use serde::{Deserialize, Serialize};

/// How a reminder reaches a shopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderChannel {
    Email,
    Push,
}

impl ReminderChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderChannel::Email => "email",
            ReminderChannel::Push => "push",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "email" => Some(ReminderChannel::Email),
            "push" => Some(ReminderChannel::Push),
            _ => None,
        }
    }
}

/// A span of time written `90s`, `20m`, `24h` or `7d` (configuration).
pub fn parse_span(text: &str) -> Option<chrono::Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: i64 = text[..text.len() - unit.len_utf8()].parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit {
        's' => number,
        'm' => number.checked_mul(60)?,
        'h' => number.checked_mul(3600)?,
        'd' => number.checked_mul(86_400)?,
        _ => return None,
    };
    chrono::Duration::try_seconds(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_seconds_minutes_hours_and_days() {
        assert_eq!(parse_span("90s"), Some(chrono::Duration::seconds(90)));
        assert_eq!(parse_span("20m"), Some(chrono::Duration::minutes(20)));
        assert_eq!(parse_span(" 24h "), Some(chrono::Duration::hours(24)));
        assert_eq!(parse_span("7d"), Some(chrono::Duration::days(7)));
        for bad in ["", "m", "0m", "-5m", "5", "5w", "1.5h", "9999999999999999d"] {
            assert_eq!(parse_span(bad), None, "{bad}");
        }
    }
}
