//! Web Push, the parts that are rules rather than crypto: a browser's
//! `PushSubscription` as the storefront registers it (an https endpoint; plain http
//! only to this machine when the deployment allows it for tests; the P-256 key and
//! auth secret of RFC 8291), the notification a reminder shows (title, a body of at
//! most 140 characters with a call to action, the cart link, an icon; far under the
//! 3,993-byte plaintext limit of one aes128gcm record) and the RFC 8030 `Topic` that
//! lets a newer reminder of a cart replace an older one. Encryption and the VAPID
//! signature are done by the worker with `web-push-native`.

use crate::shared::ids::CartId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Largest plaintext one aes128gcm record carries for Web Push (RFC 8291: 4096 bytes
/// of record, less the 86-byte header, padding delimiter and tag).
pub const MAX_PLAINTEXT_BYTES: usize = 3993;
/// Longest notification body.
pub const MAX_BODY_CHARS: usize = 140;
/// Longest endpoint accepted.
const MAX_ENDPOINT_CHARS: usize = 1024;

/// Whether push endpoints (and reminder links) may be plain http to this machine:
/// only for local tests (`REMINDER_INSECURE_LOOPBACK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    HttpsOnly,
    LoopbackHttpAllowed,
}

/// A URL omniedge sends to or links to: https (or http to this machine, for tests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String")]
pub struct SecureUrl {
    url: String,
    /// `scheme://host[:port]`.
    origin_len: usize,
}

impl From<SecureUrl> for String {
    fn from(u: SecureUrl) -> String {
        u.url
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPushSubscription {
    #[error("endpoint must be an https URL (at most {MAX_ENDPOINT_CHARS} characters) with a host")]
    Endpoint,
    #[error("keys.p256dh must be the base64url P-256 public key of the subscription (65 bytes, uncompressed)")]
    P256dh,
    #[error("keys.auth must be the base64url 16-byte auth secret of the subscription")]
    Auth,
    #[error("device is 1 to 100 printable characters, not only whitespace")]
    Device,
}

impl SecureUrl {
    pub fn parse(text: &str, transport: Transport) -> Option<Self> {
        let printable = !text.is_empty() && text.len() <= MAX_ENDPOINT_CHARS && text.bytes().all(|b| b.is_ascii_graphic());
        if !printable {
            return None;
        }
        let (scheme, rest) = text.split_once("://")?;
        let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_len];
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => v6.split_once(']').map(|(h, rest)| (&authority[..h.len() + 2], rest))?,
            None => authority.find(':').map_or((authority, ""), |i| (&authority[..i], &authority[i..])),
        };
        let port_ok = port.is_empty() || port.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if host.is_empty() || !port_ok || authority.contains('@') {
            return None;
        }
        let allowed = match scheme {
            "https" => true,
            "http" => transport == Transport::LoopbackHttpAllowed && matches!(host, "127.0.0.1" | "localhost" | "[::1]"),
            _ => false,
        };
        allowed.then(|| SecureUrl { url: text.to_owned(), origin_len: scheme.len() + 3 + authority_len })
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `scheme://host[:port]`: the VAPID audience of a push endpoint (RFC 8292).
    pub fn origin(&self) -> &str {
        &self.url[..self.origin_len]
    }
}

/// The browser's `PushSubscription.toJSON()`, as a storefront sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubscriptionJson {
    pub endpoint: String,
    #[serde(default)]
    pub expiration_time: Option<serde_json::Number>,
    pub keys: SubscriptionKeysJson,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionKeysJson {
    pub p256dh: String,
    pub auth: String,
}

/// The body of `POST /v1/carts/{id}/push-subscriptions`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionDraft {
    pub subscription: SubscriptionJson,
    /// A label the shopper recognises, e.g. "Firefox on a phone".
    #[serde(default)]
    pub device: Option<String>,
}

/// A push subscription that can be sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub endpoint: SecureUrl,
    /// base64url, as the browser gave them (checked to decode to the right sizes).
    pub p256dh: String,
    pub auth: String,
    pub device: Option<String>,
}

impl SubscriptionDraft {
    pub fn parse(self, transport: Transport) -> Result<PushSubscription, InvalidPushSubscription> {
        let endpoint = SecureUrl::parse(&self.subscription.endpoint, transport).ok_or(InvalidPushSubscription::Endpoint)?;
        let keys = self.subscription.keys;
        let decoded = |text: &str| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok();
        if !decoded(&keys.p256dh).is_some_and(|k| k.len() == 65 && k[0] == 4) {
            return Err(InvalidPushSubscription::P256dh);
        }
        if decoded(&keys.auth).is_none_or(|a| a.len() != 16) {
            return Err(InvalidPushSubscription::Auth);
        }
        let device_ok = |d: &String| (1..=100).contains(&d.chars().count()) && !d.chars().any(char::is_control) && !d.trim().is_empty();
        if self.device.as_ref().is_some_and(|d| !device_ok(d)) {
            return Err(InvalidPushSubscription::Device);
        }
        Ok(PushSubscription { endpoint, p256dh: keys.p256dh, auth: keys.auth, device: self.device })
    }
}

/// What the service worker shows (the push message's plaintext, JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushNotification {
    pub title: String,
    pub body: String,
    /// Where a click goes: the tracked link to the cart.
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Notifications of one cart replace each other on the device.
    pub tag: String,
    /// Where the service worker reports that it showed the notification (POST).
    pub shown_url: String,
}

/// The reminder's wording: the first line's name, how many more, a call to action.
pub fn reminder_notification(line_names: &[&str], url: String, shown_url: String, icon: Option<String>, cart: &CartId) -> PushNotification {
    const CALL: &str = " Complete your order →";
    let more = match line_names.len() {
        0 | 1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    let verb = if more.is_empty() { "is" } else { "are" };
    let tail = format!("{more} {verb} waiting in your cart.{CALL}");
    let first = line_names.first().copied().unwrap_or("Your items");
    let room = MAX_BODY_CHARS - tail.chars().count();
    let name: String = if first.chars().count() > room { first.chars().take(room - 1).chain(['…']).collect() } else { first.to_owned() };
    PushNotification {
        title: "Still thinking it over?".into(),
        body: format!("{name}{tail}"),
        url,
        icon,
        tag: format!("cart-{}", topic(cart)),
        shown_url,
    }
}

impl PushNotification {
    /// The plaintext sent, refused when over the limit (links are what could grow it).
    pub fn payload(&self) -> Option<Vec<u8>> {
        serde_json::to_vec(self).ok().filter(|p| p.len() <= MAX_PLAINTEXT_BYTES)
    }
}

/// The RFC 8030 `Topic` of a cart's reminders: 32 base64url characters (a hash of the
/// cart id), so a newer reminder of the cart replaces an older one still queued.
pub fn topic(cart: &CartId) -> String {
    let digest = Sha256::digest(cart.as_str().as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..24])
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256DH: &str = "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";
    const AUTH: &str = "_ordMnz7uTCmrpBTeUV4Bw";

    fn draft(endpoint: &str, p256dh: &str, auth: &str) -> SubscriptionDraft {
        serde_json::from_value(serde_json::json!({
            "subscription": {"endpoint": endpoint, "expirationTime": null, "keys": {"p256dh": p256dh, "auth": auth}}
        }))
        .unwrap()
    }

    #[test]
    fn subscriptions_need_https_and_well_formed_keys() {
        let ok = draft("https://fcm.googleapis.com/fcm/send/abc", P256DH, AUTH).parse(Transport::HttpsOnly).unwrap();
        assert_eq!(ok.endpoint.origin(), "https://fcm.googleapis.com");
        let local = "http://127.0.0.1:8821/push/1";
        assert_eq!(draft(local, P256DH, AUTH).parse(Transport::HttpsOnly), Err(InvalidPushSubscription::Endpoint));
        let allowed = draft(local, P256DH, AUTH).parse(Transport::LoopbackHttpAllowed).unwrap();
        assert_eq!(allowed.endpoint.origin(), "http://127.0.0.1:8821");
        for bad in ["http://push.example/1", "ftp://x/1", "https://", "https://user@evil/1", "https://a b/"] {
            assert_eq!(draft(bad, P256DH, AUTH).parse(Transport::LoopbackHttpAllowed), Err(InvalidPushSubscription::Endpoint), "{bad}");
        }
        assert_eq!(draft("https://p.example/1", "AAAA", AUTH).parse(Transport::HttpsOnly), Err(InvalidPushSubscription::P256dh));
        assert_eq!(draft("https://p.example/1", P256DH, "AAAA").parse(Transport::HttpsOnly), Err(InvalidPushSubscription::Auth));
        assert!(serde_json::from_value::<SubscriptionDraft>(serde_json::json!({"subscription": {"endpoint": "https://p.example", "keys": {"p256dh": P256DH, "auth": AUTH, "x": 1}}})).is_err());
    }

    #[test]
    fn the_notification_fits_and_calls_to_action() {
        let cart = CartId::parse("cart_0123456789abcdef0123456789abcdef").unwrap();
        let long = "Trail runner ".repeat(20);
        for names in [vec![], vec!["Trail runner, black, 42"], vec![long.as_str(), "Socks", "Cap"]] {
            let n = reminder_notification(&names, "https://shop.example/c".into(), "https://api.example/s".into(), None, &cart);
            assert!(n.body.chars().count() <= MAX_BODY_CHARS, "{}", n.body);
            assert!(n.body.ends_with("Complete your order →"), "{}", n.body);
            assert!(n.payload().is_some());
        }
        let huge = reminder_notification(&["A"], format!("https://shop.example/{}", "x".repeat(4000)), String::new(), None, &cart);
        assert_eq!(huge.payload(), None, "over 3,993 bytes is refused");
    }

    #[test]
    fn the_topic_is_32_base64url_characters_per_cart() {
        let a = topic(&CartId::parse("cart_a").unwrap());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(a, topic(&CartId::parse("cart_a").unwrap()));
        assert_ne!(a, topic(&CartId::parse("cart_b").unwrap()));
    }
}
