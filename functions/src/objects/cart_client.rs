//! Calls a cart's Durable Object: sends a `CartCommand` and gets the cart back, or the
//! object's typed refusal (no such cart, or the cart's own `CartError`); and the
//! workflows' cart port over the same objects.

use crate::http::error::ApiResult;
use crate::http::problem::Problem;
use crate::objects::cart::{CartCommand, CartRefusal};
use crate::objects::protocol::{self, ObjectStub};
use omniedge::sales::cart::{Cart, CartError};
use omniedge::shared::ids::{CartId, OrderId};
use omniedge::workflows::ports::{CartPort, PortError, Unavailable};
use worker::Env;

pub struct CartClient {
    stub: ObjectStub,
}

impl CartClient {
    pub fn for_cart(env: &Env, id: &CartId) -> ApiResult<Self> {
        Ok(CartClient { stub: ObjectStub::named(env, "CART", id.as_str())? })
    }

    /// The cart after the command, or why the object refused it.
    pub async fn ask(&self, command: CartCommand) -> ApiResult<Result<Cart, CartRefusal>> {
        Ok(protocol::request(&self.stub, &command).await?)
    }

    /// The cart after the command; a refusal is answered as its problem.
    pub async fn send(&self, command: CartCommand) -> ApiResult<Cart> {
        self.ask(command).await?.map_err(|refusal| Problem::from(refusal).into())
    }
}

/// The workflows' cart port: one object per cart, addressed by id.
pub struct CartObjects<'a> {
    pub env: &'a Env,
}

impl CartObjects<'_> {
    async fn ask(&self, id: &CartId, command: CartCommand) -> Result<Result<Cart, CartRefusal>, Unavailable> {
        let client = CartClient::for_cart(self.env, id).map_err(|e| Unavailable(e.0.detail))?;
        protocol::request(&client.stub, &command).await
    }
}

impl CartPort for CartObjects<'_> {
    async fn cart(&self, id: &CartId) -> Result<Option<Cart>, Unavailable> {
        match self.ask(id, CartCommand::Get).await? {
            Ok(cart) => Ok(Some(cart)),
            Err(CartRefusal::NoSuchCart(_)) => Ok(None),
            Err(refusal) => Err(Unavailable(format!("reading cart {id} was refused: {refusal:?}"))),
        }
    }

    async fn close(&self, id: &CartId, order: &OrderId) -> Result<(), PortError<CartError>> {
        match self.ask(id, CartCommand::Close { order_id: order.clone() }).await? {
            Ok(_) => Ok(()),
            Err(CartRefusal::Refused(e)) => Err(PortError::Refused(e)),
            Err(refusal) => Err(PortError::Unavailable(Unavailable(format!("cart {id} not closed: {refusal:?}")))),
        }
    }
}
