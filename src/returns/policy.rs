//! The return window as data: a default number of days from hand-over, overridden per
//! sales channel (distance sales may have their own legal term) and per reason
//! (defective goods keep a longer one). A reason's override wins over a channel's.

use super::ReasonCode;
use crate::shared::channel::Channel;
use std::collections::BTreeMap;

/// Days a shopper has to return goods, counted from hand-over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPolicy {
    pub default_days: u32,
    pub per_channel: BTreeMap<Channel, u32>,
    pub per_reason: BTreeMap<ReasonCode, u32>,
}

/// The default window: 14 days.
pub const DEFAULT_WINDOW_DAYS: u32 = 14;
/// Defective goods by default: the two years of the legal guarantee.
pub const DEFECTIVE_WINDOW_DAYS: u32 = 730;

impl Default for ReturnPolicy {
    fn default() -> Self {
        ReturnPolicy {
            default_days: DEFAULT_WINDOW_DAYS,
            per_channel: BTreeMap::new(),
            per_reason: BTreeMap::from([(ReasonCode::Defective, DEFECTIVE_WINDOW_DAYS)]),
        }
    }
}

impl ReturnPolicy {
    /// Parses `default=14,web=7,defective=730`: the default, then overrides per sales
    /// channel or reason code; what is not named keeps the defaults above.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut policy = ReturnPolicy::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, days) = entry.split_once('=').ok_or_else(|| format!("{entry:?} is not key=days"))?;
            let days: u32 = days.trim().parse().map_err(|_| format!("{entry:?}: days must be a whole number"))?;
            let key = key.trim();
            if key == "default" {
                policy.default_days = days;
            } else if let Some(reason) = ReasonCode::parse(key) {
                policy.per_reason.insert(reason, days);
            } else {
                let channel: Channel = serde_json::from_value(key.into()).map_err(|_| format!("{key:?} is neither default, a channel nor a reason"))?;
                policy.per_channel.insert(channel, days);
            }
        }
        Ok(policy)
    }

    /// The window for goods sold through `channel` and returned for `reason`.
    pub fn window_days(&self, channel: Channel, reason: ReasonCode) -> u32 {
        self.per_reason.get(&reason).or_else(|| self.per_channel.get(&channel)).copied().unwrap_or(self.default_days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_overrides_a_channel_which_overrides_the_default() {
        let mut policy = ReturnPolicy::default();
        policy.per_channel.insert(Channel::Web, 7);
        assert_eq!(policy.window_days(Channel::Store, ReasonCode::ChangedMind), 14);
        assert_eq!(policy.window_days(Channel::Web, ReasonCode::ChangedMind), 7);
        assert_eq!(policy.window_days(Channel::Web, ReasonCode::Defective), 730);
        let parsed = ReturnPolicy::parse("default=30, web=7, changed_mind=10").unwrap();
        assert_eq!(parsed.window_days(Channel::Store, ReasonCode::WrongSize), 30);
        assert_eq!(parsed.window_days(Channel::Web, ReasonCode::WrongSize), 7);
        assert_eq!(parsed.window_days(Channel::Web, ReasonCode::ChangedMind), 10);
        assert_eq!(parsed.window_days(Channel::Web, ReasonCode::Defective), 730);
        assert!(ReturnPolicy::parse("fax=3").is_err());
        assert!(ReturnPolicy::parse("web=seven").is_err());
    }
}
