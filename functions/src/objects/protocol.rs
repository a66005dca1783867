//! Plumbing shared by the Durable Objects and their callers: a command goes in as
//! JSON; the answer comes back as its value or as a refusal in the object's own error
//! type, which the caller maps to a problem (`http::problem`) or hands to a workflow. A
//! failure of the object itself is a 500 the caller sees as `Unavailable`.
//!
//! Commands travel by Workers RPC: `functions/entry.mjs` gives both objects a `command`
//! method that hands the JSON to the object's Rust `fetch` inside the object and answers
//! its body, or throws when the object failed. A call builds no HTTP request or
//! response on the caller's side, and is no subrequest.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use omniedge::workflows::ports::Unavailable;
use worker::{Env, Response, Result};

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

#[wasm_bindgen]
extern "C" {
    /// A Durable Object's stub, seen through the RPC method `entry.mjs` gives the objects.
    type CommandStub;

    /// Runs one JSON command in the object: its answer's body, or a rejection.
    #[wasm_bindgen(method, catch)]
    fn command(this: &CommandStub, body: &str) -> std::result::Result<JsValue, JsValue>;
}

/// A Durable Object addressed by name, to send commands to.
pub struct ObjectStub(CommandStub);

impl ObjectStub {
    /// The object named `name` in the namespace bound as `binding`.
    pub fn named(env: &Env, binding: &str, name: &str) -> Result<Self> {
        Ok(ObjectStub(env.durable_object(binding)?.id_from_name(name)?.get_stub()?.into_rpc()))
    }
}

/// Sends a command to a typed object: its value, its refusal, or why it could not answer.
pub async fn request<C: Serialize, T: DeserializeOwned, E: DeserializeOwned>(
    stub: &ObjectStub,
    command: &C,
) -> std::result::Result<std::result::Result<T, E>, Unavailable> {
    let failed = |e: JsValue| Unavailable(format!("object call failed: {}", describe(&e)));
    let body = serde_json::to_string(command).map_err(|e| Unavailable(format!("command not serializable: {e}")))?;
    // An RPC call answers a thenable; `Promise.resolve` makes it a promise to await.
    let answer = js_sys::Promise::resolve(&stub.0.command(&body).map_err(failed)?);
    let body = JsFuture::from(answer).await.map_err(failed)?;
    let body = body.as_string().ok_or_else(|| Unavailable("object answered no text".into()))?;
    match serde_json::from_str::<Reply<T, E>>(&body) {
        Ok(Reply::Done(value)) => Ok(Ok(value)),
        Ok(Reply::Refused(refused)) => Ok(Err(refused)),
        Err(e) => Err(Unavailable(format!("unreadable object answer: {e}"))),
    }
}

/// A rejection's message (an `Error`'s, else the value as JS shows it).
fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{e:?}"))
}
