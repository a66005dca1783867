//! Calls a SKU's stock Durable Object: sends a `StockCommand`, returns its typed
//! answer, or passes the object's problem (e.g. `below_held`) through unchanged.

use crate::objects::protocol;
use crate::http::error::ApiResult;
use crate::objects::stock::{AdjustCommand, AdjustReply, AdjustmentPage, StockCommand};
use omniedge::shared::ids::{LocationId, Sku};
use chrono::{DateTime, Utc};
use omniedge::shared::quantity::PositiveQuantity;
use omniedge::inventory::ledger::{Allocation, HoldRef, LocationLevel, OrderRef};
use serde::de::DeserializeOwned;
use worker::{Env, Stub};

pub struct StockClient {
    stub: Stub,
}

impl StockClient {
    pub fn for_sku(env: &Env, sku: &Sku) -> ApiResult<Self> {
        Ok(StockClient { stub: env.durable_object("STOCK")?.id_from_name(sku.as_str())?.get_stub()? })
    }

    async fn call<T: DeserializeOwned>(&self, command: &StockCommand) -> ApiResult<T> {
        protocol::call(&self.stub, command).await
    }

    pub async fn view(&self) -> ApiResult<Vec<LocationLevel>> {
        self.call(&StockCommand::View).await
    }

    pub async fn adjust(&self, command: AdjustCommand) -> ApiResult<AdjustReply> {
        self.call(&StockCommand::Adjust(command)).await
    }

    pub async fn view_for(&self, reference: &HoldRef) -> ApiResult<Vec<LocationLevel>> {
        self.call(&StockCommand::ViewFor { reference: reference.clone() }).await
    }

    pub async fn hold_anywhere(
        &self,
        reference: &HoldRef,
        quantity: PositiveQuantity,
        eligible: Vec<LocationId>,
        expires_at: DateTime<Utc>,
    ) -> ApiResult<LocationId> {
        self.call(&StockCommand::HoldAnywhere { reference: reference.clone(), quantity, eligible, expires_at }).await
    }

    pub async fn hold(&self, reference: &HoldRef, allocations: Vec<Allocation>, expires_at: DateTime<Utc>) -> ApiResult<()> {
        self.call(&StockCommand::Hold { reference: reference.clone(), allocations, expires_at }).await
    }

    pub async fn release(&self, reference: &HoldRef) -> ApiResult<u32> {
        self.call(&StockCommand::Release { reference: reference.clone() }).await
    }

    pub async fn commit(&self, order: &OrderRef, hold: &HoldRef, allocations: Vec<Allocation>) -> ApiResult<()> {
        self.call(&StockCommand::Commit { order: order.clone(), hold: hold.clone(), allocations }).await
    }

    pub async fn hand_over(&self, order: &OrderRef) -> ApiResult<Vec<Allocation>> {
        self.call(&StockCommand::HandOver { order: order.clone() }).await
    }

    pub async fn restock(&self, order: &OrderRef) -> ApiResult<Vec<Allocation>> {
        self.call(&StockCommand::Restock { order: order.clone() }).await
    }

    pub async fn list_adjustments(&self, location_id: Option<LocationId>, limit: u32, before: Option<i64>) -> ApiResult<AdjustmentPage> {
        self.call(&StockCommand::ListAdjustments { location_id, limit, before }).await
    }
}
