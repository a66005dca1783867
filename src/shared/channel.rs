//! The sales channels a retailer sells through: the vocabulary that access rules,
//! carts, orders and returns share.

use serde::{Deserialize, Serialize};

/// The sales channel a storefront key (and later a cart or order) speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    App,
    Store,
    CallCentre,
    Messenger,
    Marketplace,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::App => "app",
            Channel::Store => "store",
            Channel::CallCentre => "call_centre",
            Channel::Messenger => "messenger",
            Channel::Marketplace => "marketplace",
        }
    }
}
