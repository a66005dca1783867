//! Sends one Web Push message to the standards: the payload encrypted for the
//! subscription (RFC 8291 aes128gcm, `web-push-native`), a VAPID JWT (RFC 8292, ES256,
//! `aud` the push service's origin with its port, `exp` 12 hours ahead, `sub` the
//! configured contact) and the RFC 8030 headers `TTL`, `Urgency` and `Topic`.

use base64ct::{Base64UrlUnpadded, Encoding};
use omniedge::engagement::push::{SecureUrl, Transport};
use omniedge::workflows::reminders::ports::PushDevice;
use wasm_bindgen::JsValue;
use web_push_native::jwt_simple::algorithms::{ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::jwt_simple::claims::Claims;
use web_push_native::jwt_simple::prelude::Duration;
use web_push_native::{p256, Auth};
use worker::{Fetch, Headers, Method, Request, RequestInit};

/// How long a push service keeps an undelivered reminder (seconds): a cart reminder is stale after that.
pub const TTL_SECONDS: u64 = 12 * 3600;

/// The deployment's VAPID key pair (`VAPID_PRIVATE_KEY`, the P-256 private scalar, base64url).
pub struct VapidKey {
    pair: ES256KeyPair,
    public: String,
}

impl VapidKey {
    pub fn parse(private_b64url: &str) -> Result<Self, String> {
        let bytes = Base64UrlUnpadded::decode_vec(private_b64url.trim().trim_end_matches('=')).map_err(|_| "VAPID_PRIVATE_KEY is not base64url".to_owned())?;
        let pair = ES256KeyPair::from_bytes(&bytes).map_err(|e| format!("VAPID_PRIVATE_KEY is not a P-256 private key: {e}"))?;
        let public = Base64UrlUnpadded::encode_string(&pair.public_key().public_key().to_bytes_uncompressed());
        Ok(VapidKey { pair, public })
    }

    /// The application server key storefronts subscribe with (uncompressed point, base64url).
    pub fn public_key(&self) -> &str {
        &self.public
    }

    fn authorization(&self, audience: &str, subject: &str) -> Result<String, String> {
        let claims = Claims::create(Duration::from_hours(12)).with_audience(audience).with_subject(subject);
        let token = self.pair.sign(claims).map_err(|e| format!("could not sign the VAPID token: {e}"))?;
        Ok(format!("vapid t={token}, k={}", self.public))
    }
}

/// The push service's answer: its status and `Retry-After`, or why there was none.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
}

/// Encrypts `payload` for the subscription and posts it to its endpoint.
pub async fn send(vapid: &VapidKey, subject: &str, subscription: &PushDevice, transport: Transport, payload: &[u8], topic: &str) -> Result<Answer, String> {
    let endpoint = SecureUrl::parse(&subscription.endpoint, transport).ok_or("the endpoint is not an https URL")?;
    let decode = |text: &str| Base64UrlUnpadded::decode_vec(text.trim_end_matches('=')).map_err(|_| "the subscription's keys are not base64url".to_owned());
    let ua_public = p256::PublicKey::from_sec1_bytes(&decode(&subscription.p256dh)?).map_err(|_| "p256dh is not a P-256 point")?;
    let auth = decode(&subscription.auth)?;
    if auth.len() != 16 {
        return Err("auth is not 16 bytes".into());
    }
    let body = web_push_native::encrypt(payload.to_vec(), &ua_public, &Auth::clone_from_slice(&auth)).map_err(|e| format!("encryption failed: {e}"))?;
    let headers = Headers::new();
    let set = |name: &str, value: &str| headers.set(name, value).map_err(|e| e.to_string());
    set("authorization", &vapid.authorization(endpoint.origin(), subject)?)?;
    set("ttl", &TTL_SECONDS.to_string())?;
    set("urgency", "normal")?;
    set("topic", topic)?;
    set("content-encoding", "aes128gcm")?;
    set("content-type", "application/octet-stream")?;
    let mut init = RequestInit::new();
    let bytes = js_sys::Uint8Array::from(body.as_slice());
    init.with_method(Method::Post).with_headers(headers).with_body(Some(JsValue::from(bytes)));
    let request = Request::new_with_init(endpoint.as_str(), &init).map_err(|e| e.to_string())?;
    let response = Fetch::Request(request).send().await.map_err(|e| format!("no answer from the push service: {e}"))?;
    Ok(Answer { status: response.status_code(), retry_after: response.headers().get("retry-after").ok().flatten() })
}
