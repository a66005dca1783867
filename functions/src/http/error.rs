//! The one place where anything that goes wrong becomes an `application/problem+json`
//! response: domain errors keep their status and code, platform errors become a
//! 500 that names nothing internal (the cause goes to the log only).

use omniedge::access::AccessError;
use crate::objects::stock::StockRefusal;
use omniedge::inventory::ledger::StockError;
use omniedge::workflows::lifecycle::MoveError;
use omniedge::workflows::placement::PlacementError;
use omniedge::workflows::ports::{ClaimRefused, Unavailable};
use omniedge::workflows::settlement::SettleError;
use omniedge::Problem;
use worker::{Headers, Response};

#[derive(Debug)]
pub struct ApiError(pub Problem);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        ApiError(p)
    }
}
impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        ApiError(e.into())
    }
}
impl From<StockError> for ApiError {
    fn from(e: StockError) -> Self {
        ApiError(e.into())
    }
}
impl From<StockRefusal> for ApiError {
    fn from(e: StockRefusal) -> Self {
        match e {
            StockRefusal::Stock(refused) => refused.into(),
            StockRefusal::IdempotencyKeyReused => ApiError(Problem::unprocessable("idempotency_key_reused", e.to_string())),
        }
    }
}
impl From<Unavailable> for ApiError {
    fn from(e: Unavailable) -> Self {
        worker::console_error!("unavailable: {e}");
        ApiError(Problem::internal())
    }
}
impl From<SettleError> for ApiError {
    fn from(e: SettleError) -> Self {
        worker::console_error!("settling owed effects failed: {e}");
        ApiError(Problem::internal())
    }
}
impl From<ClaimRefused> for ApiError {
    fn from(e: ClaimRefused) -> Self {
        let detail = e.to_string();
        ApiError(match e {
            ClaimRefused::KeyReused => Problem::unprocessable("idempotency_key_reused", detail),
            ClaimRefused::InUse => Problem::conflict("idempotency_key_in_use", detail),
        })
    }
}
impl From<PlacementError> for ApiError {
    fn from(e: PlacementError) -> Self {
        let detail = e.to_string();
        match e {
            PlacementError::Order(e) => ApiError(e.into()),
            PlacementError::Origin(e) => ApiError(e.into()),
            PlacementError::Fulfilment(e) => ApiError(e.into()),
            PlacementError::Payment(e) => ApiError(e.into()),
            PlacementError::Cart(e) => ApiError(e.into()),
            PlacementError::Allocation(e) => ApiError(e.into()),
            PlacementError::Pricing(e) => ApiError(e.into()),
            PlacementError::Stock(e) => e.into(),
            PlacementError::CartNotFound(id) => ApiError(Problem::not_found("cart", id.as_str())),
            PlacementError::CouponNotFound(code) => ApiError(Problem::not_found("coupon", code.as_str())),
            PlacementError::CustomerNotFound(id) => ApiError(Problem::not_found("customer", id.as_str())),
            PlacementError::CouponUsedUp(code) => ApiError(Problem::conflict("coupon_used_up", detail).with("coupon", code)),
            PlacementError::CartJustOrdered(cart) => ApiError(Problem::conflict("cart_closed", detail).with("cart_id", cart)),
            PlacementError::Claim(e) => e.into(),
            PlacementError::Settle(e) => e.into(),
            PlacementError::Unavailable(e) => e.into(),
        }
    }
}
impl From<MoveError> for ApiError {
    fn from(e: MoveError) -> Self {
        match e {
            MoveError::NotFound(id) => ApiError(Problem::not_found("order", id.as_str())),
            MoveError::Access(e) => e.into(),
            MoveError::Lifecycle(e) => ApiError(e.into()),
            MoveError::Changed => ApiError(Problem::conflict("order_changed", e.to_string())),
            MoveError::Settle(e) => e.into(),
            MoveError::Unavailable(e) => e.into(),
        }
    }
}
impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        worker::console_error!("internal error: {e}");
        ApiError(Problem::internal())
    }
}
impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        worker::console_error!("internal serialization error: {e}");
        ApiError(Problem::internal())
    }
}

impl ApiError {
    pub fn into_response(self) -> Response {
        problem_response(&self.0)
    }
}

/// Renders a problem; falls back to a fixed body if even that fails.
pub fn problem_response(problem: &Problem) -> Response {
    let body = serde_json::to_string(problem).unwrap_or_else(|_| {
        r#"{"type":"https://omniedge.dev/problems/internal-error","title":"Internal Server Error","status":500,"code":"internal_error","detail":"internal error"}"#.into()
    });
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/problem+json");
    if let Some(allow) = problem.extensions.get("allow").and_then(|a| a.as_array()) {
        let methods: Vec<&str> = allow.iter().filter_map(|m| m.as_str()).collect();
        let _ = headers.set("allow", &methods.join(", "));
    }
    match Response::ok(body) {
        Ok(r) => r.with_status(problem.status).with_headers(headers),
        Err(_) => Response::empty().expect("empty response").with_status(500),
    }
}
