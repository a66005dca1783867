//! Marketing consent per channel (email, push): given or withdrawn, when, and where
//! (the sales channel of the key that recorded it, back office, or an unsubscribe
//! link), on a customer or on a guest cart. The newest record decides; without one a
//! customer's profile flags (`consents`) do.

use super::ReminderChannel;
use crate::access::Principal;
use crate::shared::channel::Channel;
use serde::Deserialize;

/// The body of `POST /v1/carts/{id}/consents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentDraft {
    pub channel: ReminderChannel,
    pub granted: bool,
}

/// Where a consent was given or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentSource {
    /// A sales channel's key (a storefront's, a publishable key's, a store's).
    Channel(Channel),
    BackOffice,
    /// The one-click unsubscribe link of a reminder email.
    UnsubscribeLink,
}

impl ConsentSource {
    /// The caller's channel: a storefront's or publishable key's, a store's, or back office.
    pub fn of(caller: &Principal) -> Self {
        match caller {
            Principal::Admin { .. } => ConsentSource::BackOffice,
            Principal::Store { .. } => ConsentSource::Channel(Channel::Store),
            Principal::Storefront { channel, .. } | Principal::Publishable { channel, .. } => ConsentSource::Channel(*channel),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentSource::Channel(channel) => channel.as_str(),
            ConsentSource::BackOffice => "back_office",
            ConsentSource::UnsubscribeLink => "unsubscribe_link",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_is_the_callers_channel() {
        let web = Principal::Publishable { key_id: "p".into(), channel: Channel::Web, shopper: None };
        assert_eq!(ConsentSource::of(&web), ConsentSource::Channel(Channel::Web));
        assert_eq!(ConsentSource::of(&web).as_str(), "web");
        assert_eq!(ConsentSource::of(&Principal::Admin { key_id: "a".into() }), ConsentSource::BackOffice);
        assert!(serde_json::from_str::<ConsentDraft>(r#"{"channel":"sms","granted":true}"#).is_err());
        assert!(serde_json::from_str::<ConsentDraft>(r#"{"channel":"push","granted":true,"x":1}"#).is_err());
    }
}
