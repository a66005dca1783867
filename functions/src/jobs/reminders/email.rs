//! Sends a reminder email through the configured transport: an HTTP email API in
//! Resend's format (`POST` JSON with a bearer token; the cart and step as its
//! `Idempotency-Key`, so a retry after a lost answer does not send twice) or
//! Cloudflare's `send_email` binding (`send_with_builder`; Cloudflare documents it for
//! transactional mail). Both carry the HTML and text parts and the RFC 8058 headers.

use crate::config::{EmailSettings, EmailTransport};
use omniedge::engagement::delivery::{outcome, SendOutcome};
use omniedge::engagement::email::ReminderEmail;
use wasm_bindgen::JsValue;
use worker::{Env, Fetch, Headers, Method, Request, RequestInit};

pub async fn send(env: &Env, settings: &EmailSettings, mail: &ReminderEmail, idempotency_key: &str) -> SendOutcome {
    let result = match &settings.transport {
        EmailTransport::HttpApi { url, token } => by_api(url, token, &settings.from, mail, idempotency_key).await,
        EmailTransport::Binding => by_binding(env, &settings.from, mail).await,
    };
    result.unwrap_or_else(|cause| SendOutcome::Temporary { cause, retry_after: None })
}

async fn by_api(url: &str, token: &str, from: &str, mail: &ReminderEmail, idempotency_key: &str) -> Result<SendOutcome, String> {
    let headers: serde_json::Map<String, serde_json::Value> = mail.headers.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
    let body = serde_json::json!({
        "from": from,
        "to": [mail.to.as_str()],
        "subject": mail.subject,
        "html": mail.html,
        "text": mail.text,
        "headers": headers,
    });
    let request_headers = Headers::new();
    let set = |name: &str, value: &str| request_headers.set(name, value).map_err(|e| e.to_string());
    set("authorization", &format!("Bearer {token}"))?;
    set("content-type", "application/json")?;
    set("idempotency-key", idempotency_key)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(request_headers).with_body(Some(JsValue::from(body.to_string())));
    let request = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let response = Fetch::Request(request).send().await.map_err(|e| format!("no answer from the email API: {e}"))?;
    let retry_after = response.headers().get("retry-after").ok().flatten();
    Ok(outcome(response.status_code(), retry_after.as_deref(), chrono::Utc::now(), false))
}

async fn by_binding(env: &Env, from: &str, mail: &ReminderEmail) -> Result<SendOutcome, String> {
    use worker::SendEmailBuilder;
    let binding = env.send_email("REMINDER_EMAIL").map_err(|e| format!("no REMINDER_EMAIL binding: {e}"))?;
    let headers = js_sys::Object::new();
    for (name, value) in &mail.headers {
        js_sys::Reflect::set(&headers, &name.into(), &value.into()).map_err(|_| "could not set a header".to_owned())?;
    }
    let builder = SendEmailBuilder::builder(from, mail.to.as_str(), &mail.subject).text(&mail.text).html(&mail.html).build();
    builder.set_headers(wasm_bindgen::JsCast::unchecked_ref(&headers));
    match binding.send_with_builder(&builder).await {
        Ok(_) => Ok(SendOutcome::Delivered),
        Err(e) => Err(format!("send_email refused: {e:?}")),
    }
}
