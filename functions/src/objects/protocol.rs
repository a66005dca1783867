//! Plumbing shared by the Durable Objects and their callers: a command goes in as
//! JSON; the answer comes back as 200 with JSON, or as the domain's problem with its
//! status, which the caller passes through to the client unchanged.

use crate::http::error::{ApiError, ApiResult};
use omniedge::Problem;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;
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
