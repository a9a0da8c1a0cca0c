//! The working parts of a case around its state: the approval chain (resolved to people, decided, escalated),
//! the checklist (generated on approval, deadlines from the calendar and the law, worked by owners) and the
//! people's own task lists.

use crate::audit::{change, record};
use crate::cases::{policy_of, timeline, visible_case};
use crate::{App, AppError, Ctx};
use chrono::{DateTime, NaiveDate, Utc};
use lizhi_core::auth::{Permission, Role};
use lizhi_core::calendar::WorkCalendar;
use lizhi_core::case::approval::{self, Approver, Chain, ChainStatus, Decision, Mode, StepRecord};
use lizhi_core::case::checklist::{self, Due, ItemTemplate, Owner};
use lizhi_core::case::{CaseState, CaseType};
use lizhi_core::model::{Employee, LegalEntity, User};
use lizhi_store::cases::{self as store, CaseRow};
use lizhi_store::checklist::{self as items, ItemRow};
use lizhi_store::{Conn, approvals, org, users};
use serde::Serialize;
use sha2::Digest as _;

/// Today in a legal entity's time zone (deadlines and receipts are local dates).
pub(crate) fn local_today(time_zone: &str, now: DateTime<Utc>) -> NaiveDate {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::UTC);
    now.with_timezone(&tz).date_naive()
}

/// Whether the caller may take the steps a policy reserves for an approver.
pub(crate) fn approver_flag(ctx: &Ctx) -> bool {
    ctx.require(Permission::ApproveCases).is_ok()
}

pub(crate) async fn entity_of(c: &mut Conn<'_>, id: i64) -> Result<LegalEntity, AppError> {
    org::list_entities(c).await?.into_iter().find(|e| e.id == id).ok_or(AppError::NotFound)
}

/// The work calendar deadlines of this person's case are counted on.
pub(crate) async fn calendar_of(c: &mut Conn<'_>, employee: &Employee) -> Result<WorkCalendar, AppError> {
    let name = employee.work_calendar.clone().unwrap_or_else(|| employee.legal_entity_code.clone());
    let mut calendars = crate::risk::calendars(c, vec![name.clone()]).await?;
    Ok(calendars.remove(&name).unwrap_or_else(|| WorkCalendar::new(name)))
}

/// Users who head the employee's department: managers of the deepest unit on the employee's path that has one,
/// else the user of the employee's own line manager.
pub(crate) async fn department_heads(
    c: &mut Conn<'_>,
    employee: &Employee,
    all: &[User],
) -> Result<Vec<i64>, AppError> {
    let units = org::list_org_units(c).await?;
    let path = units.iter().find(|u| u.id == employee.org_unit_id).map(|u| u.path.clone()).unwrap_or_default();
    let mut best: Option<(usize, Vec<i64>)> = None;
    for user in all.iter().filter(|u| !u.disabled && u.employee_id != Some(employee.id)) {
        for grant in user.grants.iter().filter(|g| g.role == Role::Manager) {
            let Some(unit) = grant.org_unit_id.and_then(|id| units.iter().find(|u| u.id == id)) else { continue };
            if path.starts_with(unit.path.as_str()) {
                let depth = unit.path.len();
                match &mut best {
                    Some((d, ids)) if *d == depth => ids.push(user.id),
                    Some((d, _)) if *d > depth => {}
                    _ => best = Some((depth, vec![user.id])),
                }
            }
        }
    }
    if let Some((_, ids)) = best {
        return Ok(ids);
    }
    Ok(all
        .iter()
        .filter(|u| !u.disabled && u.employee_id.is_some() && u.employee_id == employee.manager_id)
        .map(|u| u.id)
        .collect())
}

pub(crate) fn with_role(all: &[User], role: Role) -> Vec<i64> {
    all.iter().filter(|u| !u.disabled && u.grants.iter().any(|g| g.role == role)).map(|u| u.id).collect()
}

/// Resolves the configured (or shipped) chain of a case type to users and stores it. A step nobody can take
/// (no department head configured) falls back to the HR supervisors, so a case never waits on nobody.
pub(crate) async fn create_chain(
    c: &mut Conn<'_>,
    case_id: i64,
    kind: CaseType,
    employee: &Employee,
    today: NaiveDate,
    activate: Option<&WorkCalendar>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let chain = match approvals::configured_chain(c, employee.legal_entity_id, kind.name()).await? {
        Some(json) => serde_json::from_str::<Chain>(&json).map_err(|e| AppError::Internal(format!("chain: {e}")))?,
        None => Chain::default_for(kind),
    };
    let all = users::list(c).await?;
    for (position, step) in chain.steps.iter().enumerate() {
        let mut assignees = Vec::new();
        for approver in &step.approvers {
            match approver {
                Approver::Role(role) => assignees.extend(with_role(&all, *role)),
                Approver::User(name) => assignees.extend(all.iter().filter(|u| &u.username == name).map(|u| u.id)),
                Approver::DepartmentHead => assignees.extend(department_heads(c, employee, &all).await?),
            }
        }
        assignees.retain(|u| all.iter().any(|x| x.id == *u && x.employee_id != Some(employee.id)));
        assignees.sort_unstable();
        assignees.dedup();
        if assignees.is_empty() {
            assignees = with_role(&all, Role::HrSupervisor);
        }
        let mode = match step.mode {
            Mode::AnyOf => "any_of",
            Mode::AllOf => "all_of",
        };
        approvals::insert_step(c, case_id, position as i64, &step.name, mode, step.due_workdays.into(), &assignees)
            .await?;
    }
    if let Some(calendar) = activate {
        activate_first_step(c, case_id, today, calendar, now).await?;
    }
    Ok(())
}

/// Starts the clock of the chain's first step (and sends its approvers a WeCom card).
pub(crate) async fn activate_first_step(
    c: &mut Conn<'_>,
    case_id: i64,
    today: NaiveDate,
    calendar: &WorkCalendar,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if let Some(step) = approvals::steps(c, case_id).await?.into_iter().next() {
        let due = calendar.add_workdays(today, step.due_workdays as u32);
        approvals::activate_step(c, step.id, today, due).await?;
        crate::events::approval_cards(c, case_id, &step, now).await?;
    }
    Ok(())
}

fn records(steps: &[approvals::StepRow]) -> Vec<StepRecord> {
    steps
        .iter()
        .map(|s| StepRecord {
            mode: if s.mode == "all_of" { Mode::AllOf } else { Mode::AnyOf },
            assignees: s.assignees.iter().map(|(u, _)| *u).collect(),
            decisions: s.decisions.iter().filter_map(|(u, d, _, _)| Decision::parse(d).map(|d| (*u, d))).collect(),
        })
        .collect()
}

/// Records an approver's decision. When the chain completes, the case is approved and its checklist generated;
/// other case types move to `approved` at once.
pub async fn decide(
    app: &App,
    ctx: &Ctx,
    case_id: i64,
    decision: Decision,
    comment: Option<&str>,
) -> Result<(), AppError> {
    let principal = ctx.principal.as_ref().ok_or(AppError::Forbidden)?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    // Without case rights (an IT user, say) the case looks missing, as it does outside one's scope.
    let mut case = visible_case(&mut c, ctx, case_id, true).await.map_err(|e| match e {
        AppError::Forbidden => AppError::NotFound,
        other => other,
    })?;
    let state = CaseState::parse(&case.state).unwrap_or(CaseState::Closed);
    if state.is_final() || !matches!(state, CaseState::CaseReview | CaseState::Open) {
        return Err(AppError::Case(lizhi_core::case::process::CaseError::NotAllowed { action: "approve", state }));
    }
    let steps = approvals::steps(&mut c, case_id).await?;
    let subject =
        users::list(&mut c).await?.into_iter().find(|u| u.employee_id == Some(case.employee_id)).map(|u| u.id);
    let index = approval::may_decide(&records(&steps), principal.user_id, subject).map_err(AppError::Approval)?;
    let now = app.clock.now();
    let comment = comment.map(str::trim).filter(|s| !s.is_empty());
    if decision == Decision::Reject && comment.is_none() {
        return Err(AppError::invalid("comment", "reason_required"));
    }
    approvals::insert_decision(&mut c, steps[index].id, principal.user_id, decision.name(), comment, now).await?;
    let after = approvals::steps(&mut c, case_id).await?;
    let entity = entity_of(&mut c, case.legal_entity_id).await?;
    let today = local_today(&entity.time_zone, now);
    let employee = lizhi_store::employees::get_by_id(&mut c, case.employee_id).await?.ok_or(AppError::NotFound)?;
    let calendar = calendar_of(&mut c, &employee).await?;
    let from = case.state.clone();
    match approval::status(&records(&after)) {
        ChainStatus::Active(next) if next != index => {
            let due = calendar.add_workdays(today, after[next].due_workdays as u32);
            approvals::activate_step(&mut c, after[next].id, today, due).await?;
            crate::events::approval_cards(&mut c, case_id, &after[next], now).await?;
        }
        ChainStatus::Approved => {
            case.approved_on = Some(today);
            if state == CaseState::Open {
                case.state = CaseState::Approved.name().into();
            }
            generate_checklist(&mut c, &case, &employee, today, &calendar).await?;
        }
        _ => {}
    }
    case.updated_at = now;
    store::save(&mut c, &case).await?;
    let detail = serde_json::json!({"step": after[index].name, "decision": decision.name(), "comment": comment});
    timeline(&mut c, &case, &format!("decision_{}", decision.name()), &from, &detail, &ctx.actor, now).await?;
    record(app, &mut c, ctx, &[change(ctx, "case.decision", "case", &case_id.to_string(), None, Some(&detail))])
        .await?;
    tx.commit().await?;
    crate::audit_log::checkpoint_after_change(app).await;
    Ok(())
}

/// Generates the checklist from the shipped templates: owners resolved to people, deadlines in workdays of the
/// person's calendar; one return item per asset is added by the asset register when it exists.
async fn generate_checklist(
    c: &mut Conn<'_>,
    case: &CaseRow,
    employee: &Employee,
    approved_on: NaiveDate,
    calendar: &WorkCalendar,
) -> Result<(), AppError> {
    // Tasks to revoke by hand may exist already (queued when the departure was confirmed); the generated
    // list comes once, after them.
    let existing = items::of_case(c, case.id).await?;
    if existing.iter().any(|i| i.item_key != crate::access::MANUAL_ACCESS_KEY) {
        return Ok(());
    }
    let first = existing.len() as i64;
    let kind = CaseType::parse(&case.case_type).unwrap_or(CaseType::Absconding);
    let policy = policy_of(case)?;
    let all = users::list(c).await?;
    let heads = department_heads(c, employee, &all).await?;
    let mut rows = Vec::new();
    for (position, t) in checklist::default_items(kind, &policy).iter().enumerate() {
        let (owner_user_id, owner_role) = match &t.owner {
            Owner::Role(role) => (with_role(&all, *role).first().copied(), Some(role.name().to_owned())),
            Owner::DepartmentHead => (heads.first().copied(), Some(Role::Manager.name().to_owned())),
            Owner::CaseOwner => (case.owner_user_id, Some(Role::Hr.name().to_owned())),
        };
        rows.push(ItemRow {
            id: 0,
            case_id: case.id,
            position: first + position as i64,
            item_key: t.key.clone(),
            category: t.category.name().into(),
            label: None,
            asset_id: None,
            owner_user_id,
            owner_role,
            due_rule: serde_json::to_string(&t.due).map_err(|e| AppError::Internal(e.to_string()))?,
            due_on: t.due_on(approved_on, case.effective_on.filter(|_| case_is_terminated(case)), calendar),
            after_termination_only: t.after_termination_only,
            status: "open".into(),
            note: None,
            completed_at: None,
            completed_by: None,
        });
    }
    // One return item per asset the person holds, owned like the collection item.
    let facilities = with_role(&all, Role::Facilities).first().copied();
    for asset in
        lizhi_store::assets::list(c, Some(employee.id), None).await?.into_iter().filter(|a| a.status == "in_use")
    {
        let due = Due::WorkdaysAfterApproval(5);
        rows.push(ItemRow {
            id: 0,
            case_id: case.id,
            position: first + rows.len() as i64,
            item_key: checklist::ASSET_RETURN_KEY.into(),
            category: checklist::Category::Assets.name().into(),
            label: Some(format!("{} {} ({})", asset.kind, asset.tag, asset.description)),
            asset_id: Some(asset.id),
            owner_user_id: facilities,
            owner_role: Some(Role::Facilities.name().into()),
            due_rule: serde_json::to_string(&due).map_err(|e| AppError::Internal(e.to_string()))?,
            due_on: Some(calendar.add_workdays(approved_on, 5)),
            after_termination_only: false,
            status: "open".into(),
            note: None,
            completed_at: None,
            completed_by: None,
        });
    }
    items::insert(c, &rows).await?;
    Ok(())
}

fn case_is_terminated(case: &CaseRow) -> bool {
    CaseState::parse(&case.state).is_some_and(CaseState::is_terminated)
}

/// Once termination is effective, the items whose deadline counts from it get their dates.
pub(crate) async fn set_termination_deadlines(
    c: &mut Conn<'_>,
    case: &CaseRow,
    effective: NaiveDate,
    calendar: &WorkCalendar,
) -> Result<(), AppError> {
    let approved = case.approved_on.unwrap_or(effective);
    for item in items::of_case(c, case.id).await? {
        let Ok(due) = serde_json::from_str::<Due>(&item.due_rule) else { continue };
        if matches!(due, Due::AtTermination | Due::DaysAfterTermination(_)) {
            let template = ItemTemplate {
                key: item.item_key.clone(),
                category: checklist::Category::Legal,
                owner: Owner::CaseOwner,
                due,
                after_termination_only: item.after_termination_only,
            };
            items::set_due(c, item.id, template.due_on(approved, Some(effective), calendar)).await?;
        }
    }
    Ok(())
}

/// A checklist item the caller may work (their own, or any in scope with `work_cases`) and its case, locked;
/// refused once the case is final (`field` names the input the refusal is about).
async fn workable_item(c: &mut Conn<'_>, ctx: &Ctx, item_id: i64, field: &str) -> Result<(ItemRow, CaseRow), AppError> {
    let item = items::get(c, item_id).await?.ok_or(AppError::NotFound)?;
    let owner = ctx.principal.as_ref().is_some_and(|p| Some(p.user_id) == item.owner_user_id);
    if !owner {
        // Someone else's item looks missing, as a case outside one's scope does.
        ctx.require(Permission::WorkCases).map_err(|_| AppError::NotFound)?;
        visible_case(c, ctx, item.case_id, false).await?;
    }
    let case = store::get(c, item.case_id, true).await?.ok_or(AppError::NotFound)?;
    if CaseState::parse(&case.state).is_some_and(CaseState::is_final) {
        return Err(AppError::invalid(field, "case_final"));
    }
    Ok((item, case))
}

/// Completes, waives or reopens a checklist item. Owners work their own items; HR works any. Waiving needs a
/// note; the stop-pay signal cannot be completed before termination is effective.
pub async fn update_item(app: &App, ctx: &Ctx, item_id: i64, status: &str, note: Option<&str>) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let (item, case) = workable_item(&mut c, ctx, item_id, "status").await?;
    let note = note.map(str::trim).filter(|s| !s.is_empty());
    let now = app.clock.now();
    match status {
        "done" if item.after_termination_only && !case_is_terminated(&case) => {
            return Err(AppError::invalid("status", "not_before_termination"));
        }
        "waived" if note.is_none() => return Err(AppError::invalid("note", "reason_required")),
        // A revocation by hand is done with its evidence written down (what was done, where, by whom).
        "done" if item.item_key == crate::access::MANUAL_ACCESS_KEY && note.is_none() => {
            return Err(AppError::invalid("note", "evidence_required"));
        }
        // Access is closed by the systems' read-backs, or waived with a reason; not by a tick alone.
        "done"
            if item.category == "access"
                && item.item_key != crate::access::MANUAL_ACCESS_KEY
                && !crate::access::all_revocations_verified(&mut c, case.id).await? =>
        {
            return Err(AppError::invalid("status", "access_not_verified"));
        }
        "done" | "waived" => items::set_status(&mut c, item_id, status, note, Some(&ctx.actor), Some(now)).await?,
        "open" => items::set_status(&mut c, item_id, "open", note, None, None).await?,
        _ => return Err(AppError::invalid("status", "invalid_input")),
    }
    // The register follows the return item: returned, lost when waived, in use again when reopened.
    if let Some(asset) = item.asset_id {
        let register = match status {
            "done" => "returned",
            "waived" => "lost",
            _ => "in_use",
        };
        lizhi_store::assets::set_status(&mut c, asset, register, now).await?;
    }
    let detail = serde_json::json!({"item": item.item_key, "status": status, "note": note});
    timeline(&mut c, &case, "checklist_item", &case.state, &detail, &ctx.actor, now).await?;
    record(app, &mut c, ctx, &[change(ctx, "case.checklist_item", "case", &case.id.to_string(), None, Some(&detail))])
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Largest attachment accepted (a scan or a photo; not an archive).
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// Attaches a file to a checklist item (the item's owner or HR), recorded with its SHA-256.
pub async fn attach(
    app: &App,
    ctx: &Ctx,
    item_id: i64,
    file_name: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<i64, AppError> {
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(AppError::TooLarge { max_bytes: MAX_ATTACHMENT_BYTES });
    }
    if bytes.is_empty() {
        return Err(AppError::invalid("file", "required"));
    }
    // Only the last path segment, printable, at most 200 characters.
    let name: String = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("file_name", "required"));
    }
    let content_type = if content_type.trim().is_empty() { "application/octet-stream" } else { content_type.trim() };
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let (item, case) = workable_item(&mut c, ctx, item_id, "file").await?;
    let sha256 = hex::encode(sha2::Sha256::digest(bytes));
    let now = app.clock.now();
    let id = items::attach(&mut c, item_id, name, content_type, &sha256, bytes, &ctx.actor, now).await?;
    let detail = serde_json::json!({"item": item.item_key, "attachment_id": id, "file_name": name, "sha256": sha256, "size": bytes.len()});
    timeline(&mut c, &case, "checklist_attachment", &case.state, &detail, &ctx.actor, now).await?;
    let mut event = change(ctx, "case.checklist_attachment", "case", &case.id.to_string(), None, Some(&detail));
    event.docs = vec![sha256];
    record(app, &mut c, ctx, &[event]).await?;
    tx.commit().await?;
    Ok(id)
}

/// One attachment's name, type and bytes, if the caller may see its case.
pub async fn attachment(app: &App, ctx: &Ctx, id: i64) -> Result<(items::AttachmentInfo, Vec<u8>), AppError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let (info, case_id, bytes) = items::attachment_with_content(&mut c, id).await?.ok_or(AppError::NotFound)?;
    visible_case(&mut c, ctx, case_id, false).await?;
    Ok((info, bytes))
}

/// What waits on one person: checklist items they own and approval steps they must decide.
#[derive(Debug, Clone, Serialize)]
pub struct Tasks {
    /// Open checklist items, soonest due first.
    pub items: Vec<TaskItem>,
    /// Approvals waiting on them.
    pub approvals: Vec<TaskApproval>,
}

/// One checklist item in a task list.
#[derive(Debug, Clone, Serialize)]
pub struct TaskItem {
    /// Item id.
    pub id: i64,
    /// Case id.
    pub case_id: i64,
    /// Template key.
    pub key: String,
    /// Category.
    pub category: String,
    /// Deadline.
    pub due_on: Option<NaiveDate>,
    /// Past its deadline.
    pub overdue: bool,
}

/// One approval in a task list.
#[derive(Debug, Clone, Serialize)]
pub struct TaskApproval {
    /// Case id.
    pub case_id: i64,
    /// Step name.
    pub step: String,
    /// Deadline.
    pub due_on: Option<NaiveDate>,
}

/// The caller's own open items and pending approvals.
pub async fn my_tasks(app: &App, ctx: &Ctx) -> Result<Tasks, AppError> {
    let principal = ctx.principal.as_ref().ok_or(AppError::Forbidden)?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = app.clock.now().date_naive();
    let items = items::open_for_user(&mut c, principal.user_id)
        .await?
        .into_iter()
        .map(|i| TaskItem {
            id: i.id,
            case_id: i.case_id,
            overdue: i.due_on.is_some_and(|d| d < today),
            key: i.item_key,
            category: i.category,
            due_on: i.due_on,
        })
        .collect();
    let approvals = approvals::pending_for_user(&mut c, principal.user_id)
        .await?
        .into_iter()
        .map(|(case_id, _, step, due_on)| TaskApproval { case_id, step, due_on })
        .collect();
    Ok(Tasks { items, approvals })
}

/// One configured (or shipped) approval chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainConfig {
    /// Case type name.
    pub case_type: String,
    /// Entity code, or `None` for every entity without its own chain.
    pub legal_entity: Option<String>,
    /// The steps.
    pub chain: Chain,
    /// Whether this is the shipped default (nothing configured).
    pub default: bool,
}

/// Every chain in force: the configured ones, and the shipped default of each type without one.
pub async fn chains(app: &App, ctx: &Ctx) -> Result<Vec<ChainConfig>, AppError> {
    ctx.require(Permission::ViewCases)?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let entities = org::list_entities(&mut c).await?;
    let mut out = Vec::new();
    let configured = approvals::configured_chains(&mut c).await?;
    for kind in CaseType::ALL {
        let mine: Vec<_> = configured.iter().filter(|(_, t, _)| t == kind.name()).collect();
        if !mine.iter().any(|(e, _, _)| e.is_none()) {
            out.push(ChainConfig {
                case_type: kind.name().into(),
                legal_entity: None,
                chain: Chain::default_for(kind),
                default: true,
            });
        }
        for (entity, _, json) in mine {
            let chain = serde_json::from_str(json).map_err(|e| AppError::Internal(format!("chain: {e}")))?;
            let legal_entity = entity.and_then(|id| entities.iter().find(|e| e.id == id).map(|e| e.code.clone()));
            out.push(ChainConfig { case_type: kind.name().into(), legal_entity, chain, default: false });
        }
    }
    Ok(out)
}

/// Sets the chain of a case type for one entity (or all); applies to cases opened from now on.
pub async fn set_chain(
    app: &App,
    ctx: &Ctx,
    case_type: &str,
    legal_entity: Option<&str>,
    chain: &Chain,
) -> Result<(), AppError> {
    ctx.require(Permission::ManageUsers)?;
    let kind = CaseType::parse(case_type).ok_or_else(|| AppError::invalid("case_type", "invalid_input"))?;
    chain.validate().map_err(AppError::Approval)?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let entity = match legal_entity.map(str::trim).filter(|e| !e.is_empty()) {
        Some(code) => Some(
            org::list_entities(&mut c)
                .await?
                .into_iter()
                .find(|e| e.code == code)
                .ok_or_else(|| AppError::invalid("legal_entity", "unknown_legal_entity"))?
                .id,
        ),
        None => None,
    };
    let all = users::list(&mut c).await?;
    for step in &chain.steps {
        for approver in &step.approvers {
            if let Approver::User(name) = approver
                && !all.iter().any(|u| &u.username == name)
            {
                return Err(AppError::invalid("approvers", "unknown_user"));
            }
        }
    }
    let json = serde_json::to_string(chain).map_err(|e| AppError::Internal(e.to_string()))?;
    approvals::put_chain(&mut c, entity, kind.name(), &json, &ctx.actor, app.clock.now()).await?;
    let key = format!("{}/{}", kind.name(), legal_entity.unwrap_or("*"));
    let detail = serde_json::json!({"chain": chain});
    record(app, &mut c, ctx, &[change(ctx, "approval_chain.put", "approval_chain", &key, None, Some(&detail))]).await?;
    tx.commit().await?;
    Ok(())
}
