//! Calls a SKU's stock Durable Object: sends a `StockCommand` and gets its typed answer
//! or `StockRefusal`. `StockClient` serves the HTTP handlers (a refusal becomes the
//! caller's problem); `StockObjects` is the workflows' stock port over the same objects.

use crate::http::error::ApiResult;
use crate::http::faults::Fault;
use crate::objects::protocol::request;
use crate::objects::stock::{AdjustCommand, AdjustReply, AdjustmentPage, CartHold, StockCommand, StockRefusal};
use omniedge::inventory::scarcity::ScarceHolds;
use crate::objects::stock_views;
use omniedge::inventory::availability::MaxStaleness;
use chrono::{DateTime, Utc};
use omniedge::inventory::ledger::{Allocation, Commitment, HoldRef, LocationLevel, OrderRef, StockError};
use omniedge::shared::ids::{LocationId, Sku};
use omniedge::shared::quantity::PositiveQuantity;
use omniedge::workflows::ports::{PortError, StockPort, Unavailable};
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
        Ok(request::<_, T, StockRefusal>(&self.stub, command).await??)
    }

    /// The object that the deep health check pings (no SKU's).
    pub fn for_health(env: &Env) -> ApiResult<Self> {
        Ok(StockClient { stub: env.durable_object("STOCK")?.id_from_name("health-check")?.get_stub()? })
    }

    /// A call that does nothing: whether the object answers.
    pub async fn ping(&self) -> Result<(), Unavailable> {
        request::<_, (), StockRefusal>(&self.stub, &StockCommand::Ping).await?.map_err(|e| Unavailable(e.to_string()))
    }

    pub async fn view(&self) -> ApiResult<Vec<LocationLevel>> {
        self.call(&StockCommand::View).await
    }

    pub async fn adjust(&self, command: AdjustCommand) -> ApiResult<AdjustReply> {
        self.call(&StockCommand::Adjust(command)).await
    }

    pub async fn release(&self, reference: &HoldRef) -> ApiResult<u32> {
        self.call(&StockCommand::Release { reference: reference.clone() }).await
    }

    /// Tests only: see `StockCommand::BulkHold`; answers how many holds were opened.
    pub async fn bulk_hold(&self, command: &StockCommand) -> ApiResult<u32> {
        self.call(command).await
    }

    pub async fn list_adjustments(&self, location_id: Option<LocationId>, limit: u32, before: Option<i64>) -> ApiResult<AdjustmentPage> {
        self.call(&StockCommand::ListAdjustments { location_id, limit, before }).await
    }
}

/// How old the counts a placement first allocates from may be (its holds check them).
const PLACEMENT_GUESS_STALENESS: MaxStaleness = MaxStaleness::ONE_SECOND;

/// The workflows' stock port: one object per SKU, addressed by name.
pub struct StockObjects<'a> {
    pub env: &'a Env,
    /// A failure the tests asked this request to suffer (see `http::faults`).
    pub fault: Option<Fault>,
}

impl StockObjects<'_> {
    async fn send<T: DeserializeOwned>(&self, sku: &Sku, command: StockCommand) -> Result<T, PortError<StockError>> {
        let stub = StockClient::for_sku(self.env, sku).map_err(|e| Unavailable(format!("stock object of {sku}: {}", e.0.detail)))?.stub;
        match request::<_, T, StockRefusal>(&stub, &command).await? {
            Ok(value) => Ok(value),
            Err(StockRefusal::Stock(refused)) => Err(PortError::Refused(refused)),
            Err(other) => Err(PortError::Unavailable(Unavailable(format!("stock object of {sku} refused: {other}")))),
        }
    }
}

impl StockObjects<'_> {
    /// Holds a cart line's `quantity` for `reference` where most are available among
    /// `eligible`, until `expires_at` or sooner while the SKU is scarce.
    pub async fn hold_cart_line(
        &self,
        sku: &Sku,
        reference: &HoldRef,
        quantity: PositiveQuantity,
        eligible: Vec<LocationId>,
        expires_at: DateTime<Utc>,
        scarce: Option<ScarceHolds>,
    ) -> Result<CartHold, PortError<StockError>> {
        self.send(sku, StockCommand::HoldCartLine { reference: reference.clone(), quantity, eligible, expires_at, scarce }).await
    }
}

/// A stock call that is never refused by the domain.
fn answered<T>(outcome: Result<T, PortError<StockError>>) -> Result<T, Unavailable> {
    outcome.map_err(|e| match e {
        PortError::Unavailable(u) => u,
        PortError::Refused(r) => Unavailable(format!("unexpected refusal: {r}")),
    })
}

impl StockPort for StockObjects<'_> {
    async fn levels_for(&self, sku: &Sku, hold: &HoldRef) -> Result<Vec<LocationLevel>, Unavailable> {
        answered(self.send(sku, StockCommand::ViewFor { reference: hold.clone() }).await)
    }

    async fn recent_levels(&self, sku: &Sku) -> Result<Vec<LocationLevel>, Unavailable> {
        let read = stock_views::levels(self.env, sku, Some(PLACEMENT_GUESS_STALENESS)).await;
        read.map(|read| read.levels).map_err(|e| Unavailable(format!("stock object of {sku}: {}", e.0.detail)))
    }

    async fn hold(&self, sku: &Sku, hold: &HoldRef, allocations: &[Allocation], expires_at: DateTime<Utc>) -> Result<(), PortError<StockError>> {
        self.send(sku, StockCommand::Hold { reference: hold.clone(), allocations: allocations.to_vec(), expires_at }).await
    }

    async fn hold_for_order(&self, sku: &Sku, order: &OrderRef, hold: &HoldRef, allocations: &[Allocation], expires_at: DateTime<Utc>) -> Result<(), PortError<StockError>> {
        let command = StockCommand::HoldForOrder { order: order.clone(), reference: hold.clone(), allocations: allocations.to_vec(), expires_at };
        self.send(sku, command).await
    }

    async fn release(&self, sku: &Sku, hold: &HoldRef) -> Result<(), Unavailable> {
        answered(self.send::<u32>(sku, StockCommand::Release { reference: hold.clone() }).await).map(drop)
    }

    async fn commit(&self, sku: &Sku, order: &OrderRef, hold: &HoldRef, allocations: &[Allocation]) -> Result<(), PortError<StockError>> {
        self.send(sku, StockCommand::Commit { order: order.clone(), hold: hold.clone(), allocations: allocations.to_vec() }).await
    }

    async fn take(&self, sku: &Sku, order: &OrderRef, hold: &HoldRef, allocations: &[Allocation]) -> Result<Commitment, PortError<StockError>> {
        let taken = self.send(sku, StockCommand::Take { order: order.clone(), hold: hold.clone(), allocations: allocations.to_vec() }).await?;
        if self.fault == Some(Fault::AfterReserve) {
            panic!("injected fault: placement died after taking stock");
        }
        Ok(taken)
    }

    async fn withdraw(&self, sku: &Sku, order: &OrderRef, keep: Option<(&HoldRef, DateTime<Utc>)>) -> Result<(), Unavailable> {
        let keep = keep.map(|(hold, until)| (hold.clone(), until));
        answered(self.send::<()>(sku, StockCommand::Withdraw { order: order.clone(), keep }).await)
    }

    async fn hand_over(&self, sku: &Sku, order: &OrderRef) -> Result<(), PortError<StockError>> {
        self.send(sku, StockCommand::HandOver { order: order.clone() }).await
    }

    async fn restock(&self, sku: &Sku, order: &OrderRef) -> Result<(), PortError<StockError>> {
        self.send(sku, StockCommand::Restock { order: order.clone() }).await
    }

    async fn receive_return(&self, sku: &Sku, receipt: &OrderRef, at: &LocationId, quantity: PositiveQuantity) -> Result<(), Unavailable> {
        answered(self.send::<()>(sku, StockCommand::ReceiveReturn { receipt: receipt.clone(), location_id: at.clone(), quantity }).await)
    }
}
