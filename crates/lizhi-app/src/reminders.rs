//! Reminders and the message center.
//!
//! The job runs every minute on every instance. Each rule writes a message whose dedupe key is unique
//! (`item:7:due:2026-03-12`, `item:7:overdue:2026-03-13`, `step:4:user:9`…), so a rule fires exactly once (the
//! daily ones once a day) however many instances run it. An approval step past its deadline is escalated to
//! the approver's line manager, who may then decide it too.

use crate::audit::{change, record};
use crate::case_flow::local_today;
use crate::{App, AppError, Ctx};
use chrono::{DateTime, Days, NaiveDate, Utc};
use lizhi_core::model::User;
use lizhi_store::cases as cases_store;
use lizhi_store::notifications as store;
use lizhi_store::{Conn, approvals, employees, org, users};
use serde::Serialize;
use std::collections::HashMap;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ReminderRun {
    /// Messages written.
    pub sent: usize,
    /// Approval steps escalated.
    pub escalated: usize,
}

/// Local "today" per case, from its legal entity's time zone.
struct Todays {
    zones: HashMap<i64, String>,
    cases: HashMap<i64, i64>,
    now: DateTime<Utc>,
}

impl Todays {
    async fn load(c: &mut Conn<'_>, now: DateTime<Utc>) -> Result<Todays, AppError> {
        let zones = org::list_entities(c).await?.into_iter().map(|e| (e.id, e.time_zone)).collect();
        Ok(Todays { zones, cases: HashMap::new(), now })
    }

    async fn of_case(&mut self, c: &mut Conn<'_>, case_id: i64) -> Result<NaiveDate, AppError> {
        let entity = match self.cases.get(&case_id) {
            Some(e) => *e,
            None => {
                let e = cases_store::get(c, case_id, false).await?.map(|k| k.legal_entity_id).unwrap_or_default();
                self.cases.insert(case_id, e);
                e
            }
        };
        Ok(local_today(self.zones.get(&entity).map_or("UTC", String::as_str), self.now))
    }
}

/// The user account of an approver's line manager, if both are linked to employees.
async fn manager_of(c: &mut Conn<'_>, all: &[User], user_id: i64) -> Result<Option<i64>, AppError> {
    let Some(employee_id) = all.iter().find(|u| u.id == user_id).and_then(|u| u.employee_id) else { return Ok(None) };
    let Some(manager) = employees::get_by_id(c, employee_id).await?.and_then(|e| e.manager_id) else { return Ok(None) };
    Ok(all.iter().find(|u| u.employee_id == Some(manager) && !u.disabled).map(|u| u.id))
}

/// Writes every reminder that is due now and escalates overdue approvals.
pub async fn run(app: &App) -> Result<ReminderRun, AppError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let mut todays = Todays::load(&mut c, now).await?;
    let mut out = ReminderRun::default();
    let all = users::list(&mut c).await?;
    // Where each user's reminders are also e-mailed: their employee record's address, in their language.
    let mut mail_to: HashMap<i64, (String, crate::i18n::Locale)> = HashMap::new();
    if app.mail_enabled {
        for u in all.iter().filter(|u| !u.disabled) {
            let Some(employee) = u.employee_id else { continue };
            if let Some(email) = employees::get_by_id(&mut c, employee).await?.and_then(|e| e.email) {
                let locale =
                    u.locale.as_deref().and_then(crate::i18n::Locale::parse).unwrap_or(crate::i18n::Locale::ZhCn);
                mail_to.insert(u.id, (email, locale));
            }
        }
    }
    let send = async |c: &mut Conn<'_>, user: i64, kind: &str, case: i64, params: serde_json::Value, key: String| {
        let added = store::add(c, user, kind, Some(case), &params.to_string(), &key, now).await?;
        if let (true, Some((email, locale))) = (added, mail_to.get(&user)) {
            let message =
                Message { id: 0, kind: kind.to_owned(), case_id: Some(case), params, created_at: now, read: false };
            let text = message_text(*locale, &message);
            let subject =
                format!("{} · {}", crate::i18n::t(*locale, "app-name"), text.chars().take(60).collect::<String>());
            let body =
                format!("{text}\n\n{}", crate::i18n::t_args(*locale, "mail-footer", &[("case", &case.to_string())]));
            let payload = serde_json::json!(crate::mail::EmailPayload { subject, body }).to_string();
            lizhi_store::outbox::enqueue(c, crate::mail::CHANNEL, &format!("email:{key}"), email, &payload, now)
                .await?;
        }
        Ok::<bool, lizhi_store::StoreError>(added)
    };
    // Checklist items: the day before and on the due date, then daily once overdue.
    let horizon = now.date_naive().checked_add_days(Days::new(2)).unwrap_or(now.date_naive());
    for (item, case, owner, key, due) in store::open_items_due(&mut c, horizon).await? {
        let Some(owner) = owner else { continue };
        let today = todays.of_case(&mut c, case).await?;
        let params = serde_json::json!({"case": case, "item": key, "due": due.to_string()});
        let (kind, dedupe) = if today > due {
            ("item_overdue", format!("item:{item}:overdue:{today}"))
        } else if today.checked_add_days(Days::new(1)).is_some_and(|t| t >= due) {
            ("item_due", format!("item:{item}:due:{due}"))
        } else {
            continue;
        };
        out.sent += usize::from(send(&mut c, owner, kind, case, params, dedupe).await?);
    }
    // Approvals: once when assigned, daily when overdue, and escalation to the approver's manager.
    let pending = store::pending_approvals(&mut c).await?;
    let assigned: std::collections::HashSet<(i64, i64)> = pending.iter().map(|p| (p.1, p.4)).collect();
    for (case, step, name, due, user, escalated) in pending {
        let today = todays.of_case(&mut c, case).await?;
        let params = serde_json::json!({"case": case, "step": name, "due": due.map(|d| d.to_string())});
        if !escalated {
            let key = format!("step:{step}:user:{user}");
            out.sent += usize::from(send(&mut c, user, "approval_pending", case, params.clone(), key).await?);
        }
        if due.is_none_or(|d| today <= d) {
            continue;
        }
        let key = format!("step:{step}:user:{user}:overdue:{today}");
        out.sent += usize::from(send(&mut c, user, "approval_overdue", case, params.clone(), key).await?);
        if escalated {
            continue;
        }
        let Some(manager) = manager_of(&mut c, &all, user).await? else { continue };
        if assigned.contains(&(step, manager)) {
            continue;
        }
        // The escalation message is the manager's overdue reminder of the day.
        let key = format!("step:{step}:user:{manager}:overdue:{today}");
        if send(&mut c, manager, "approval_escalated", case, params, key).await? {
            approvals::add_assignee(&mut c, step, manager, true).await?;
            escalate_event(app, &mut c, case, &name, user, manager, &all, now).await?;
            out.sent += 1;
            out.escalated += 1;
        }
    }
    // A case whose period ran out: tell its owner once.
    for (case, owner, state, deadline) in store::lapsed_deadlines(&mut c, now.date_naive()).await? {
        let Some(owner) = owner else { continue };
        if todays.of_case(&mut c, case).await? <= deadline {
            continue;
        }
        let params = serde_json::json!({"case": case, "state": state, "deadline": deadline.to_string()});
        out.sent += usize::from(
            send(&mut c, owner, "deadline_passed", case, params, format!("case:{case}:deadline:{deadline}")).await?,
        );
    }
    tx.commit().await?;
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn escalate_event(
    app: &App,
    c: &mut Conn<'_>,
    case_id: i64,
    step: &str,
    from: i64,
    to: i64,
    all: &[User],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(case) = cases_store::get(c, case_id, false).await? else { return Ok(()) };
    let name = |id: i64| all.iter().find(|u| u.id == id).map(|u| u.username.clone()).unwrap_or_default();
    let detail = serde_json::json!({"step": step, "overdue_approver": name(from), "escalated_to": name(to)});
    let ctx = Ctx::system("system:reminders");
    crate::cases::timeline(c, &case, "approval_escalated", &case.state, &detail, &ctx.actor, now).await?;
    record(app, c, &ctx, &[change(&ctx, "case.approval_escalated", "case", &case_id.to_string(), None, Some(&detail))])
        .await
}

/// One message as the message center shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// Id.
    pub id: i64,
    /// Rule.
    pub kind: String,
    /// The case.
    pub case_id: Option<i64>,
    /// Translation arguments.
    pub params: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Read yet.
    pub read: bool,
}

/// The caller's messages, unread first.
pub async fn inbox(app: &App, ctx: &Ctx, limit: i64) -> Result<Vec<Message>, AppError> {
    let principal = ctx.principal.as_ref().ok_or(AppError::Forbidden)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::of_user(&mut conn.conn(), principal.user_id, limit.clamp(1, 500))
        .await?
        .into_iter()
        .map(|n| Message {
            id: n.id,
            kind: n.kind,
            case_id: n.case_id,
            params: serde_json::from_str(&n.params).unwrap_or(serde_json::Value::Null),
            created_at: n.created_at,
            read: n.read_at.is_some(),
        })
        .collect())
}

/// Marks the caller's messages read.
pub async fn mark_read(app: &App, ctx: &Ctx) -> Result<u64, AppError> {
    let principal = ctx.principal.as_ref().ok_or(AppError::Forbidden)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::mark_read(&mut conn.conn(), principal.user_id, app.clock.now()).await?)
}

/// A message in words, in the reader's language.
pub fn message_text(l: crate::i18n::Locale, m: &Message) -> String {
    let p = |k: &str| {
        m.params.get(k).and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|n| n.to_string())))
    };
    let item = p("item").map(|k| crate::i18n::t(l, &format!("checklist-{k}"))).unwrap_or_default();
    let step = p("step").map(|k| crate::i18n::t(l, &format!("approval-step-{k}"))).unwrap_or_default();
    let state = p("state").map(|k| crate::i18n::t(l, &format!("case-state-{k}"))).unwrap_or_default();
    let case = p("case").unwrap_or_default();
    let due = p("due").or_else(|| p("deadline")).unwrap_or_default();
    let system = p("system").unwrap_or_default();
    crate::i18n::t_args(
        l,
        &format!("notification-{}", m.kind),
        &[("case", &case), ("item", &item), ("step", &step), ("state", &state), ("due", &due), ("system", &system)],
    )
}
