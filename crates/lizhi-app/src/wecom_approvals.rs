//! Decisions and notices that come back from WeCom callbacks (already authenticated and decrypted by the
//! web layer): an approver pressing "approve" on a card, and status changes of WeCom's own approvals.

use crate::audit::{change, record};
use crate::events::{CardUpdate, WECOM_UPDATE_CHANNEL};
use crate::{App, AppError, Ctx, new_request_id};
use lizhi_core::case::approval::Decision;

/// Applies an "approve" pressed on an approval card. The WeCom account that pressed it must be the one
/// registered for the approver the card was sent to; a card for someone else, an unknown task or a step
/// already decided is refused (WeCom shows nothing; the refusal is in the log). With WeCom's
/// `response_code`, the card's buttons are then replaced by "approved" (through the outbox).
pub async fn approve_from_card(
    app: &App,
    connector: &str,
    wecom_userid: &str,
    task_id: &str,
    event_key: &str,
    response_code: &str,
) -> Result<i64, AppError> {
    let (case_id, _step_id, user_id) =
        crate::events::parse_task_id(task_id).ok_or_else(|| AppError::invalid("task_id", "invalid_input"))?;
    if event_key != "approve" {
        return Err(AppError::invalid("event_key", "invalid_input"));
    }
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let employee = lizhi_store::connectors::employee_of_account(&mut c, connector, wecom_userid)
        .await?
        .ok_or(AppError::Forbidden)?;
    let users = lizhi_store::users::list(&mut c).await?;
    drop(conn);
    let user = users
        .iter()
        .find(|u| u.id == user_id && u.employee_id == Some(employee) && !u.disabled)
        .ok_or(AppError::Forbidden)?;
    let ctx = Ctx::user(crate::auth::principal_of(user), new_request_id());
    crate::case_flow::decide(app, &ctx, case_id, Decision::Approve, Some("approved from the WeCom card")).await?;
    if !response_code.is_empty() {
        let locale = crate::events::locale_of(user);
        let update = CardUpdate {
            connector: connector.to_owned(),
            userid: wecom_userid.to_owned(),
            response_code: response_code.to_owned(),
            replace_name: crate::i18n::t(locale, "wecom-approved"),
        };
        queue_card_update(app, &update, Some(case_id)).await?;
    }
    Ok(case_id)
}

/// Queues an update of a pressed card (once per response code).
pub async fn queue_card_update(app: &App, update: &CardUpdate, case_id: Option<i64>) -> Result<bool, AppError> {
    let payload = serde_json::to_string(update).map_err(|e| AppError::Internal(e.to_string()))?;
    let key = format!("wecom_update:{}:card:{}", update.connector, update.response_code);
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let added = lizhi_store::outbox::enqueue_for(
        &mut c,
        WECOM_UPDATE_CHANNEL,
        &key,
        &update.connector,
        &payload,
        case_id,
        app.clock.now(),
    )
    .await?;
    if added {
        lizhi_store::wake::announce(&mut c).await?;
    }
    tx.commit().await?;
    app.outbox_signal.notify_one();
    Ok(added)
}

/// Records a callback Lizhi does not act on (a status change of an approval in WeCom's 审批 app, or another
/// event) in the audit log, so what WeCom told is kept with its time.
pub async fn record_notice(
    app: &App,
    connector: &str,
    event: &str,
    detail: &serde_json::Value,
) -> Result<(), AppError> {
    let ctx = Ctx::system(&format!("wecom:{connector}"));
    let mut tx = app.db.begin().await?;
    record(
        app,
        &mut tx.conn(),
        &ctx,
        &[change(&ctx, &format!("wecom.{event}"), "connector", connector, None, Some(detail))],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
