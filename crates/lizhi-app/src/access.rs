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
use lizhi_store::cases::CaseRow;
use lizhi_store::connectors::{self, ConnectorRow};
use std::collections::HashMap;

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
    let (accounts, added) = enqueue(&mut c, &case, intent, app.clock.now()).await?;
    let detail = serde_json::json!({"intent": intent.name(), "accounts": accounts, "queued": added});
    record(
        app,
        &mut c,
        ctx,
        &[change(ctx, &format!("case.access_{}", intent.name()), "case", &case_id.to_string(), None, Some(&detail))],
    )
    .await?;
    tx.commit().await?;
    if added > 0 {
        app.outbox_signal.notify_one();
    }
    Ok(added)
}

/// In the caller's transaction: one action per account the case's person holds in an enabled system with an
/// API, in revocation order, and for a revocation one checklist task per account in a manual system (door
/// access), owned by the person the connector names. Returns (accounts, actions added).
pub(crate) async fn enqueue(
    c: &mut lizhi_store::Conn<'_>,
    case: &CaseRow,
    intent: Intent,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(usize, u64), AppError> {
    let systems: HashMap<String, ConnectorRow> =
        connectors::list(c).await?.into_iter().filter(|k| k.enabled).map(|k| (k.code.clone(), k)).collect();
    let mut actions = Vec::new();
    let mut manual = Vec::new();
    for identity in connectors::identities_of(c, case.employee_id).await? {
        let Some(system) = systems.get(&identity.system) else { continue };
        match ConnectorKind::parse(&system.kind) {
            Some(ConnectorKind::Ldap | ConnectorKind::Scim | ConnectorKind::WeCom) => actions.push(NewAction {
                case_id: Some(case.id),
                employee_id: case.employee_id,
                connector_id: system.id,
                idempotency_key: format!(
                    "case:{}:{}:{}:{}",
                    case.id,
                    identity.system,
                    intent.name(),
                    identity.account_id
                ),
                account_id: identity.account_id,
                intent: intent.name().to_owned(),
                revoke_order: system.revoke_order,
            }),
            Some(ConnectorKind::Manual) if intent == Intent::Revoke => manual.push((system, identity.account_id)),
            _ => {}
        }
    }
    let added = store::enqueue(c, &actions, now).await?;
    if added > 0 {
        lizhi_store::wake::announce(c).await?;
    }
    if intent == Intent::Unfreeze {
        // A freeze undone on purpose is not drift: its day- and week-later checks are dropped.
        store::cancel_queued(c, case.id, "verify_freeze", now).await?;
    }
    if !manual.is_empty() {
        manual_tasks(c, case, &manual, now).await?;
    }
    Ok((actions.len(), added))
}

/// Settings of a manual connector: who does it, and how.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualSettings {
    /// Username of the person who revokes by hand (facilities for door access); else the case owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// What to do, shown on the task.
    #[serde(default)]
    pub instructions: Option<String>,
    /// Workdays the owner has (default 1).
    #[serde(default)]
    pub due_workdays: Option<u32>,
}

/// One open task per manual account, unless the case already has it.
async fn manual_tasks(
    c: &mut lizhi_store::Conn<'_>,
    case: &CaseRow,
    manual: &[(&ConnectorRow, String)],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    let existing = lizhi_store::checklist::of_case(c, case.id).await?;
    let users = lizhi_store::users::list(c).await?;
    let employee = lizhi_store::employees::get_by_id(c, case.employee_id).await?.ok_or(AppError::NotFound)?;
    let calendar = crate::case_flow::calendar_of(c, &employee).await?;
    let entity = crate::case_flow::entity_of(c, case.legal_entity_id).await?;
    let today = crate::case_flow::local_today(&entity.time_zone, now);
    let mut rows = Vec::new();
    for (system, account) in manual {
        let label = format!("{}: {account}", system.name);
        if existing.iter().chain(&rows).any(|i| i.item_key == MANUAL_ACCESS_KEY && i.label.as_deref() == Some(&label)) {
            continue;
        }
        let settings: ManualSettings = serde_json::from_str(&system.settings).unwrap_or_default();
        let owner = settings
            .owner
            .as_deref()
            .and_then(|name| users.iter().find(|u| u.username == name && !u.disabled))
            .map(|u| u.id)
            .or(case.owner_user_id);
        let days = settings.due_workdays.unwrap_or(1);
        let due = lizhi_core::case::checklist::Due::WorkdaysAfterApproval(days);
        rows.push(lizhi_store::checklist::ItemRow {
            id: 0,
            case_id: case.id,
            position: (existing.len() + rows.len()) as i64,
            item_key: MANUAL_ACCESS_KEY.into(),
            category: "access".into(),
            label: Some(label),
            asset_id: None,
            owner_user_id: owner,
            owner_role: None,
            due_rule: serde_json::to_string(&due).map_err(|e| AppError::Internal(e.to_string()))?,
            due_on: Some(calendar.add_workdays(today, days)),
            after_termination_only: false,
            status: "open".into(),
            note: settings.instructions,
            completed_at: None,
            completed_by: None,
        });
    }
    lizhi_store::checklist::insert(c, &rows).await?;
    Ok(())
}

/// The key of a checklist task to revoke an account by hand; done only with the evidence written down.
pub const MANUAL_ACCESS_KEY: &str = "manual_access";

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

/// Whether the case froze accounts and revoked none (a return then undoes the freeze; a revocation is not
/// undone by Lizhi: the accounts are provisioned again by their owners).
pub(crate) async fn only_frozen(c: &mut lizhi_store::Conn<'_>, case_id: i64) -> Result<bool, AppError> {
    let actions = store::of_case(c, case_id).await?;
    Ok(actions.iter().any(|a| a.intent == "freeze") && !actions.iter().any(|a| a.intent == "revoke"))
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
        if item.category != "access" || item.status != "open" || item.item_key == MANUAL_ACCESS_KEY {
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
