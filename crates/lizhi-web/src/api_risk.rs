//! The risk API: live evaluation, the stored board, and scans.

use crate::AppState;
use crate::api::{ApiResult, ctx};
use crate::caller::{Caller, Lang};
use crate::error::ApiError;
use crate::middleware::RequestId;
use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::response::IntoResponse;
use lizhi_app::risk_board::BoardQuery;
use serde::Deserialize;

/// Query string of the risk listing.
#[derive(Debug, Deserialize)]
pub struct RiskParams {
    /// The day to evaluate, through its end (`YYYY-MM-DD`).
    pub as_of: chrono::NaiveDate,
    /// Only this legal entity (code).
    pub legal_entity: Option<String>,
}

/// `GET /api/v1/risk?as_of=…`: who is yellow or red at the end of a day, with the rules and facts
/// (a manager sees only their subtree).
pub async fn risk(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<RiskParams>,
) -> ApiResult {
    let query = lizhi_app::risk::RiskQuery { legal_entity: p.legal_entity, ..Default::default() };
    let items = lizhi_app::risk::scan(&s.app, &ctx(&caller, &rid), p.as_of, &query)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({"as_of": p.as_of, "items": items})).into_response())
}

/// Query string of the stored board.
#[derive(Debug, Deserialize, Default)]
pub struct BoardParams {
    /// A day whose stored scans to show; the latest scans when absent.
    pub as_of: Option<chrono::NaiveDate>,
    /// Only this legal entity (code).
    pub legal_entity: Option<String>,
    /// Only this org unit and below (code).
    pub org_unit: Option<String>,
    /// Include dismissed episodes.
    #[serde(default)]
    pub dismissed: bool,
}

/// `GET /api/v1/risk/board`: the alert episodes of the latest stored scans, with their status.
pub async fn risk_board(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<BoardParams>,
) -> ApiResult {
    let query = BoardQuery {
        legal_entity: p.legal_entity,
        org_unit: p.org_unit,
        include_dismissed: p.dismissed,
        explanations: true,
    };
    let board = lizhi_app::risk_board::board(&s.app, &ctx(&caller, &rid), p.as_of, &query)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(board).into_response())
}

/// Query string of the scan history.
#[derive(Debug, Deserialize, Default)]
pub struct ScansParams {
    /// How many (1–200, default 50).
    pub limit: Option<i64>,
}

/// `GET /api/v1/risk/scans`: recent scans, newest first.
pub async fn risk_scans(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<ScansParams>,
) -> ApiResult {
    let limit = p.limit.unwrap_or(50).clamp(1, 200);
    let scans = lizhi_app::risk_scan::history(&s.app, &ctx(&caller, &rid), limit)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({"items": scans})).into_response())
}

/// Body of a manual scan.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanBody {
    /// Legal entity code.
    pub legal_entity: String,
    /// The day to evaluate; the entity's last complete day when absent.
    pub as_of: Option<chrono::NaiveDate>,
}

/// `POST /api/v1/risk/scans`: scans one legal entity now and stores its alerts.
pub async fn risk_scan_now(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Json(body): Json<ScanBody>,
) -> ApiResult {
    let scan = lizhi_app::risk_scan::scan_now(&s.app, &ctx(&caller, &rid), &body.legal_entity, body.as_of)
        .await
        .map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(scan).into_response())
}
