//! Deployment settings read from `[vars]` in wrangler.toml, with the documented defaults.

use crate::http::problem::Problem;
use omniedge::access::session::{SigningKey, SigningKeys};
use omniedge::engagement::delivery::RetryPolicy;
use omniedge::engagement::push::{SecureUrl, Transport};
use omniedge::engagement::sequence::{InvalidSequence, ReminderSequence, DEFAULT_SEQUENCE};
use worker::Env;

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

/// How long a cart line holds its units after the last activity (`HOLD_MINUTES`, default 15; 0 disables holds).
pub fn cart_hold_seconds(env: &Env) -> u32 {
    var(env, "HOLD_MINUTES").and_then(|m| m.trim().parse::<u32>().ok()).map_or(15 * 60, |m| m.saturating_mul(60))
}

/// What one cart may hold (`CART_MAX_LINES`, default and ceiling 100 distinct SKUs;
/// `CART_MAX_UNITS_PER_SKU`, default 10): a storefront cannot hoard a product in one cart.
pub fn cart_limits(env: &Env) -> omniedge::sales::cart::CartLimits {
    let defaults = omniedge::sales::cart::CartLimits::default();
    let number = |name| var(env, name).and_then(|v| v.trim().parse::<u32>().ok()).filter(|n| *n > 0);
    omniedge::sales::cart::CartLimits {
        max_lines: number("CART_MAX_LINES").map_or(defaults.max_lines, |n| n.min(omniedge::sales::cart::MAX_LINES)),
        max_units_per_sku: number("CART_MAX_UNITS_PER_SKU").unwrap_or(defaults.max_units_per_sku),
    }
}

/// Shorter cart holds while a SKU is scarce (`SCARCE_HOLD_PERCENT` of on hand held,
/// default 50, 0 turns it off; holds then last at most `SCARCE_HOLD_MINUTES`, default 3).
pub fn scarce_holds(env: &Env) -> Option<omniedge::inventory::scarcity::ScarceHolds> {
    let number = |name, default: u32| var(env, name).and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(default);
    let percent = u8::try_from(number("SCARCE_HOLD_PERCENT", 50)).ok()?;
    omniedge::inventory::scarcity::ScarceHolds::new(percent, number("SCARCE_HOLD_MINUTES", 3).saturating_mul(60))
}

/// How long a placement may run before it is given up for dead: the sweeper then revokes
/// its claim and puts back what it took (`PLACEMENT_HOLD_SECONDS`, default 120).
pub fn placement_hold_seconds(env: &Env) -> i64 {
    var(env, "PLACEMENT_HOLD_SECONDS").and_then(|s| s.trim().parse::<i64>().ok()).filter(|s| *s > 0).unwrap_or(120)
}

/// The delivery charge (`DELIVERY_TARIFF`, e.g. "flat:4.95" or
/// "bands:5=2.95,20=4.95,100=7.95;free_from=100"); a malformed value is a deployment error.
pub fn delivery_tariff(env: &Env) -> Result<omniedge::pricing::DeliveryTariff, Problem> {
    let text = var(env, "DELIVERY_TARIFF").unwrap_or_else(|| DEFAULT_TARIFF.to_owned());
    omniedge::pricing::DeliveryTariff::parse(&text).map_err(|e| {
        worker::console_error!("DELIVERY_TARIFF is malformed: {e}");
        Problem::internal()
    })
}

const DEFAULT_TARIFF: &str = "bands:5=2.95,20=4.95,100=7.95;free_from=100";

/// The keys shopper sessions are signed and verified with: the secret
/// `SHOPPER_SIGNING_KEY` (`<kid>:<secret>`) and, while rotating, the secret
/// `SHOPPER_SIGNING_KEY_PREVIOUS`. None when sessions are not configured; a malformed
/// key is a deployment error.
pub fn shopper_signing_keys(env: &Env) -> Result<Option<SigningKeys>, Problem> {
    let Some(current) = signing_key(env, "SHOPPER_SIGNING_KEY")? else {
        return Ok(None);
    };
    Ok(Some(SigningKeys { current, previous: signing_key(env, "SHOPPER_SIGNING_KEY_PREVIOUS")? }))
}

fn signing_key(env: &Env, name: &str) -> Result<Option<SigningKey>, Problem> {
    let Ok(secret) = env.secret(name) else {
        return Ok(None);
    };
    SigningKey::parse(&secret.to_string()).map(Some).map_err(|e| {
        worker::console_error!("{name} is malformed: {e}");
        Problem::internal()
    })
}

/// The window of the `PUBLIC_WRITES` rate limit in wrangler.toml (`simple.period`):
/// what a refused caller is told to wait.
pub const PUBLIC_WRITES_PERIOD_SECONDS: u32 = 60;

/// The window of the `HOLD_WRITES` rate limit in wrangler.toml (`simple.period`).
pub const HOLD_WRITES_PERIOD_SECONDS: u32 = 10;

/// The reminder sequence (`REMINDER_SEQUENCE`, default `push@20m,email@20m`; `off`
/// turns reminders off). None when off; a malformed value is a deployment error the
/// log names (and no reminder is armed until it is fixed).
pub fn reminder_sequence(env: &Env) -> Result<Option<ReminderSequence>, InvalidSequence> {
    let text = var(env, "REMINDER_SEQUENCE").unwrap_or_else(|| DEFAULT_SEQUENCE.to_owned());
    if text.trim() == "off" {
        return Ok(None);
    }
    ReminderSequence::parse(&text).map(Some)
}

/// Everything sending reminders needs, read once per queue batch. A malformed value
/// fails with its name, so the deployment log says what to fix.
pub struct ReminderSettings {
    pub sequence: ReminderSequence,
    /// At most one reminder per shopper and channel within this (`REMINDER_CAP`, default 24h).
    pub cap: chrono::Duration,
    /// An order from a reminded cart within this counts as recovered (`REMINDER_RECOVERY_WINDOW`, default 72h).
    pub recovery_window: chrono::Duration,
    pub retry: RetryPolicy,
    pub transport: Transport,
    /// Where a cart is shown: `REMINDER_CART_URL` with `{cart_id}`.
    pub cart_url: String,
    /// This API's public base URL, for the tracked and unsubscribe links (`REMINDER_PUBLIC_URL`).
    pub public_url: SecureUrl,
    pub icon: Option<String>,
    pub link_keys: SigningKeys,
}

impl ReminderSettings {
    /// The cart's page, from the template.
    pub fn cart_url(&self, cart: &omniedge::shared::ids::CartId) -> String {
        self.cart_url.replace("{cart_id}", cart.as_str())
    }

    /// A link under this API, e.g. `/v1/reminders/click/<token>`.
    pub fn api_link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str().trim_end_matches('/'))
    }
}

/// Reads the reminder settings; `Err` names the setting that is missing or malformed.
pub fn reminder_settings(env: &Env) -> Result<ReminderSettings, String> {
    let sequence = reminder_sequence(env).map_err(|e| e.to_string())?.ok_or("REMINDER_SEQUENCE is off")?;
    let span = |name: &str, default: &str| {
        let text = var(env, name).unwrap_or_else(|| default.to_owned());
        omniedge::engagement::parse_span(&text).ok_or_else(|| format!("{name} must be a span like 90s, 20m, 24h or 7d, got {text:?}"))
    };
    let transport = push_transport(env);
    let max_attempts = match var(env, "REMINDER_MAX_ATTEMPTS") {
        None => RetryPolicy::default().max_attempts,
        Some(n) => n.trim().parse::<u32>().ok().filter(|n| (1..=20).contains(n)).ok_or("REMINDER_MAX_ATTEMPTS must be 1 to 20")?,
    };
    let cart_url = var(env, "REMINDER_CART_URL").ok_or("REMINDER_CART_URL is not set")?;
    if !cart_url.contains("{cart_id}") || SecureUrl::parse(&cart_url.replace("{cart_id}", "c"), transport).is_none() {
        return Err(format!("REMINDER_CART_URL must be an https URL with {{cart_id}}, got {cart_url:?}"));
    }
    let public_url = var(env, "REMINDER_PUBLIC_URL").ok_or("REMINDER_PUBLIC_URL is not set")?;
    let public_url = SecureUrl::parse(&public_url, transport).ok_or_else(|| format!("REMINDER_PUBLIC_URL must be an https URL, got {public_url:?}"))?;
    let link_key = |name: &str| env.secret(name).ok().map(|s| SigningKey::parse(&s.to_string()).map_err(|e| format!("{name}: {e}"))).transpose();
    let current = link_key("REMINDER_LINK_KEY")?.ok_or("REMINDER_LINK_KEY is not set")?;
    Ok(ReminderSettings {
        sequence,
        cap: span("REMINDER_CAP", "24h")?,
        recovery_window: span("REMINDER_RECOVERY_WINDOW", "72h")?,
        retry: RetryPolicy { max_attempts, base: span("REMINDER_RETRY_BASE", "30s")? },
        transport,
        cart_url,
        public_url,
        icon: var(env, "REMINDER_ICON_URL").filter(|i| !i.is_empty()),
        link_keys: SigningKeys { current, previous: link_key("REMINDER_LINK_KEY_PREVIOUS")? },
    })
}

/// Whether push endpoints may be plain http to this machine (`REMINDER_INSECURE_LOOPBACK = "allowed"`, tests only).
pub fn push_transport(env: &Env) -> Transport {
    match var(env, "REMINDER_INSECURE_LOOPBACK").as_deref() {
        Some("allowed") => Transport::LoopbackHttpAllowed,
        _ => Transport::HttpsOnly,
    }
}

/// The VAPID contact (`VAPID_SUBJECT`): a real `mailto:` or `https:` URL (Apple refuses others).
pub fn vapid_subject(env: &Env) -> Result<String, String> {
    let subject = var(env, "VAPID_SUBJECT").ok_or("VAPID_SUBJECT is not set")?;
    let real = subject.strip_prefix("mailto:").is_some_and(|a| omniedge::customers::Email::parse(a).is_ok_and(|_| !a.ends_with("localhost")))
        || SecureUrl::parse(&subject, Transport::HttpsOnly).is_some();
    real.then_some(subject.clone()).ok_or_else(|| format!("VAPID_SUBJECT must be mailto:<address> or an https URL, got {subject:?}"))
}

/// The VAPID private key (`VAPID_PRIVATE_KEY` secret: the 32-byte P-256 scalar, base64url).
pub fn vapid_private_key(env: &Env) -> Option<String> {
    env.secret("VAPID_PRIVATE_KEY").ok().map(|s| s.to_string())
}

/// How reminder emails leave (`EMAIL_TRANSPORT`): `resend` (an HTTP email API at
/// `EMAIL_API_URL`, default Resend's, with the `EMAIL_API_TOKEN` secret) or
/// `send_email` (Cloudflare's binding `REMINDER_EMAIL`); from `REMINDER_FROM`.
pub enum EmailTransport {
    HttpApi { url: String, token: String },
    Binding,
}

pub struct EmailSettings {
    pub transport: EmailTransport,
    pub from: String,
}

pub fn email_settings(env: &Env) -> Result<EmailSettings, String> {
    let from = var(env, "REMINDER_FROM").ok_or("REMINDER_FROM is not set")?;
    let transport = match var(env, "EMAIL_TRANSPORT").as_deref() {
        Some("resend") => EmailTransport::HttpApi {
            url: var(env, "EMAIL_API_URL").unwrap_or_else(|| "https://api.resend.com/emails".to_owned()),
            token: env.secret("EMAIL_API_TOKEN").map(|s| s.to_string()).map_err(|_| "EMAIL_API_TOKEN is not set")?,
        },
        Some("send_email") => EmailTransport::Binding,
        other => return Err(format!("EMAIL_TRANSPORT must be resend or send_email, got {other:?}")),
    };
    Ok(EmailSettings { transport, from })
}
/// The return rules: windows (`RETURN_WINDOWS`, e.g. "default=14,web=7,defective=730";
/// default 14 days, defective 730), how long exchange units stay held at the receiving
/// location (`EXCHANGE_HOLD_DAYS`, default 3), which reasons earn goodwill
/// (`GOODWILL_REASONS`, default "defective"; "none" for none) and what
/// (`GOODWILL_OFFER`: "coupon:<percent>:<days>", default "coupon:10:90", or "gift:<sku>").
/// A malformed value is a deployment error.
pub fn return_settings(env: &Env) -> Result<omniedge::workflows::returns::ReturnSettings, Problem> {
    let malformed = |name: &str, e: String| {
        worker::console_error!("{name} is malformed: {e}");
        Problem::internal()
    };
    let policy = omniedge::returns::policy::ReturnPolicy::parse(&var(env, "RETURN_WINDOWS").unwrap_or_default()).map_err(|e| malformed("RETURN_WINDOWS", e))?;
    let goodwill = omniedge::returns::exchange::GoodwillPolicy::parse(
        &var(env, "GOODWILL_REASONS").unwrap_or_else(|| "defective".into()),
        &var(env, "GOODWILL_OFFER").unwrap_or_else(|| "coupon:10:90".into()),
    )
    .map_err(|e| malformed("GOODWILL_REASONS/GOODWILL_OFFER", e))?;
    let hold_days = var(env, "EXCHANGE_HOLD_DAYS").and_then(|d| d.trim().parse::<i64>().ok()).filter(|d| (1..=60).contains(d)).unwrap_or(3);
    Ok(omniedge::workflows::returns::ReturnSettings {
        policy,
        goodwill,
        replacement_hold: chrono::Duration::days(hold_days),
        opening_hold: chrono::Duration::seconds(placement_hold_seconds(env)),
    })
}
