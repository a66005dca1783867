//! The HTTP edge: reading requests and writing responses (body limits, strict JSON
//! parsing into domain types, query parameters, the Idempotency-Key header), the
//! router, caller authentication, problem details (every error's status and code) and
//! their rendering, CORS and the rate limits of publishable keys, and the tests' fault
//! injection.

pub mod auth;
pub mod cors;
pub mod error;
pub mod faults;
pub mod limits;
pub mod problem;
pub mod router;

use crate::http::error::ApiResult;
use crate::http::problem::Problem;
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Headers, Request, Response};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Reads and parses a JSON body. Integers are parsed by serde_json (not JS), so no
/// digits are lost; unknown fields, wrong types and invalid values are refused; numbers,
/// null and repeated members are read as the OpenAPI document reads them
/// (`omniedge::shared::json`).
pub async fn json_body<T: DeserializeOwned>(req: &mut Request) -> ApiResult<T> {
    let bytes = body_bytes(req).await?;
    parse_json(&bytes)
}

/// The raw body, after checking its declared type and size.
pub async fn body_bytes(req: &mut Request) -> ApiResult<Vec<u8>> {
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if media != "application/json" {
        return Err(Problem::new(415, "unsupported_media_type", "send the body as application/json").into());
    }
    if let Some(length) = req.headers().get("content-length")? {
        if length.trim().parse::<usize>().map_or(true, |n| n > MAX_BODY_BYTES) {
            return Err(too_large().into());
        }
    }
    let bytes = read_body(req).await?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(too_large().into());
    }
    Ok(bytes)
}

/// A request's whole body in one read (`arrayBuffer()`), not chunk by chunk with a
/// promise per chunk as `Request::bytes` streams it.
pub async fn read_body(req: &Request) -> worker::Result<Vec<u8>> {
    let buffer = worker::wasm_bindgen_futures::JsFuture::from(req.inner().array_buffer()?).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

fn too_large() -> Problem {
    Problem::new(413, "body_too_large", format!("request bodies are limited to {MAX_BODY_BYTES} bytes"))
}

/// Parses JSON into a domain type: a syntax error is 400, a shape or value error 422.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    omniedge::shared::json::from_slice(bytes).map_err(body_problem)
}

/// Parses a body already read as JSON (see `parse_json`) into a domain type.
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> ApiResult<T> {
    T::deserialize(value).map_err(body_problem)
}

fn body_problem(e: serde_json::Error) -> error::ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => Problem::bad_request("malformed_json", format!("the body is not valid JSON: {e}")).into(),
        Category::Data => Problem::unprocessable("invalid_body", e.to_string()).into(),
    }
}

/// Query parameters of a request, read once.
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn of(req: &Request) -> ApiResult<Self> {
        Ok(Query(req.url()?.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Refuses parameters the route does not know, so typos are not silently ignored.
    pub fn only(&self, allowed: &[&str]) -> ApiResult<()> {
        match self.0.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((k, _)) => Err(invalid_query(format!("unknown query parameter {k:?}; allowed: {}", allowed.join(", ")))),
            None => Ok(()),
        }
    }

    /// Parses an optional parameter, turning a parse failure into a 400 naming it.
    pub fn parse<T, E: std::fmt::Display>(&self, name: &str, parse: impl Fn(&str) -> Result<T, E>) -> ApiResult<Option<T>> {
        self.get(name).map(|v| parse(v).map_err(|e| invalid_query(format!("{name}: {e}")))).transpose()
    }
}

/// A count in a query parameter within `range`: an integer, also written with a zero
/// fraction (`50.0`), as the document's `integer` reads it.
pub fn query_count(text: &str, range: std::ops::RangeInclusive<u32>) -> Option<u32> {
    let value: f64 = text.parse().ok()?;
    let whole = value.fract() == 0.0 && (*range.start() as f64..=*range.end() as f64).contains(&value);
    whole.then_some(value as u32)
}

pub fn invalid_query(detail: String) -> error::ApiError {
    Problem::bad_request("invalid_query", detail).into()
}

/// Parses a path segment into an id type, as a 400 when it cannot be one.
pub fn path_id<T, E: std::fmt::Display>(segment: &str, parse: impl Fn(&str) -> Result<T, E>) -> ApiResult<T> {
    parse(segment).map_err(|e| Problem::bad_request("invalid_path", e.to_string()).into())
}

/// The `Idempotency-Key` header, required on calls that change state.
pub fn idempotency_key(req: &Request) -> ApiResult<String> {
    let key = req.headers().get("idempotency-key")?.ok_or_else(|| {
        Problem::new(428, "idempotency_key_required", "send an Idempotency-Key header so a retry cannot apply the change twice")
    })?;
    let valid = !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(key)
    } else {
        Err(Problem::bad_request("invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters").into())
    }
}

pub fn json<T: Serialize>(status: u16, value: &T) -> ApiResult<Response> {
    json_text(status, serde_json::to_string(value)?)
}

/// A JSON reply from an already serialized body (replays of stored answers).
pub fn json_text(status: u16, body: String) -> ApiResult<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    Ok(Response::ok(body)?.with_status(status).with_headers(headers))
}

pub fn no_content() -> ApiResult<Response> {
    Ok(Response::empty()?.with_status(204))
}

/// Current time as RFC 3339 UTC with millisecond precision.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A fresh opaque id with a readable prefix, e.g. `adj_3f2a…`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}
