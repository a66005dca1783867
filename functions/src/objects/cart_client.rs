//! Calls a cart's Durable Object.

use crate::objects::cart::CartCommand;
use crate::objects::protocol;
use crate::http::error::ApiResult;
use omniedge::sales::cart::{Cart, CartError};
use omniedge::workflows::ports::{CartPort, PortError, Unavailable};
use omniedge::shared::ids::{CartId, OrderId};
use worker::{Env, Stub};

pub struct CartClient {
    stub: Stub,
}

impl CartClient {
    pub fn for_cart(env: &Env, id: &CartId) -> ApiResult<Self> {
        Ok(CartClient { stub: env.durable_object("CART")?.id_from_name(id.as_str())?.get_stub()? })
    }

    pub async fn send(&self, command: CartCommand) -> ApiResult<Cart> {
        protocol::call(&self.stub, &command).await
    }
}

/// The workflows' cart port: one object per cart, addressed by id.
pub struct CartObjects<'a> {
    pub env: &'a Env,
}

impl CartPort for CartObjects<'_> {
    async fn cart(&self, id: &CartId) -> Result<Option<Cart>, Unavailable> {
        let client = CartClient::for_cart(self.env, id).map_err(|e| Unavailable(e.0.detail))?;
        match client.send(CartCommand::Get).await {
            Ok(cart) => Ok(Some(cart)),
            Err(e) if e.0.status == 404 => Ok(None),
            Err(e) => Err(Unavailable(e.0.detail)),
        }
    }

    async fn close(&self, id: &CartId, order: &OrderId) -> Result<(), PortError<CartError>> {
        let client = CartClient::for_cart(self.env, id).map_err(|e| Unavailable(e.0.detail))?;
        match client.send(CartCommand::Close { order_id: order.clone() }).await {
            Ok(_) => Ok(()),
            Err(e) if e.0.status == 409 => Err(PortError::Refused(CartError::Closed(id.clone()))),
            Err(e) => Err(PortError::Unavailable(Unavailable(e.0.detail))),
        }
    }
}
