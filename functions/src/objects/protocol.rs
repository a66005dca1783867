//! Plumbing shared by the Durable Objects and their callers: a command goes in as
//! JSON; the answer comes back as its value or as a refusal in the object's own error
//! type, which the caller maps to a problem (`http::problem`) or hands to a workflow. A
//! failure of the object itself is a 500 the caller sees as `Unavailable`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::JsFuture;
use omniedge::workflows::ports::Unavailable;
use worker::{Method, Request, RequestInit, Response, Result, Stub};

/// What a typed object answers: its value, or a refusal in the object's own error type.
/// A failure of the object itself (storage, a bug) is a 500 whose body is not read.
#[derive(Debug, Serialize, serde::Deserialize)]
#[serde(tag = "outcome", content = "value", rename_all = "snake_case")]
pub enum Reply<T, E> {
    Done(T),
    Refused(E),
}

/// Renders a typed command's outcome as the object's HTTP answer.
pub fn reply<T: Serialize, E: Serialize>(outcome: Result<std::result::Result<T, E>>) -> Result<Response> {
    match outcome {
        Ok(Ok(value)) => Response::ok(serde_json::to_string(&Reply::<T, E>::Done(value))?),
        Ok(Err(refused)) => Response::ok(serde_json::to_string(&Reply::<T, E>::Refused(refused))?),
        Err(e) => {
            worker::console_error!("object failure: {e}");
            Ok(Response::error("object failure", 500)?)
        }
    }
}

/// Sends a command to a typed object: its value, its refusal, or why it could not answer.
pub async fn request<C: Serialize, T: DeserializeOwned, E: DeserializeOwned>(
    stub: &Stub,
    command: &C,
) -> std::result::Result<std::result::Result<T, E>, Unavailable> {
    let unavailable = |e: worker::Error| Unavailable(format!("object call failed: {e}"));
    let mut init = RequestInit::new();
    let body = serde_json::to_string(command).map_err(|e| Unavailable(format!("command not serializable: {e}")))?;
    init.with_method(Method::Post).with_body(Some(JsValue::from(body)));
    let request = Request::new_with_init("https://object.internal/command", &init).map_err(unavailable)?;
    let response = stub.fetch_with_request(request).await.map_err(unavailable)?;
    let status = response.status_code();
    // The body in one read (`text()`), not chunk by chunk as `Response::bytes` streams it.
    let response: worker::web_sys::Response = response.into();
    let read = |e: JsValue| Unavailable(format!("object answer unreadable: {e:?}"));
    let body = JsFuture::from(response.text().map_err(read)?).await.map_err(read)?.as_string().unwrap_or_default();
    if status != 200 {
        return Err(Unavailable(format!("object answered {status}")));
    }
    match serde_json::from_slice::<Reply<T, E>>(body.as_bytes()) {
        Ok(Reply::Done(value)) => Ok(Ok(value)),
        Ok(Reply::Refused(refused)) => Ok(Err(refused)),
        Err(e) => Err(Unavailable(format!("unreadable object answer: {e}"))),
    }
}
