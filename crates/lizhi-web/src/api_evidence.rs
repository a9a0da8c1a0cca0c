//! The audit log's state and the evidence bundles, for auditors and legal.

use crate::AppState;
use crate::api::{ApiResult, ctx};
use crate::caller::{Caller, Lang};
use crate::error::ApiError;
use crate::middleware::RequestId;
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use lizhi_app::evidence::{self, Bundle};

fn zip_response(bundle: Bundle) -> axum::response::Response {
    let disposition = format!("attachment; filename=\"{}\"", bundle.file_name);
    ([(header::CONTENT_TYPE, "application/zip".to_owned()), (header::CONTENT_DISPOSITION, disposition)], bundle.bytes)
        .into_response()
}

/// `GET /api/v1/cases/{id}/evidence` (and the case page's button): the case's evidence bundle.
pub async fn case_bundle(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> ApiResult {
    let bundle = evidence::export_case(&s.app, &ctx(&caller, &rid), id).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(zip_response(bundle))
}

/// `GET /api/v1/employees/{no}/evidence`: one person's evidence bundle (all their cases and events).
pub async fn employee_bundle(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
) -> ApiResult {
    let bundle =
        evidence::export_employee(&s.app, &ctx(&caller, &rid), &no).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(zip_response(bundle))
}

/// `GET /api/v1/audit/log`: how much of the log is signed, the newest checkpoint and the verifier keys.
pub async fn log_status(
    State(s): State<AppState>,
    caller: Caller,
    Lang(l): Lang,
    Extension(rid): Extension<RequestId>,
) -> ApiResult {
    let status =
        lizhi_app::audit_log::status(&s.app, &ctx(&caller, &rid)).await.map_err(|e| ApiError::from_app(e, l))?;
    Ok(Json(serde_json::json!({
        "events": status.head,
        "signed": status.signed,
        "signed_at": status.signed_at,
        "checkpoint": status.note,
        "keys": status.keys,
    }))
    .into_response())
}
