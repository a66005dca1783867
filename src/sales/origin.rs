//! Where a cart or order came from: every cart, order and return records its channel,
//! and a store sale also its store.

use crate::access::{AccessError, Principal};
use crate::shared::channel::Channel;
use crate::shared::ids::LocationId;
use serde::{Deserialize, Serialize};

/// The channel a cart or order came through, with the store for in-store selling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum SalesOrigin {
    Web,
    App,
    Store { location_id: LocationId },
    CallCentre,
    Messenger,
    Marketplace,
}

impl SalesOrigin {
    pub fn channel(&self) -> Channel {
        match self {
            SalesOrigin::Web => Channel::Web,
            SalesOrigin::App => Channel::App,
            SalesOrigin::Store { .. } => Channel::Store,
            SalesOrigin::CallCentre => Channel::CallCentre,
            SalesOrigin::Messenger => Channel::Messenger,
            SalesOrigin::Marketplace => Channel::Marketplace,
        }
    }

    /// The origin of a new cart or order: a store key sells at its store, a storefront
    /// key through its own channel; back-office names the channel (and store) itself.
    pub fn for_caller(caller: &Principal, asked: Option<Channel>, asked_location: Option<LocationId>) -> Result<Self, OriginError> {
        match caller {
            Principal::Store { location_id, .. } => match (asked, asked_location) {
                (Some(c), _) if c != Channel::Store => Err(OriginError::Access(AccessError::OtherChannel { bound: Channel::Store, asked: c })),
                (_, Some(asked)) if &asked != location_id => {
                    Err(OriginError::Access(AccessError::OtherLocation { bound: location_id.clone(), asked }))
                }
                _ => Ok(SalesOrigin::Store { location_id: location_id.clone() }),
            },
            Principal::Storefront { channel, .. } | Principal::Publishable { channel, .. } => match asked {
                Some(c) if c != *channel => Err(OriginError::Access(AccessError::OtherChannel { bound: *channel, asked: c })),
                _ if asked_location.is_some() => Err(OriginError::LocationWithoutStore),
                _ => Ok(Self::remote(*channel)),
            },
            Principal::Admin { .. } => match (asked, asked_location) {
                (None, _) => Err(OriginError::ChannelRequired),
                (Some(Channel::Store), Some(location_id)) => Ok(SalesOrigin::Store { location_id }),
                (Some(Channel::Store), None) => Err(OriginError::StoreWithoutLocation),
                (Some(_), Some(_)) => Err(OriginError::LocationWithoutStore),
                (Some(c), None) => Ok(Self::remote(c)),
            },
        }
    }

    fn remote(channel: Channel) -> Self {
        match channel {
            Channel::Web => SalesOrigin::Web,
            Channel::App => SalesOrigin::App,
            Channel::CallCentre => SalesOrigin::CallCentre,
            Channel::Messenger => SalesOrigin::Messenger,
            Channel::Marketplace => SalesOrigin::Marketplace,
            Channel::Store => unreachable!("store origins carry their location"),
        }
    }

    pub fn store_location(&self) -> Option<&LocationId> {
        match self {
            SalesOrigin::Store { location_id } => Some(location_id),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error(transparent)]
    Access(AccessError),
    #[error("back-office keys must name the channel")]
    ChannelRequired,
    #[error("channel \"store\" needs the store's location_id")]
    StoreWithoutLocation,
    #[error("location_id is only for channel \"store\"")]
    LocationWithoutStore,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(s: &str) -> LocationId {
        LocationId::parse(s).unwrap()
    }

    #[test]
    fn keys_decide_their_origin() {
        let pos = Principal::Store { key_id: "k".into(), location_id: loc("s1") };
        assert_eq!(SalesOrigin::for_caller(&pos, None, None).unwrap(), SalesOrigin::Store { location_id: loc("s1") });
        assert!(SalesOrigin::for_caller(&pos, Some(Channel::Web), None).is_err());
        assert!(SalesOrigin::for_caller(&pos, None, Some(loc("s2"))).is_err());
        let app = Principal::Storefront { key_id: "k".into(), channel: Channel::App };
        assert_eq!(SalesOrigin::for_caller(&app, None, None).unwrap(), SalesOrigin::App);
        assert!(SalesOrigin::for_caller(&app, Some(Channel::Web), None).is_err());
        let admin = Principal::Admin { key_id: "a".into() };
        assert_eq!(SalesOrigin::for_caller(&admin, Some(Channel::CallCentre), None).unwrap(), SalesOrigin::CallCentre);
        assert_eq!(SalesOrigin::for_caller(&admin, None, None), Err(OriginError::ChannelRequired));
        assert_eq!(SalesOrigin::for_caller(&admin, Some(Channel::Store), None), Err(OriginError::StoreWithoutLocation));
    }

    #[test]
    fn origins_serialize_flat() {
        let v = serde_json::to_value(SalesOrigin::Store { location_id: loc("s1") }).unwrap();
        assert_eq!(v, serde_json::json!({"channel":"store","location_id":"s1"}));
        assert_eq!(serde_json::to_value(SalesOrigin::CallCentre).unwrap(), serde_json::json!({"channel":"call_centre"}));
    }
}
