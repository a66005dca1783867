//! Marketing consent per channel (email, push): given or withdrawn, when, and where
//! (the sales channel of the key that recorded it, back office, or an unsubscribe
//! link), on a customer or on a guest cart. The newest record decides; without one a
//! customer's profile flags (`consents`) do.

use super::ReminderChannel;
use crate::access::Principal;
use serde::{Deserialize, Serialize};

/// The body of `POST /v1/carts/{id}/consents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentDraft {
    pub channel: ReminderChannel,
    pub granted: bool,
}

/// Where a consent was given or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    Web,
    App,
    Store,
    CallCentre,
    Messenger,
    Marketplace,
    BackOffice,
    /// The one-click unsubscribe link of a reminder email.
    UnsubscribeLink,
}

impl ConsentSource {
    /// The caller's channel: a storefront's or publishable key's, a store's, or back office.
    pub fn of(caller: &Principal) -> Self {
        use crate::shared::channel::Channel;
        let channel = match caller {
            Principal::Admin { .. } => return ConsentSource::BackOffice,
            Principal::Store { .. } => Channel::Store,
            Principal::Storefront { channel, .. } | Principal::Publishable { channel, .. } => *channel,
        };
        match channel {
            Channel::Web => ConsentSource::Web,
            Channel::App => ConsentSource::App,
            Channel::Store => ConsentSource::Store,
            Channel::CallCentre => ConsentSource::CallCentre,
            Channel::Messenger => ConsentSource::Messenger,
            Channel::Marketplace => ConsentSource::Marketplace,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentSource::Web => "web",
            ConsentSource::App => "app",
            ConsentSource::Store => "store",
            ConsentSource::CallCentre => "call_centre",
            ConsentSource::Messenger => "messenger",
            ConsentSource::Marketplace => "marketplace",
            ConsentSource::BackOffice => "back_office",
            ConsentSource::UnsubscribeLink => "unsubscribe_link",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::channel::Channel;

    #[test]
    fn the_source_is_the_callers_channel() {
        let web = Principal::Publishable { key_id: "p".into(), channel: Channel::Web, shopper: None };
        assert_eq!(ConsentSource::of(&web), ConsentSource::Web);
        assert_eq!(ConsentSource::of(&Principal::Admin { key_id: "a".into() }), ConsentSource::BackOffice);
        assert!(serde_json::from_str::<ConsentDraft>(r#"{"channel":"sms","granted":true}"#).is_err());
        assert!(serde_json::from_str::<ConsentDraft>(r#"{"channel":"push","granted":true,"x":1}"#).is_err());
    }
}
