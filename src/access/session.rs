//! Shopper sessions: a short-lived token a retailer's server asks for after logging its
//! shopper in, which the shopper's browser sends (with the storefront's publishable key)
//! to reach that shopper's own data. A compact JWT (RFC 7519) signed with HMAC-SHA256:
//! header `{"alg":"HS256","typ":"JWT","kid"}`, claims `iss`, `aud` (`omniedge:<channel>`),
//! `sub` (the customer id), `iat`, `exp`. Verified against the current signing key and
//! the previous one (by `kid`), so the key can be rotated without logging anyone out.

use crate::shared::channel::Channel;
use crate::shared::ids::CustomerId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Who issues shopper tokens.
pub const ISSUER: &str = "omniedge";
/// How long a session lasts unless asked for less, and the most it may last.
pub const DEFAULT_TTL_SECONDS: u32 = 15 * 60;
pub const MAX_TTL_SECONDS: u32 = 60 * 60;
/// Shortest session that may be asked for.
pub const MIN_TTL_SECONDS: u32 = 60;
/// Clock skew tolerated on `iat`.
const SKEW_SECONDS: i64 = 60;
/// Shortest signing secret accepted (bytes).
const MIN_SECRET_BYTES: usize = 32;

/// One signing key: its id (named in each token's header) and secret.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.kid)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a shopper signing key is written <kid>:<secret>, kid 1 to 32 of [A-Za-z0-9_-], secret at least {MIN_SECRET_BYTES} characters")]
pub struct InvalidSigningKey;

impl SigningKey {
    /// Reads `<kid>:<secret>` (e.g. `2026-11:` followed by `openssl rand -hex 32`).
    pub fn parse(text: &str) -> Result<Self, InvalidSigningKey> {
        let (kid, secret) = text.trim().split_once(':').ok_or(InvalidSigningKey)?;
        let kid_ok = (1..=32).contains(&kid.len()) && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !kid_ok || secret.len() < MIN_SECRET_BYTES {
            return Err(InvalidSigningKey);
        }
        Ok(SigningKey { kid: kid.to_owned(), secret: secret.as_bytes().to_vec() })
    }

    /// The key's id, named in whatever it signs.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length; this cannot fail.
        Hmac::<Sha256>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }
}

/// The keys a deployment signs and verifies with: tokens are signed with `current`;
/// tokens signed with `previous` stay valid until they expire.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    pub current: SigningKey,
    pub previous: Option<SigningKey>,
}

impl SigningKeys {
    pub(crate) fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        std::iter::once(&self.current).chain(self.previous.as_ref()).find(|k| k.kid == kid)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

/// What a shopper token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopperClaims {
    pub iss: String,
    pub aud: String,
    pub sub: CustomerId,
    pub iat: i64,
    pub exp: i64,
}

/// A verified session: whose, for which channel, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopperSession {
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub expires_at: DateTime<Utc>,
}

/// The body of `POST /v1/shopper-sessions`: a server that has logged its shopper in asks
/// for a session for them (back-office keys also name the channel).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub customer_id: CustomerId,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default, deserialize_with = "ttl_seconds")]
    pub ttl_seconds: Option<u32>,
}

fn ttl_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let ttl = u32::deserialize(d)?;
    if (MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ttl) {
        Ok(Some(ttl))
    } else {
        Err(serde::de::Error::custom(format!("ttl_seconds is {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS}")))
    }
}

/// Why a shopper token is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the shopper token is not a token omniedge issued")]
    Malformed,
    #[error("the shopper token was signed with a key that is no longer accepted")]
    UnknownKey,
    #[error("the shopper token's signature does not verify")]
    BadSignature,
    #[error("the shopper token is for channel {token}, this key speaks for {key}")]
    WrongAudience { token: String, key: String },
    #[error("the shopper token expired; ask your server for a new one")]
    Expired,
}

fn audience(channel: Channel) -> String {
    format!("{ISSUER}:{}", channel.as_str())
}

fn encode_json<T: Serialize>(value: &T) -> String {
    // These types always serialize.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

/// Signs a session for `customer` in `channel`, valid for `ttl_seconds` from `now`.
pub fn issue(keys: &SigningKeys, customer: CustomerId, channel: Channel, ttl_seconds: u32, now: DateTime<Utc>) -> (String, ShopperSession) {
    let exp = now.timestamp() + i64::from(ttl_seconds.min(MAX_TTL_SECONDS));
    let expires_at = DateTime::from_timestamp(exp, 0).unwrap_or(now);
    let header = Header { alg: "HS256".into(), typ: "JWT".into(), kid: keys.current.kid.clone() };
    let claims = ShopperClaims { iss: ISSUER.into(), aud: audience(channel), sub: customer.clone(), iat: now.timestamp(), exp };
    let signing_input = format!("{}.{}", encode_json(&header), encode_json(&claims));
    let mut mac = keys.current.mac();
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    (format!("{signing_input}.{signature}"), ShopperSession { customer_id: customer, channel, expires_at })
}

/// Verifies a token presented with a publishable key of `channel`.
pub fn verify(keys: &SigningKeys, token: &str, channel: Channel, now: DateTime<Utc>) -> Result<ShopperSession, SessionError> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(claims), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(SessionError::Malformed);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| SessionError::Malformed);
    let parsed: Header = serde_json::from_slice(&decode(header)?).map_err(|_| SessionError::Malformed)?;
    if parsed.alg != "HS256" {
        return Err(SessionError::Malformed);
    }
    let key = keys.by_kid(&parsed.kid).ok_or(SessionError::UnknownKey)?;
    let mut mac = key.mac();
    mac.update(format!("{header}.{claims}").as_bytes());
    mac.verify_slice(&decode(signature)?).map_err(|_| SessionError::BadSignature)?;
    let claims: ShopperClaims = serde_json::from_slice(&decode(claims)?).map_err(|_| SessionError::Malformed)?;
    if claims.iss != ISSUER || claims.exp - claims.iat > i64::from(MAX_TTL_SECONDS) || claims.iat > now.timestamp() + SKEW_SECONDS {
        return Err(SessionError::Malformed);
    }
    if claims.aud != audience(channel) {
        return Err(SessionError::WrongAudience { token: claims.aud, key: audience(channel) });
    }
    let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(SessionError::Malformed)?;
    if expires_at <= now {
        return Err(SessionError::Expired);
    }
    Ok(ShopperSession { customer_id: claims.sub, channel, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn key(kid: &str) -> SigningKey {
        SigningKey::parse(&format!("{kid}:{}", "s3cret-".repeat(6))).unwrap()
    }
    fn ann() -> CustomerId {
        CustomerId::parse("cus_ann").unwrap()
    }

    #[test]
    fn tokens_verify_for_their_channel_until_they_expire() {
        let keys = SigningKeys { current: key("k1"), previous: None };
        let now = Utc::now();
        let (token, session) = issue(&keys, ann(), Channel::Web, 600, now);
        assert_eq!(verify(&keys, &token, Channel::Web, now).unwrap(), session);
        assert!(matches!(verify(&keys, &token, Channel::App, now), Err(SessionError::WrongAudience { .. })));
        assert_eq!(verify(&keys, &token, Channel::Web, now + Duration::seconds(600)), Err(SessionError::Expired));
        let (long, _) = issue(&keys, ann(), Channel::Web, 999_999, now);
        assert_eq!(verify(&keys, &long, Channel::Web, now + Duration::seconds(i64::from(MAX_TTL_SECONDS))), Err(SessionError::Expired));
    }

    #[test]
    fn rotation_accepts_the_previous_key_and_forgets_older_ones() {
        let now = Utc::now();
        let old = SigningKeys { current: key("k1"), previous: None };
        let (token, _) = issue(&old, ann(), Channel::Web, 600, now);
        let rotated = SigningKeys { current: key("k2"), previous: Some(key("k1")) };
        assert!(verify(&rotated, &token, Channel::Web, now).is_ok());
        let again = SigningKeys { current: key("k3"), previous: Some(key("k2")) };
        assert_eq!(verify(&again, &token, Channel::Web, now), Err(SessionError::UnknownKey));
    }

    #[test]
    fn tampering_is_refused() {
        let keys = SigningKeys { current: key("k1"), previous: None };
        let now = Utc::now();
        let (token, _) = issue(&keys, ann(), Channel::Web, 600, now);
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims = encode_json(&ShopperClaims { iss: ISSUER.into(), aud: audience(Channel::Web), sub: CustomerId::parse("cus_bob").unwrap(), iat: now.timestamp(), exp: now.timestamp() + 600 });
        assert_eq!(verify(&keys, &format!("{}.{forged_claims}.{}", parts[0], parts[2]), Channel::Web, now), Err(SessionError::BadSignature));
        let other = SigningKeys { current: SigningKey::parse(&format!("k1:{}", "x".repeat(40))).unwrap(), previous: None };
        assert_eq!(verify(&other, &token, Channel::Web, now), Err(SessionError::BadSignature));
        let none_alg = encode_json(&Header { alg: "none".into(), typ: "JWT".into(), kid: "k1".into() });
        assert_eq!(verify(&keys, &format!("{none_alg}.{}.", parts[1]), Channel::Web, now), Err(SessionError::Malformed));
        for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert_eq!(verify(&keys, bad, Channel::Web, now), Err(SessionError::Malformed), "{bad}");
        }
        assert!(SigningKey::parse("k1:short").is_err() && SigningKey::parse("no-colon").is_err());
    }
}
