//! Shopper sessions: a storefront's server, having logged its shopper in, asks for a
//! short-lived signed token for that customer (`omniedge::access::session`), which the
//! shopper's browser sends with the publishable key to reach its own data.

use crate::api::customers;
use crate::config;
use crate::d1;
use crate::http::error::ApiResult;
use crate::http::problem::Problem;
use crate::http::{json, json_body};
use chrono::{DateTime, Utc};
use omniedge::access::session::{self, SessionRequest, DEFAULT_TTL_SECONDS};
use omniedge::access::Principal;
use omniedge::sales::origin::SalesOrigin;
use omniedge::shared::channel::Channel;
use omniedge::shared::ids::CustomerId;
use serde::Serialize;
use worker::{Env, Request, Response};

#[derive(Serialize)]
struct Issued {
    token: String,
    token_type: &'static str,
    customer_id: CustomerId,
    channel: Channel,
    expires_at: DateTime<Utc>,
}

pub async fn create(req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    caller.may_maintain_customers()?;
    let asked: SessionRequest = json_body(req).await?;
    let channel = SalesOrigin::for_caller(caller, asked.channel, None).map_err(Problem::from)?.channel();
    let keys = config::shopper_signing_keys(env)?.ok_or_else(Problem::sessions_not_configured)?;
    customers::find(&d1::database(env)?, &asked.customer_id).await?;
    let ttl = asked.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    let (token, issued) = session::issue(&keys, asked.customer_id, channel, ttl, Utc::now());
    let answer = Issued { token, token_type: "shopper", customer_id: issued.customer_id, channel: issued.channel, expires_at: issued.expires_at };
    json(201, &answer)
}
