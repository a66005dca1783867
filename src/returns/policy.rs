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
    }
}
