//! Calls a cart's Durable Object.

use crate::cart_object::CartCommand;
use crate::durable;
use crate::error::ApiResult;
use omniedge::cart::Cart;
use omniedge::ids::CartId;
use worker::{Env, Stub};

pub struct CartClient {
    stub: Stub,
}

impl CartClient {
    pub fn for_cart(env: &Env, id: &CartId) -> ApiResult<Self> {
        Ok(CartClient { stub: env.durable_object("CART")?.id_from_name(id.as_str())?.get_stub()? })
    }

    pub async fn send(&self, command: CartCommand) -> ApiResult<Cart> {
        durable::call(&self.stub, &command).await
    }
}
