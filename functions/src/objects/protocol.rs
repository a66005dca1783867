//! Plumbing shared by the Durable Objects and their callers: a command goes in as
//! JSON; the answer comes back as 200 with JSON, or as the domain's problem with its
//! status, which the caller passes through to the client unchanged.

use crate::http::error::{ApiError, ApiResult};
use omniedge::Problem;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;
use omniedge::workflows::ports::Unavailable;
use worker::{Method, Request, RequestInit, Response, Result, Stub};

/// What a Durable Object's command yields.
pub type Outcome<T> = std::result::Result<T, Problem>;

/// Renders a command's outcome as the object's HTTP answer.
pub fn answer<T: Serialize>(outcome: Outcome<T>) -> Result<Response> {
    match outcome {
        Ok(value) => Response::ok(serde_json::to_string(&value)?),
        Err(problem) => Ok(Response::ok(serde_json::to_string(&problem)?)?.with_status(problem.status)),
    }
}

/// Sends a command to an object and decodes its answer.
pub async fn call<C: Serialize, T: DeserializeOwned>(stub: &Stub, command: &C) -> ApiResult<T> {
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(JsValue::from(serde_json::to_string(command)?)));
    let request = Request::new_with_init("https://object.internal/command", &init)?;
    let mut response = stub.fetch_with_request(request).await?;
    let body = response.bytes().await?;
    if response.status_code() == 200 {
        Ok(serde_json::from_slice(&body)?)
    } else {
        Err(ApiError(serde_json::from_slice::<Problem>(&body)?))
    }
}

/// Logs a storage failure inside an object and turns it into a bare 500.
pub fn internal(context: &str, e: worker::Error) -> Problem {
    worker::console_error!("{context}: {e}");
    Problem::internal()
}

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
    let mut response = stub.fetch_with_request(request).await.map_err(unavailable)?;
    let body = response.bytes().await.map_err(unavailable)?;
    if response.status_code() != 200 {
        return Err(Unavailable(format!("object answered {}", response.status_code())));
    }
    match serde_json::from_slice::<Reply<T, E>>(&body) {
        Ok(Reply::Done(value)) => Ok(Ok(value)),
        Ok(Reply::Refused(refused)) => Ok(Err(refused)),
        Err(e) => Err(Unavailable(format!("unreadable object answer: {e}"))),
    }
}
