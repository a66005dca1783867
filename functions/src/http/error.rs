//! Where anything that goes wrong becomes an `application/problem+json` response:
//! refusals with the status and code `problem.rs` gives them, platform failures as a
//! 500 that names nothing internal (the cause goes to the log only).

use omniedge::access::AccessError;
use crate::objects::stock::StockRefusal;
use omniedge::inventory::ledger::StockError;
use omniedge::workflows::lifecycle::MoveError;
use omniedge::workflows::placement::PlacementError;
use omniedge::workflows::returns::ReturnFlowError;
use omniedge::workflows::ports::{ClaimRefused, Unavailable};
use omniedge::workflows::settlement::SettleError;
use crate::http::problem::Problem;
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
        ApiError(e.into())
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
impl From<omniedge::returns::damaged::WriteOffError> for ApiError {
    fn from(e: omniedge::returns::damaged::WriteOffError) -> Self {
        ApiError(e.into())
    }
}
impl From<ClaimRefused> for ApiError {
    fn from(e: ClaimRefused) -> Self {
        ApiError(e.into())
    }
}
impl From<PlacementError> for ApiError {
    fn from(e: PlacementError) -> Self {
        match e {
            PlacementError::Settle(e) => e.into(),
            PlacementError::Unavailable(e) => e.into(),
            refused => ApiError(refused.into()),
        }
    }
}
impl From<MoveError> for ApiError {
    fn from(e: MoveError) -> Self {
        match e {
            MoveError::Settle(e) => e.into(),
            MoveError::Unavailable(e) => e.into(),
            refused => ApiError(refused.into()),
        }
    }
}
impl From<ReturnFlowError> for ApiError {
    fn from(e: ReturnFlowError) -> Self {
        match e {
            ReturnFlowError::Settle(e) => e.into(),
            ReturnFlowError::Unavailable(e) => e.into(),
            refused => ApiError(refused.into()),
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
    if let Some(seconds) = problem.extensions.get("retry_after").and_then(|s| s.as_u64()) {
        let _ = headers.set("retry-after", &seconds.to_string());
    }
    match Response::ok(body) {
        Ok(r) => r.with_status(problem.status).with_headers(headers),
        Err(_) => Response::empty().expect("empty response").with_status(500),
    }
}
