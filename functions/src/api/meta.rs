//! The trivial health route (also the benchmarks' baseline) and the OpenAPI document.

use crate::http::error::ApiResult;
use crate::http::{json, json_text};
use worker::Response;

const OPENAPI: &str = include_str!("../../../schemas/openapi.json");

pub fn health() -> ApiResult<Response> {
    json(200, &serde_json::json!({ "status": "ok" }))
}

pub fn openapi() -> ApiResult<Response> {
    json_text(200, OPENAPI.to_owned())
}
