//! Calls the stock Durable Objects: one per style, named `style:{code}`, keeping the
//! ledgers of the style's SKUs. A SKU's object is found through its product's style
//! (from the catalog cache; a SKU never changes style), and commands for SKUs of one
//! style go in one call (`send`). `StockClient` serves the HTTP handlers (a refusal
//! becomes the caller's problem); `StockObjects` is the workflows' stock port over the
//! same objects.

use crate::d1;
use crate::http::error::ApiResult;
use crate::http::faults::Fault;
use crate::http::problem::Problem;
use crate::objects::protocol::{request, ObjectStub, Reply};
use crate::objects::stock::{AdjustCommand, AdjustReply, AdjustmentPage, CartHold, SkuCommand, StockCall, StockCommand, StockRefusal};
use omniedge::catalog::Product;
use omniedge::inventory::scarcity::ScarceHolds;
use crate::objects::stock_views;
use omniedge::inventory::availability::MaxStaleness;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use omniedge::inventory::ledger::{Allocation, Commitment, HoldRef, LocationLevel, OrderRef, StockError};
use omniedge::shared::ids::{LocationId, Sku, StyleCode};
use omniedge::shared::quantity::PositiveQuantity;
use omniedge::workflows::ports::{HoldAgain, PortError, StockPort, Unavailable};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use worker::Env;

/// The object keeping a style's stock.
fn style_object(env: &Env, style: &StyleCode) -> worker::Result<ObjectStub> {
    ObjectStub::named(env, "STOCK", &format!("style:{style}"))
}

/// Sends commands for SKUs of one style in one call: each one's answer or refusal, in order.
async fn send<T: DeserializeOwned>(env: &Env, style: &StyleCode, commands: Vec<SkuCommand>) -> Result<Vec<Result<T, StockRefusal>>, Unavailable> {
    let stub = style_object(env, style).map_err(|e| Unavailable(format!("stock object of style {style}: {e}")))?;
    let count = commands.len();
    let answers = request::<_, Vec<Reply<serde_json::Value, StockRefusal>>, StockRefusal>(&stub, &StockCall::Skus { commands })
        .await?
        .map_err(|refused| Unavailable(format!("stock object of style {style} refused the call: {refused}")))?;
    if answers.len() != count {
        return Err(Unavailable(format!("stock object of style {style} answered {} of {count} commands", answers.len())));
    }
    answers
        .into_iter()
        .map(|answer| match answer {
            Reply::Done(value) => serde_json::from_value(value).map(Ok).map_err(|e| Unavailable(format!("unreadable stock answer: {e}"))),
            Reply::Refused(refused) => Ok(Err(refused)),
        })
        .collect()
}

/// Sends each command (with its SKU's style) to its style's object, one call per style,
/// all at once: each command's answer or refusal, in order, or why its style's object did
/// not answer.
pub async fn send_by_style<T: DeserializeOwned>(env: &Env, commands: Vec<(StyleCode, SkuCommand)>) -> Vec<Result<Result<T, StockRefusal>, Unavailable>> {
    let mut answers: Vec<Result<Result<T, StockRefusal>, Unavailable>> = Vec::with_capacity(commands.len());
    let mut by_style: BTreeMap<StyleCode, (Vec<usize>, Vec<SkuCommand>)> = BTreeMap::new();
    for (i, (style, command)) in commands.into_iter().enumerate() {
        answers.push(Err(Unavailable("not answered".into())));
        let (at, sent) = by_style.entry(style).or_default();
        at.push(i);
        sent.push(command);
    }
    let calls = by_style.into_iter().map(|(style, (at, commands))| async move { (at, send::<T>(env, &style, commands).await) });
    for (at, sent) in join_all(calls).await {
        match sent {
            Ok(outcomes) => at.into_iter().zip(outcomes).for_each(|(i, outcome)| answers[i] = Ok(outcome)),
            Err(unavailable) => at.into_iter().for_each(|i| answers[i] = Err(unavailable.clone())),
        }
    }
    answers
}

/// The style a SKU's stock is kept under (from the catalog cache).
async fn style_of(env: &Env, sku: &Sku) -> ApiResult<StyleCode> {
    let product = d1::catalog::get_cached(&d1::database(env)?, sku).await?;
    Ok(product.ok_or_else(|| Problem::not_found("sku", sku.as_str()))?.style.clone())
}

/// One SKU's stock, for the HTTP handlers.
pub struct StockClient<'a> {
    env: &'a Env,
    style: StyleCode,
    sku: Sku,
}

impl<'a> StockClient<'a> {
    pub fn for_product(env: &'a Env, product: &Product) -> Self {
        StockClient { env, style: product.style.clone(), sku: product.sku.clone() }
    }

    /// The SKU's stock; 404 when it is not in the catalog.
    pub async fn for_sku(env: &'a Env, sku: &Sku) -> ApiResult<Self> {
        Ok(StockClient { env, style: style_of(env, sku).await?, sku: sku.clone() })
    }

    async fn call<T: DeserializeOwned>(&self, command: StockCommand) -> ApiResult<T> {
        let mut answers = send(self.env, &self.style, vec![SkuCommand { sku: self.sku.clone(), command }]).await?;
        Ok(answers.pop().ok_or_else(|| Unavailable("the stock object answered nothing".into()))??)
    }

    pub async fn adjust(&self, command: AdjustCommand) -> ApiResult<AdjustReply> {
        self.call(StockCommand::Adjust(command)).await
    }

    pub async fn release(&self, reference: &HoldRef) -> ApiResult<u32> {
        self.call(StockCommand::Release { reference: reference.clone() }).await
    }

    /// Tests only: see `StockCommand::BulkHold`; answers how many holds were opened.
    pub async fn bulk_hold(&self, command: StockCommand) -> ApiResult<u32> {
        self.call(command).await
    }

    pub async fn list_adjustments(&self, location_id: Option<LocationId>, limit: u32, before: Option<i64>) -> ApiResult<AdjustmentPage> {
        self.call(StockCommand::ListAdjustments { location_id, limit, before }).await
    }
}

/// A call that does nothing (no commands) to the object the deep health check pings.
pub async fn ping(env: &Env) -> Result<(), Unavailable> {
    let health = StyleCode::parse("health-check").map_err(|e| Unavailable(e.to_string()))?;
    send::<()>(env, &health, Vec::new()).await.map(drop)
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
    /// Sends each command to its SKU's style object, one call per style, all at once:
    /// each one's answer, in order.
    async fn send_all<T: DeserializeOwned>(&self, commands: Vec<SkuCommand>) -> Vec<Result<T, PortError<StockError>>> {
        let styles = join_all(commands.iter().map(|c| style_of(self.env, &c.sku))).await;
        let mut answers: Vec<Result<T, PortError<StockError>>> = Vec::with_capacity(commands.len());
        let (mut at, mut sendable) = (Vec::new(), Vec::new());
        for (i, (command, style)) in commands.into_iter().zip(styles).enumerate() {
            match style {
                Ok(style) => {
                    answers.push(Err(Unavailable("not answered".into()).into()));
                    at.push(i);
                    sendable.push((style, command));
                }
                Err(e) => answers.push(Err(Unavailable(format!("stock of {}: {}", command.sku, e.0.detail)).into())),
            }
        }
        for (i, outcome) in at.into_iter().zip(send_by_style::<T>(self.env, sendable).await) {
            answers[i] = match outcome {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(StockRefusal::Stock(refused))) => Err(PortError::Refused(refused)),
                Ok(Err(other)) => Err(Unavailable(format!("stock object refused: {other}")).into()),
                Err(unavailable) => Err(unavailable.into()),
            };
        }
        answers
    }

    async fn send<T: DeserializeOwned>(&self, sku: &Sku, command: StockCommand) -> Result<T, PortError<StockError>> {
        let mut answers = self.send_all(vec![SkuCommand { sku: sku.clone(), command }]).await;
        answers.pop().unwrap_or_else(|| Err(Unavailable("the stock object answered nothing".into()).into()))
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
        let read = async {
            let style = style_of(self.env, sku).await?;
            stock_views::levels(self.env, &[(sku, &style)], Some(PLACEMENT_GUESS_STALENESS)).await
        };
        let mut read = read.await.map_err(|e| Unavailable(format!("stock of {sku}: {}", e.0.detail)))?;
        read.pop().map(|read| read.levels).ok_or_else(|| Unavailable(format!("stock of {sku} not read")))
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

    async fn take(&self, order: &OrderRef, hold: &HoldRef, lines: &[(Sku, Vec<Allocation>)]) -> Vec<Result<Commitment, PortError<StockError>>> {
        let commands = lines.iter().map(|(sku, allocations)| SkuCommand {
            sku: sku.clone(),
            command: StockCommand::Take { order: order.clone(), hold: hold.clone(), allocations: allocations.clone() },
        });
        let taken = self.send_all(commands.collect()).await;
        if self.fault == Some(Fault::AfterReserve) {
            panic!("injected fault: placement died after taking stock");
        }
        taken
    }

    async fn withdraw(&self, order: &OrderRef, lines: &[(Sku, Option<HoldAgain>)]) -> Result<(), Unavailable> {
        let commands = lines.iter().map(|(sku, keep)| SkuCommand { sku: sku.clone(), command: StockCommand::Withdraw { order: order.clone(), keep: keep.clone() } });
        self.send_all::<()>(commands.collect()).await.into_iter().try_for_each(answered)
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
