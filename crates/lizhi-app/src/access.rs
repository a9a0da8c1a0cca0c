//! Cutting a departing person's access: one request queues an action per registered account, in the
//! revocation order (directories and SSO first, WeCom last); workers perform and verify them (see
//! `lizhi-connectors::access_worker`). Manual systems and webhooks are not queued here: the checklist and
//! the webhook worker cover them.

use crate::audit::{change, record};
use crate::cases::visible_case;
use crate::{App, AppError, Ctx};
use lizhi_core::auth::Permission;
use lizhi_core::connector::{ConnectorKind, Intent};
use lizhi_store::access::{self as store, ActionView, NewAction};
use lizhi_store::connectors;

/// Whether an intent may be asked for a case in its present state: revocation only once the departure is
/// confirmed (absconding) — before that only the reversible freeze.
fn allowed(case: &lizhi_store::cases::CaseRow, intent: Intent) -> bool {
    intent != Intent::Revoke || case.case_type != "absconding" || case.confirmed_at.is_some()
}

/// Queues `intent` (`freeze`, `unfreeze` or `revoke`) on every account of the case's person; returns how many
/// actions were added (a repeated request adds none).
pub async fn request(app: &App, ctx: &Ctx, case_id: i64, requested: &str) -> Result<u64, AppError> {
    ctx.require(Permission::WorkCases)?;
    let intent = Intent::parse(requested).ok_or_else(|| AppError::invalid("intent", "unknown_intent"))?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let case = visible_case(&mut c, ctx, case_id, true).await?;
    if !allowed(&case, intent) {
        return Err(AppError::invalid("intent", "not_confirmed"));
    }
    let systems: std::collections::HashMap<String, (i64, i32, bool)> = connectors::list(&mut c)
        .await?
        .into_iter()
        .filter(|k| {
            matches!(
                ConnectorKind::parse(&k.kind),
                Some(ConnectorKind::Ldap | ConnectorKind::Scim | ConnectorKind::WeCom)
            )
        })
        .map(|k| (k.code, (k.id, k.revoke_order, k.enabled)))
        .collect();
    let actions: Vec<NewAction> = connectors::identities_of(&mut c, case.employee_id)
        .await?
        .into_iter()
        .filter_map(|i| {
            let &(connector_id, revoke_order, enabled) = systems.get(&i.system)?;
            enabled.then(|| NewAction {
                case_id: Some(case_id),
                employee_id: case.employee_id,
                connector_id,
                idempotency_key: format!("case:{case_id}:{}:{}:{}", i.system, intent.name(), i.account_id),
                account_id: i.account_id,
                intent: intent.name().to_owned(),
                revoke_order,
            })
        })
        .collect();
    let added = store::enqueue(&mut c, &actions, app.clock.now()).await?;
    let detail = serde_json::json!({"intent": intent.name(), "accounts": actions.len(), "queued": added});
    record(
        app,
        &mut c,
        ctx,
        &[change(ctx, &format!("case.access_{}", intent.name()), "case", &case_id.to_string(), None, Some(&detail))],
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// The case's access actions, system by system (the case page's matrix).
pub async fn matrix(app: &App, ctx: &Ctx, case_id: i64) -> Result<Vec<ActionView>, AppError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    visible_case(&mut c, ctx, case_id, false).await?;
    Ok(store::of_case(&mut c, case_id).await?)
}

/// Raises the alarm when a re-verification finds access back (an account re-enabled after revocation): a
/// message to the case's owner and the HR supervisors, once per finding, and an audit event.
pub async fn alarm_drift(app: &App, action_id: i64, case_id: i64, system: &str) -> Result<usize, AppError> {
    let ctx = Ctx::system("access-worker");
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let case = lizhi_store::cases::get(&mut c, case_id, false).await?.ok_or(AppError::NotFound)?;
    let all = lizhi_store::users::list(&mut c).await?;
    let mut recipients = crate::case_flow::with_role(&all, lizhi_core::auth::Role::HrSupervisor);
    recipients.extend(case.owner_user_id);
    recipients.sort_unstable();
    recipients.dedup();
    let params = serde_json::json!({"case": case_id, "system": system}).to_string();
    let now = app.clock.now();
    let mut sent = 0;
    for user in &recipients {
        let key = format!("access_drift:{action_id}:{user}");
        if lizhi_store::notifications::add(&mut c, *user, "access_drift", Some(case_id), &params, &key, now).await? {
            sent += 1;
        }
    }
    let detail = serde_json::json!({"system": system, "action": action_id, "notified": sent});
    record(app, &mut c, &ctx, &[change(&ctx, "case.access_drift", "case", &case_id.to_string(), None, Some(&detail))])
        .await?;
    tx.commit().await?;
    Ok(sent)
}

/// Whether the case's revocations are all seen done by their systems; true when none were asked for (a
/// person without registered accounts is handled by hand, and the item's owner attests it).
pub(crate) async fn all_revocations_verified(c: &mut lizhi_store::Conn<'_>, case_id: i64) -> Result<bool, AppError> {
    let (asked, verified) = store::revoke_summary(c, case_id).await?;
    Ok(asked == verified)
}

/// Closes the case's open access items once every revocation is verified (the worker calls this).
pub async fn close_verified_access_items(app: &App, case_id: i64) -> Result<usize, AppError> {
    let ctx = Ctx::system("access-worker");
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let (asked, verified) = store::revoke_summary(&mut c, case_id).await?;
    if asked == 0 || asked != verified {
        return Ok(0);
    }
    let case = lizhi_store::cases::get(&mut c, case_id, true).await?.ok_or(AppError::NotFound)?;
    let now = app.clock.now();
    let note = format!("verified in {verified} system(s)");
    let mut closed = 0;
    for item in lizhi_store::checklist::of_case(&mut c, case_id).await? {
        if item.category != "access" || item.status != "open" {
            continue;
        }
        lizhi_store::checklist::set_status(&mut c, item.id, "done", Some(&note), Some(&ctx.actor), Some(now)).await?;
        let detail = serde_json::json!({"item": item.item_key, "status": "done", "note": note});
        crate::cases::timeline(&mut c, &case, "checklist_item", &case.state, &detail, &ctx.actor, now).await?;
        record(
            app,
            &mut c,
            &ctx,
            &[change(&ctx, "case.checklist_item", "case", &case_id.to_string(), None, Some(&detail))],
        )
        .await?;
        closed += 1;
    }
    tx.commit().await?;
    Ok(closed)
}

/// How many access actions each connector has in each status (administrators).
pub async fn status(app: &App, ctx: &Ctx) -> Result<Vec<(String, String, i64)>, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::status_counts(&mut conn.conn()).await?)
}
