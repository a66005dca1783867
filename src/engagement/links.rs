//! The signed links in reminders: a one-click unsubscribe link (RFC 8058) that names
//! the address, and a reminder link that names the cart, step and channel (a click on
//! the way to the cart, a push shown). Tokens are `<kid>.<payload>.<signature>`
//! (base64url, HMAC-SHA256 with the `REMINDER_LINK_KEY`, the previous key still
//! verifying while rotating). They never expire: an unsubscribe link must keep working
//! in an old email.

use super::ReminderChannel;
use crate::access::session::SigningKeys;
use crate::customers::Email;
use crate::shared::ids::CartId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;
use serde::{Deserialize, Serialize};

/// What a link token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "purpose", rename_all = "snake_case")]
pub enum LinkClaim {
    /// Stop email reminders to this address.
    Unsubscribe { address: Email },
    /// A reminder of this cart's step: clicked, or (push) shown.
    Reminder { cart_id: CartId, step: u32, channel: ReminderChannel },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the link token is not one omniedge signed")]
pub struct InvalidLink;

/// Signs a claim with the current key.
pub fn sign(keys: &SigningKeys, claim: &LinkClaim) -> String {
    // A claim always serializes.
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claim).unwrap_or_default());
    let kid = keys.current.kid();
    let mut mac = keys.current.mac();
    mac.update(format!("{kid}.{payload}").as_bytes());
    format!("{kid}.{payload}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// The claim of a token signed with the current or previous key.
pub fn verify(keys: &SigningKeys, token: &str) -> Result<LinkClaim, InvalidLink> {
    let mut parts = token.split('.');
    let (Some(kid), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(InvalidLink);
    };
    let key = keys.by_kid(kid).ok_or(InvalidLink)?;
    let mut mac = key.mac();
    mac.update(format!("{kid}.{payload}").as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).map_err(|_| InvalidLink)?).map_err(|_| InvalidLink)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).map_err(|_| InvalidLink)?).map_err(|_| InvalidLink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::session::SigningKey;

    fn keys(kid: &str) -> SigningKeys {
        SigningKeys { current: SigningKey::parse(&format!("{kid}:{}", "k".repeat(40))).unwrap(), previous: None }
    }

    #[test]
    fn links_verify_and_resist_tampering() {
        let keys = keys("r1");
        let claim = LinkClaim::Unsubscribe { address: Email::parse("ann@example.com").unwrap() };
        let token = sign(&keys, &claim);
        assert_eq!(verify(&keys, &token), Ok(claim));
        let parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"purpose":"unsubscribe","address":"bob@example.com"}"#);
        assert_eq!(verify(&keys, &format!("{}.{forged}.{}", parts[0], parts[2])), Err(InvalidLink));
        let other = SigningKeys { current: SigningKey::parse(&format!("r1:{}", "x".repeat(40))).unwrap(), previous: None };
        assert_eq!(verify(&other, &token), Err(InvalidLink));
        for bad in ["", "a.b", "r1.!!.!!", "a.b.c.d"] {
            assert_eq!(verify(&keys, bad), Err(InvalidLink), "{bad}");
        }
    }

    #[test]
    fn the_previous_key_still_verifies_after_a_rotation() {
        let old = keys("r1");
        let claim = LinkClaim::Reminder { cart_id: CartId::parse("cart_1").unwrap(), step: 2, channel: ReminderChannel::Push };
        let token = sign(&old, &claim);
        let rotated = SigningKeys { current: keys("r2").current, previous: Some(old.current.clone()) };
        assert_eq!(verify(&rotated, &token), Ok(claim));
    }
}
