//! A case as the case page and the API show it: the case, its timeline, contacts, notices, approvals and
//! checklist, with user names instead of ids.

use crate::cases::visible_case;
use crate::{App, AppError, Ctx};
use chrono::{DateTime, NaiveDate, Utc};
use lizhi_store::cases as store;
use lizhi_store::{approvals, checklist, employees, users};
use serde::Serialize;
use std::collections::HashMap;

/// One case, whole.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    /// Id.
    pub id: i64,
    /// Employee number.
    pub employee_no: String,
    /// Employee name.
    pub employee_name: String,
    /// Entity code.
    pub legal_entity: String,
    /// Unit code.
    pub org_unit: String,
    /// Type name.
    pub case_type: String,
    /// State name.
    pub state: String,
    /// Policy version applied.
    pub policy_version: i64,
    /// First unexplained day.
    pub first_absent_date: Option<NaiveDate>,
    /// Last day worked (from attendance).
    pub last_working_day: Option<NaiveDate>,
    /// Return-notice round.
    pub return_round: i64,
    /// Protected-status screen.
    pub protected_status: Option<bool>,
    /// Approval chain completed on.
    pub approved_on: Option<NaiveDate>,
    /// Union notified on.
    pub union_notified_on: Option<NaiveDate>,
    /// Union replied on.
    pub union_replied_on: Option<NaiveDate>,
    /// Last day of the running period.
    pub deadline: Option<NaiveDate>,
    /// Contract end.
    pub effective_on: Option<NaiveDate>,
    /// How a returned case was resolved.
    pub resolution: Option<String>,
    /// Rehire eligibility.
    pub rehire_eligible: Option<bool>,
    /// Why it differs from the default.
    pub rehire_reason: Option<String>,
    /// The resignation case this one became.
    pub converted_to: Option<i64>,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// By.
    pub opened_by: String,
    /// Departure confirmed (start of the evidence chain).
    pub confirmed_at: Option<DateTime<Utc>>,
    /// By.
    pub confirmed_by: Option<String>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Every action, oldest first.
    pub events: Vec<EventView>,
    /// Contact log.
    pub contacts: Vec<ContactView>,
    /// Notices and receipts.
    pub notices: Vec<NoticeView>,
    /// Approval steps.
    pub approvals: Vec<StepView>,
    /// Checklist.
    pub checklist: Vec<ItemView>,
    /// Documents generated for the case, with the SHA-256 of each PDF.
    pub documents: Vec<crate::case_docs::DocumentView>,
    /// Steps the case's policy switched off, which may be skipped with a reason (`return_notice`, `union`).
    pub skippable_steps: Vec<&'static str>,
    /// The legal entity's time zone (dates on the page are local).
    pub time_zone: String,
}

/// One timeline entry.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    /// Action name.
    pub action: String,
    /// State before.
    pub from_state: String,
    /// State after.
    pub to_state: String,
    /// Who.
    pub actor: String,
    /// Server time.
    pub at: DateTime<Utc>,
    /// Inputs.
    pub detail: serde_json::Value,
}

/// One contact attempt.
#[derive(Debug, Clone, Serialize)]
pub struct ContactView {
    /// Channel.
    pub channel: String,
    /// Outcome.
    pub outcome: String,
    /// Note.
    pub note: Option<String>,
    /// When.
    pub happened_at: DateTime<Utc>,
    /// Who.
    pub actor: String,
}

/// One notice.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    /// Id (receipts name it).
    pub id: i64,
    /// `return_to_work` or `termination`.
    pub kind: String,
    /// Round.
    pub round: i64,
    /// Method.
    pub method: String,
    /// Sent on.
    pub dispatched_on: NaiveDate,
    /// Tracking number.
    pub tracking_no: Option<String>,
    /// Why announcement.
    pub reason: Option<String>,
    /// Receipt outcome.
    pub receipt_outcome: Option<String>,
    /// Received on.
    pub received_on: Option<NaiveDate>,
    /// Receipt note.
    pub receipt_note: Option<String>,
}

/// One approval step.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    /// Name.
    pub name: String,
    /// `any_of` / `all_of`.
    pub mode: String,
    /// Started on.
    pub activated_on: Option<NaiveDate>,
    /// Deadline.
    pub due_on: Option<NaiveDate>,
    /// Who may decide (user names; escalated ones marked).
    pub assignees: Vec<String>,
    /// Decisions.
    pub decisions: Vec<DecisionView>,
}

/// One decision.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    /// User name.
    pub user: String,
    /// `approve` / `reject`.
    pub decision: String,
    /// Comment.
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// One checklist item.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    /// Id.
    pub id: i64,
    /// Template key.
    pub key: String,
    /// Category.
    pub category: String,
    /// Extra label.
    pub label: Option<String>,
    /// Owner's user name.
    pub owner: Option<String>,
    /// Owner's role.
    pub owner_role: Option<String>,
    /// Deadline.
    pub due_on: Option<NaiveDate>,
    /// Only after termination.
    pub after_termination_only: bool,
    /// `open` / `done` / `waived`.
    pub status: String,
    /// Note.
    pub note: Option<String>,
    /// Completed by.
    pub completed_by: Option<String>,
    /// Attached files.
    pub attachments: Vec<AttachmentView>,
}

/// A file attached to a checklist item.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    /// Id (download with `GET /api/v1/attachments/{id}`).
    pub id: i64,
    /// File name.
    pub file_name: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes.
    pub sha256: String,
    /// Who uploaded it.
    pub uploaded_by: String,
}

/// One case with everything on it, if the caller may see it.
pub async fn get(app: &App, ctx: &Ctx, id: i64) -> Result<CaseDetail, AppError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let k = visible_case(&mut c, ctx, id, false).await?;
    let employee = employees::get_by_id(&mut c, k.employee_id).await?.ok_or(AppError::NotFound)?;
    let names: HashMap<i64, String> = users::list(&mut c).await?.into_iter().map(|u| (u.id, u.username)).collect();
    let name = |id: &i64| names.get(id).cloned().unwrap_or_else(|| format!("#{id}"));
    let events = store::events(&mut c, id)
        .await?
        .into_iter()
        .map(|e| EventView {
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
            action: e.action,
            from_state: e.from_state,
            to_state: e.to_state,
            actor: e.actor,
            at: e.at,
        })
        .collect();
    let contacts = store::contacts(&mut c, id)
        .await?
        .into_iter()
        .map(|r| ContactView {
            channel: r.channel,
            outcome: r.outcome,
            note: r.note,
            happened_at: r.happened_at,
            actor: r.actor,
        })
        .collect();
    let notices = store::notices(&mut c, id)
        .await?
        .into_iter()
        .map(|n| NoticeView {
            id: n.id,
            kind: n.kind,
            round: n.round,
            method: n.method,
            dispatched_on: n.dispatched_on,
            tracking_no: n.tracking_no,
            reason: n.reason,
            receipt_outcome: n.receipt_outcome,
            received_on: n.received_on,
            receipt_note: n.receipt_note,
        })
        .collect();
    let approvals = approvals::steps(&mut c, id)
        .await?
        .into_iter()
        .map(|s| StepView {
            assignees: s
                .assignees
                .iter()
                .map(|(u, esc)| if *esc { format!("{} ↑", name(u)) } else { name(u) })
                .collect(),
            decisions: s
                .decisions
                .iter()
                .map(|(u, d, comment, at)| DecisionView {
                    user: name(u),
                    decision: d.clone(),
                    comment: comment.clone(),
                    at: *at,
                })
                .collect(),
            name: s.name,
            mode: s.mode,
            activated_on: s.activated_on,
            due_on: s.due_on,
        })
        .collect();
    let files = checklist::attachments_of_case(&mut c, id).await?;
    let checklist = checklist::of_case(&mut c, id)
        .await?
        .into_iter()
        .map(|i| ItemView {
            attachments: files
                .iter()
                .filter(|a| a.item_id == i.id)
                .map(|a| AttachmentView {
                    id: a.id,
                    file_name: a.file_name.clone(),
                    size: a.size,
                    sha256: a.sha256.clone(),
                    uploaded_by: a.uploaded_by.clone(),
                })
                .collect(),
            owner: i.owner_user_id.as_ref().map(name),
            id: i.id,
            key: i.item_key,
            category: i.category,
            label: i.label,
            owner_role: i.owner_role,
            due_on: i.due_on,
            after_termination_only: i.after_termination_only,
            status: i.status,
            note: i.note,
            completed_by: i.completed_by,
        })
        .collect();
    let documents = lizhi_store::documents::of_case(&mut c, id).await?.into_iter().map(Into::into).collect();
    let policy = crate::cases::policy_of(&k)?;
    let mut skippable_steps = Vec::new();
    if !policy.return_notice_required {
        skippable_steps.push("return_notice");
    }
    if !policy.union_notice_required {
        skippable_steps.push("union");
    }
    let time_zone = lizhi_store::org::list_entities(&mut c)
        .await?
        .into_iter()
        .find(|e| e.id == k.legal_entity_id)
        .map_or_else(|| "UTC".to_owned(), |e| e.time_zone);
    Ok(CaseDetail {
        id: k.id,
        employee_no: employee.employee_no,
        employee_name: employee.name,
        legal_entity: employee.legal_entity_code,
        org_unit: employee.org_unit_code,
        case_type: k.case_type,
        state: k.state,
        policy_version: k.policy_version,
        first_absent_date: k.first_absent_date,
        last_working_day: k.last_working_day,
        return_round: k.return_round,
        protected_status: k.protected_status,
        approved_on: k.approved_on,
        union_notified_on: k.union_notified_on,
        union_replied_on: k.union_replied_on,
        deadline: k.deadline,
        effective_on: k.effective_on,
        resolution: k.resolution,
        rehire_eligible: k.rehire_eligible,
        rehire_reason: k.rehire_reason,
        converted_to: k.converted_to,
        opened_at: k.opened_at,
        opened_by: k.opened_by,
        confirmed_at: k.confirmed_at,
        confirmed_by: k.confirmed_by,
        closed_at: k.closed_at,
        events,
        contacts,
        notices,
        approvals,
        checklist,
        documents,
        skippable_steps,
        time_zone,
    })
}

/// Columns of the case export.
pub const EXPORT_COLUMNS: [&str; 19] = [
    "case_id",
    "employee_no",
    "employee_name",
    "legal_entity",
    "org_unit",
    "case_type",
    "state",
    "first_absent_date",
    "last_working_day",
    "deadline",
    "approved_on",
    "effective_on",
    "resolution",
    "rehire_eligible",
    "open_items",
    "overdue_items",
    "opened_at",
    "opened_by",
    "closed_at",
];

/// Every case the caller may see as a CSV or XLSX file (newest first), recorded in the audit trail.
pub async fn export(app: &App, ctx: &Ctx, format: lizhi_docs::FileFormat) -> Result<Vec<u8>, AppError> {
    ctx.require(lizhi_core::auth::Permission::ExportData)?;
    let query = crate::cases::BoardQuery { limit: Some(1_000_000), ..Default::default() };
    let lines = crate::cases::list(app, ctx, &query).await?;
    let opt = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            let k = &l.case;
            vec![
                k.id.to_string(),
                l.employee_no.clone(),
                l.employee_name.clone(),
                l.legal_entity_code.clone(),
                l.org_unit_code.clone(),
                k.case_type.clone(),
                k.state.clone(),
                opt(k.first_absent_date),
                opt(k.last_working_day),
                opt(k.deadline),
                opt(k.approved_on),
                opt(k.effective_on),
                k.resolution.clone().unwrap_or_default(),
                k.rehire_eligible.map(|b| b.to_string()).unwrap_or_default(),
                l.open_items.to_string(),
                l.overdue_items.to_string(),
                k.opened_at.to_rfc3339(),
                k.opened_by.clone(),
                k.closed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            ]
        })
        .collect();
    crate::export::write_file(app, ctx, "cases", &EXPORT_COLUMNS, &rows, format).await
}
