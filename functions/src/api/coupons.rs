//! Compensation and promotion coupons, valid in every channel; maintained by back-office.

use crate::d1;
use crate::http::error::ApiResult;
use crate::http::{json, json_body, now_rfc3339, path_id};
use omniedge::access::Principal;
use omniedge::pricing::coupon::{Coupon, CouponCode, CouponDraft};
use crate::http::problem::Problem;
use worker::{Env, Request, Response};

pub async fn put(code: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    caller.require_admin()?;
    let code = path_id(code, CouponCode::parse)?;
    let draft: CouponDraft = json_body(req).await?;
    let db = d1::database(env)?;
    let coupon = match d1::coupons::get(&db, &code).await? {
        Some(existing) => existing.revised(draft),
        None => Coupon::from_draft(code, draft),
    };
    let created = d1::coupons::put(&db, &coupon, &now_rfc3339()).await?;
    json(if created { 201 } else { 200 }, &coupon)
}

pub async fn get(code: &str, env: &Env) -> ApiResult<Response> {
    let code = path_id(code, CouponCode::parse)?;
    match d1::coupons::get(&d1::database(env)?, &code).await? {
        Some(coupon) => json(200, &coupon),
        None => Err(Problem::not_found("coupon", code.as_str()).into()),
    }
}
