//! The trivial health route (also the benchmarks' baseline), the deep one (one no-op
//! Durable Object call and one D1 read: the benchmarks' floor, and operators' readiness
//! check) and the OpenAPI document.

use crate::d1;
use crate::http::error::ApiResult;
use crate::http::problem::Problem;
use crate::http::{json, json_text};
use crate::objects::stock_client;
use worker::{Env, Response};

const OPENAPI: &str = include_str!("../../../schemas/openapi.json");

pub fn health() -> ApiResult<Response> {
    json(200, &serde_json::json!({ "status": "ok" }))
}

pub async fn deep_health(env: &Env) -> ApiResult<Response> {
    let object = async { stock_client::ping(env).await.map_err(|e| e.0) };
    let database = async {
        let db = d1::database(env).map_err(|e| e.0.detail)?;
        let statement = db.prepare("SELECT 1 AS one").bind(&[]).map_err(|e| e.to_string())?;
        statement.first::<serde_json::Value>(None).await.map(drop).map_err(|e| e.to_string())
    };
    let (object, database) = futures_util::join!(object, database);
    if let Some(cause) = object.as_ref().err().or(database.as_ref().err()) {
        worker::console_error!("deep health: {cause}");
        let failed = if object.is_err() { "durable_objects" } else { "d1" };
        return Err(Problem::new(503, "dependency_unavailable", format!("{failed} did not answer")).with("dependency", failed).into());
    }
    json(200, &serde_json::json!({ "status": "ok", "durable_objects": "ok", "d1": "ok" }))
}

pub fn openapi() -> ApiResult<Response> {
    json_text(200, OPENAPI.to_owned())
}
