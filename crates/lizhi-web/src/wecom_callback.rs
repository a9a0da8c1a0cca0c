//! WeCom's callback URL, one per WeCom connector: `/wecom/callback/{code}`. It carries no session; WeCom
//! proves each request with `msg_signature` (SHA-1 over the connector's callback token, the timestamp, the
//! nonce and the ciphertext) and encrypts the body with the connector's EncodingAESKey. Anything that fails
//! either check, or is older than the replay window, is refused before it is read.

use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lizhi_connectors::wecom::callback::{CallbackEvent, parse_event};
use lizhi_connectors::wecom::crypto::{CallbackCrypto, extract_encrypt};
use serde::Deserialize;

/// How far a callback's timestamp may be from now: WeCom retries within seconds; older is a replay.
const REPLAY_WINDOW_SECS: i64 = 300;

/// The query WeCom adds to every callback.
#[derive(Deserialize)]
pub struct Signed {
    msg_signature: String,
    timestamp: String,
    nonce: String,
    /// Only on URL verification.
    echostr: Option<String>,
}

fn refuse(status: StatusCode, code: &str) -> Response {
    (status, code.to_owned()).into_response()
}

/// The connector's callback crypto; an unknown code, another kind or missing callback keys look the same
/// from outside (404), and the reason goes to the log only.
async fn crypto_of(s: &AppState, code: &str) -> Result<CallbackCrypto, Response> {
    let ctx = lizhi_app::Ctx::system("wecom-callback");
    let (kind, settings, secret) = lizhi_app::connectors::config(&s.app, &ctx, code)
        .await
        .map_err(|_| refuse(StatusCode::NOT_FOUND, "unknown_callback"))?;
    if kind != "wecom" {
        return Err(refuse(StatusCode::NOT_FOUND, "unknown_callback"));
    }
    lizhi_connectors::configured::wecom_callback(&settings, secret.as_deref()).map_err(|e| {
        tracing::warn!(connector = code, error = %e, "WeCom callback without usable keys");
        refuse(StatusCode::NOT_FOUND, "unknown_callback")
    })
}

fn fresh(s: &AppState, timestamp: &str) -> bool {
    timestamp.parse::<i64>().is_ok_and(|t| (s.app.clock.now().timestamp() - t).abs() <= REPLAY_WINDOW_SECS)
}

/// `GET /wecom/callback/{code}`: WeCom's URL verification; answers the decrypted `echostr` verbatim.
pub async fn verify_url(State(s): State<AppState>, Path(code): Path<String>, Query(q): Query<Signed>) -> Response {
    let crypto = match crypto_of(&s, &code).await {
        Ok(crypto) => crypto,
        Err(response) => return response,
    };
    let Some(echostr) = q.echostr.as_deref() else { return refuse(StatusCode::BAD_REQUEST, "missing_echostr") };
    if !fresh(&s, &q.timestamp) {
        return refuse(StatusCode::FORBIDDEN, "stale_timestamp");
    }
    match crypto.verify_url(&q.msg_signature, &q.timestamp, &q.nonce, echostr) {
        Ok(plain) => (StatusCode::OK, plain).into_response(),
        Err(e) => {
            tracing::warn!(connector = %code, code = e.code(), "WeCom URL verification refused");
            refuse(StatusCode::FORBIDDEN, e.code())
        }
    }
}

/// `POST /wecom/callback/{code}`: a signed, encrypted event. A card's "approve" becomes the approver's
/// decision; an approval change of WeCom's 审批 app goes to the audit log. Answers an empty 200 once the
/// event is handled (WeCom retries otherwise); a forged or stale request gets 403 and changes nothing.
pub async fn receive(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<Signed>,
    body: String,
) -> Response {
    let crypto = match crypto_of(&s, &code).await {
        Ok(crypto) => crypto,
        Err(response) => return response,
    };
    if !fresh(&s, &q.timestamp) {
        return refuse(StatusCode::FORBIDDEN, "stale_timestamp");
    }
    let opened = extract_encrypt(&body)
        .and_then(|encrypted| crypto.decrypt(&q.msg_signature, &q.timestamp, &q.nonce, &encrypted))
        .and_then(|plain| parse_event(&plain));
    let event = match opened {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(connector = %code, code = e.code(), "WeCom callback refused");
            let status = if e.code() == "wecom_bad_xml" { StatusCode::BAD_REQUEST } else { StatusCode::FORBIDDEN };
            return refuse(status, e.code());
        }
    };
    let handled = match &event {
        CallbackEvent::TemplateCardEvent { from_user, event_key, task_id, response_code, .. } => {
            let approve = lizhi_app::wecom_approvals::approve_from_card(
                &s.app,
                &code,
                from_user,
                task_id,
                event_key,
                response_code,
            );
            match approve.await {
                Ok(_) => Ok(()),
                // Pressed by someone else, twice, or after the step moved on: nothing to do, but keep it.
                Err(e) if !matches!(e, lizhi_app::AppError::Store(_) | lizhi_app::AppError::Internal(_)) => {
                    let detail = serde_json::json!({"event": event, "refused": e.code()});
                    lizhi_app::wecom_approvals::record_notice(&s.app, &code, "card_refused", &detail).await
                }
                Err(e) => Err(e),
            }
        }
        CallbackEvent::SysApprovalChange { .. } => {
            let detail = serde_json::to_value(&event).unwrap_or_default();
            lizhi_app::wecom_approvals::record_notice(&s.app, &code, "sys_approval_change", &detail).await
        }
        CallbackEvent::Other { .. } => Ok(()),
    };
    match handled {
        Ok(()) => (StatusCode::OK, "").into_response(),
        Err(e) => {
            tracing::warn!(connector = %code, error = %e, "WeCom callback not handled; WeCom will retry");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "retry_later")
        }
    }
}
