//! omniedge's edge functions: the Worker that binds the domain (the `omniedge` crate)
//! to HTTP routes, the per-SKU stock Durable Object and D1. Handlers here are thin:
//! parse input into domain types, call the domain, and map errors in `error.rs`.

mod auth;
mod cart_client;
mod cart_object;
mod config;
mod db;
mod durable;
mod error;
mod faults;
mod http;
mod router;
mod routes;
mod stock_client;
mod stock_object;

pub use cart_object::CartObject;
pub use stock_object::StockObject;

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(match router::dispatch(req, &env).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    })
}
