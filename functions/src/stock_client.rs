//! Calls a SKU's stock Durable Object: sends a `StockCommand`, returns its typed
//! answer, or passes the object's problem (e.g. `below_held`) through unchanged.

use crate::error::{ApiError, ApiResult};
use crate::stock_object::{AdjustCommand, AdjustReply, AdjustmentPage, StockCommand};
use omniedge::ids::{LocationId, Sku};
use omniedge::stock::LocationLevel;
use omniedge::Problem;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{Env, Method, Request, RequestInit, Stub};

pub struct StockClient {
    stub: Stub,
}

impl StockClient {
    pub fn for_sku(env: &Env, sku: &Sku) -> ApiResult<Self> {
        Ok(StockClient { stub: env.durable_object("STOCK")?.id_from_name(sku.as_str())?.get_stub()? })
    }

    async fn call<T: DeserializeOwned>(&self, command: &StockCommand) -> ApiResult<T> {
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(JsValue::from(serde_json::to_string(command)?)));
        let request = Request::new_with_init("https://stock.internal/command", &init)?;
        let mut response = self.stub.fetch_with_request(request).await?;
        let body = response.bytes().await?;
        if response.status_code() == 200 {
            Ok(serde_json::from_slice(&body)?)
        } else {
            Err(ApiError(serde_json::from_slice::<Problem>(&body)?))
        }
    }

    pub async fn view(&self) -> ApiResult<Vec<LocationLevel>> {
        self.call(&StockCommand::View).await
    }

    pub async fn adjust(&self, command: AdjustCommand) -> ApiResult<AdjustReply> {
        self.call(&StockCommand::Adjust(command)).await
    }

    pub async fn list_adjustments(&self, location_id: Option<LocationId>, limit: u32, before: Option<i64>) -> ApiResult<AdjustmentPage> {
        self.call(&StockCommand::ListAdjustments { location_id, limit, before }).await
    }
}
