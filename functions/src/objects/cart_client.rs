//! Calls a cart's Durable Object.

use crate::objects::cart::CartCommand;
use crate::objects::protocol;
use crate::http::error::ApiResult;
use omniedge::sales::cart::Cart;
use omniedge::shared::ids::CartId;
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
