//! Separation cases: opening one, acting on it, reading it and the board.
//!
//! Each action loads the case under a row lock, asks `lizhi_core::case::process::apply` whether it is allowed,
//! and stores its effects, a case event and an audit row in one transaction. Approvals and the checklist are
//! in [`crate::case_flow`].

use crate::audit::{change, record};
use crate::case_flow::{self, approver_flag, local_today};
use crate::events::Event;
use crate::{App, AppError, Ctx};
use chrono::{DateTime, NaiveDate, Utc};
use lizhi_core::PolicyProfile;
use lizhi_core::auth::{Permission, Scope};
use lizhi_core::case::process::{
    self, Action, Channel, Contact, Facts, Notice, NoticeKind, ReceiptOutcome, Resolution, Step,
};
use lizhi_core::case::{CaseState, CaseType};
use lizhi_core::connector::Intent;
use lizhi_core::policy::{Policy, ServiceMethod};
use lizhi_store::cases::{self as store, CaseFilter, CaseRow, ContactRow, EventRow, NewCase, NoticeRow};
use lizhi_store::{Conn, attendance, employees, org};
use serde::Deserialize;

/// What opening a case needs.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenCase {
    /// The employee.
    pub employee_no: String,
    /// `lizhi_core::case::CaseType` name.
    pub case_type: String,
    /// Absconding: the first unexplained day (defaults to the latest alert's, else the day after the last punch).
    #[serde(default)]
    pub first_absent_date: Option<NaiveDate>,
    /// Other types: the planned last day (a resignation's end of notice, a contract's expiry).
    #[serde(default)]
    pub effective_on: Option<NaiveDate>,
}

/// An action on a case, as the API and the CLI send it.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    /// Log a contact attempt.
    LogContact {
        /// Channel name.
        channel: String,
        /// `reached`, `no_answer`, `message_left`, `refused`.
        outcome: String,
        /// When it happened (default: now).
        #[serde(default)]
        happened_at: Option<DateTime<Utc>>,
        /// Note.
        #[serde(default)]
        note: Option<String>,
    },
    /// Confirm the departure (the start of the evidence chain).
    ConfirmDeparture,
    /// Record a notice sent by one method.
    DispatchNotice {
        /// Service method name.
        method: String,
        /// Date sent or published.
        on: NaiveDate,
        /// Courier tracking number.
        #[serde(default)]
        tracking_no: Option<String>,
        /// Why announcement is used.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Record what came back for a notice.
    RecordReceipt {
        /// The notice.
        notice_id: i64,
        /// Outcome name.
        outcome: String,
        /// Date.
        on: NaiveDate,
        /// Who signed, witnesses, courier status.
        #[serde(default)]
        note: Option<String>,
    },
    /// Serve the next return notice.
    NextNotice,
    /// Move to the case review.
    OpenReview,
    /// Record the protected-status screen.
    ScreenProtectedStatus {
        /// Whether a protection applies.
        protected: bool,
        /// What was checked.
        #[serde(default)]
        note: Option<String>,
    },
    /// Notify the union.
    NotifyUnion,
    /// Record the union's reply.
    RecordUnionReply {
        /// Date of the reply.
        on: NaiveDate,
        /// Its content.
        #[serde(default)]
        note: Option<String>,
    },
    /// Move on to serving the termination notice.
    ServeTermination,
    /// Skip a step the policy switched off.
    Skip {
        /// `return_notice` or `union`.
        step: String,
        /// Why.
        reason: String,
    },
    /// The person came back or explained.
    Resolve {
        /// `justified` or `discipline_only`.
        resolution: String,
        /// Note.
        #[serde(default)]
        note: Option<String>,
    },
    /// A written resignation arrived.
    ConvertToResignation {
        /// Date received.
        received_on: NaiveDate,
        /// In probation.
        #[serde(default)]
        probation: bool,
    },
    /// Other types: the contract ends on this date.
    Terminate {
        /// Effective date.
        effective_on: NaiveDate,
    },
    /// Close the case; the person enters the alumni pool.
    Close {
        /// Overrides the default rehire eligibility (absconding: not eligible).
        #[serde(default)]
        rehire_eligible: Option<bool>,
        /// Required when overriding.
        #[serde(default)]
        rehire_reason: Option<String>,
        /// Skills for the alumni pool, comma-separated.
        #[serde(default)]
        skills: Option<String>,
    },
    /// Withdraw the case.
    Cancel {
        /// Why.
        reason: String,
    },
}

fn parse<T>(value: Option<T>, field: &str) -> Result<T, AppError> {
    value.ok_or_else(|| AppError::invalid(field, "invalid_input"))
}

fn method(raw: &str) -> Result<ServiceMethod, AppError> {
    serde_json::from_value(serde_json::Value::String(raw.trim().to_owned()))
        .map_err(|_| AppError::invalid("method", "invalid_input"))
}

impl Command {
    /// The core action this command asks for.
    fn action(&self) -> Result<Action, AppError> {
        Ok(match self {
            Command::LogContact { channel, outcome, .. } => {
                if !crate::risk_board::OUTCOMES.contains(&outcome.as_str()) {
                    return Err(AppError::invalid("outcome", "invalid_input"));
                }
                Action::LogContact { channel: parse(Channel::parse(channel), "channel")? }
            }
            Command::ConfirmDeparture => Action::ConfirmDeparture,
            Command::DispatchNotice { method: m, on, reason, .. } => {
                Action::DispatchNotice { method: method(m)?, on: *on, reason: reason.clone() }
            }
            Command::RecordReceipt { notice_id, outcome, on, .. } => Action::RecordReceipt {
                notice_id: *notice_id,
                outcome: parse(ReceiptOutcome::parse(outcome), "outcome")?,
                on: *on,
            },
            Command::NextNotice => Action::NextNotice,
            Command::OpenReview => Action::OpenReview,
            Command::ScreenProtectedStatus { protected, .. } => Action::ScreenProtectedStatus { protected: *protected },
            Command::NotifyUnion => Action::NotifyUnion,
            Command::RecordUnionReply { on, .. } => Action::RecordUnionReply { on: *on },
            Command::ServeTermination => Action::ServeTermination,
            Command::Skip { step, reason } => Action::Skip {
                step: parse(
                    match step.trim() {
                        "return_notice" => Some(Step::ReturnNotice),
                        "union" => Some(Step::Union),
                        _ => None,
                    },
                    "step",
                )?,
                reason: reason.clone(),
            },
            Command::Resolve { resolution, .. } => {
                Action::Resolve { resolution: parse(Resolution::parse(resolution), "resolution")? }
            }
            Command::ConvertToResignation { received_on, probation } => {
                Action::ConvertToResignation { received_on: *received_on, probation: *probation }
            }
            Command::Terminate { effective_on } => Action::Terminate { effective_on: *effective_on },
            Command::Close { .. } => Action::Close,
            Command::Cancel { reason } => Action::Cancel { reason: reason.clone() },
        })
    }
}

/// A case the caller may see, or `NotFound` (outside a manager's subtree it looks the same as missing).
pub(crate) async fn visible_case(c: &mut Conn<'_>, ctx: &Ctx, id: i64, lock: bool) -> Result<CaseRow, AppError> {
    let scope = ctx.scope(Permission::ViewCases).or_else(|_| ctx.scope(Permission::WorkCases))?;
    let case = store::get(c, id, lock).await?.ok_or(AppError::NotFound)?;
    if let Scope::Subtrees(ids) = scope {
        let paths = org::paths_of(c, &ids).await?;
        let unit = org::paths_of(c, &[case.org_unit_id]).await?.pop().unwrap_or_default();
        if !paths.iter().any(|p| unit.starts_with(p.as_str())) {
            return Err(AppError::NotFound);
        }
    }
    Ok(case)
}

fn case_type(case: &CaseRow) -> Result<CaseType, AppError> {
    CaseType::parse(&case.case_type).ok_or_else(|| AppError::Internal(format!("case type {}", case.case_type)))
}

fn case_state(case: &CaseRow) -> Result<CaseState, AppError> {
    CaseState::parse(&case.state).ok_or_else(|| AppError::Internal(format!("case state {}", case.state)))
}

pub(crate) fn policy_of(case: &CaseRow) -> Result<Policy, AppError> {
    serde_json::from_str(&case.policy).map_err(|e| AppError::Internal(format!("case policy: {e}")))
}

/// Opens a case for an employee; one case in progress per person.
pub async fn open(app: &App, ctx: &Ctx, input: &OpenCase) -> Result<i64, AppError> {
    ctx.require(Permission::WorkCases)?;
    let kind = CaseType::parse(&input.case_type).ok_or_else(|| AppError::invalid("case_type", "invalid_input"))?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let employee = employees::get_by_no(&mut c, input.employee_no.trim()).await?.ok_or(AppError::NotFound)?;
    if employee.status != lizhi_core::model::EmployeeStatus::Active {
        return Err(AppError::invalid("employee_no", "employee_departed"));
    }
    let entity = org::list_entities(&mut c)
        .await?
        .into_iter()
        .find(|e| e.id == employee.legal_entity_id)
        .ok_or(AppError::NotFound)?;
    let profile = PolicyProfile::parse(&entity.policy).unwrap_or(PolicyProfile::CnDefault);
    let policy = Policy::defaults(profile);
    let now = app.clock.now();
    let today = local_today(&entity.time_zone, now);
    let (first_absent_date, last_working_day) = if kind == CaseType::Absconding {
        absence_dates(&mut c, employee.id, today, input.first_absent_date).await?
    } else {
        (None, None)
    };
    let new = NewCase {
        employee_id: employee.id,
        legal_entity_id: employee.legal_entity_id,
        org_unit_id: employee.org_unit_id,
        case_type: kind.name().into(),
        state: if kind == CaseType::Absconding { CaseState::Contacting } else { CaseState::Open }.name().into(),
        policy: serde_json::to_string(&policy).map_err(|e| AppError::Internal(e.to_string()))?,
        policy_version: policy.version.into(),
        owner_user_id: ctx.principal.as_ref().map(|p| p.user_id),
        first_absent_date,
        last_working_day,
        effective_on: if kind == CaseType::Absconding { None } else { input.effective_on },
        opened_by: ctx.actor.clone(),
    };
    let id = store::insert(&mut c, &new, now).await.map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict("case_in_progress".into()),
        other => other,
    })?;
    let detail = serde_json::json!({
        "case_type": kind.name(), "employee_no": employee.employee_no, "first_absent_date": first_absent_date,
        "last_working_day": last_working_day, "effective_on": new.effective_on, "policy_profile": entity.policy,
    });
    if kind == CaseType::Absconding {
        carry_over_contacts(&mut c, id, employee.id, first_absent_date, now).await?;
    }
    let calendar = case_flow::calendar_of(&mut c, &employee).await?;
    let activate = (kind != CaseType::Absconding).then_some(&calendar);
    case_flow::create_chain(&mut c, id, kind, &employee, today, activate, now).await?;
    let event = EventRow {
        id: 0,
        action: "open".into(),
        from_state: new.state.clone(),
        to_state: new.state.clone(),
        detail: detail.to_string(),
        policy_version: new.policy_version,
        actor: ctx.actor.clone(),
        at: now,
    };
    store::insert_event(&mut c, id, &event).await?;
    record(app, &mut c, ctx, &[change(ctx, "case.open", "case", &id.to_string(), None, Some(&detail))]).await?;
    tx.commit().await?;
    crate::audit_log::checkpoint_after_change(app).await;
    Ok(id)
}

/// The first absent day (given, else the latest alert's, else the day after the last punch) and the last
/// day with a punch before it.
async fn absence_dates(
    c: &mut Conn<'_>,
    employee_id: i64,
    today: NaiveDate,
    given: Option<NaiveDate>,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), AppError> {
    let from = today.checked_sub_days(chrono::Days::new(180)).unwrap_or(today);
    let days = attendance::attendance_days(c, from, today, Some(employee_id)).await?;
    let alert = lizhi_store::risk_scans::latest_first_absent(c, employee_id).await?;
    let first = given.or(alert).or_else(|| days.last().and_then(|(_, d)| d.succ_opt()));
    let last_worked = days.iter().map(|(_, d)| *d).filter(|d| first.is_none_or(|f| *d < f)).max();
    Ok((first, last_worked))
}

/// Contact attempts already logged on the alert's episode become the case's first entries.
async fn carry_over_contacts(
    c: &mut Conn<'_>,
    case_id: i64,
    employee_id: i64,
    first_absent: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(since) = first_absent else { return Ok(()) };
    for a in attendance::risk_actions(c, since, Some(employee_id)).await? {
        if let (Some(channel), Some(outcome)) = (a.channel, a.outcome) {
            let row = ContactRow { id: 0, channel, outcome, note: a.note, happened_at: a.happened_at, actor: a.actor };
            store::insert_contact(c, case_id, &row, now).await?;
        }
    }
    Ok(())
}

/// The rule inputs of a stored case.
pub(crate) async fn facts_inputs(
    c: &mut Conn<'_>,
    case: &CaseRow,
) -> Result<(Vec<Contact>, Vec<Notice>, bool, usize), AppError> {
    let contacts = store::contacts(c, case.id)
        .await?
        .into_iter()
        .filter_map(|r| Channel::parse(&r.channel).map(|channel| Contact { channel }))
        .collect();
    let mut notices = Vec::new();
    for n in store::notices(c, case.id).await? {
        let (Some(kind), Ok(m)) = (NoticeKind::parse(&n.kind), method(&n.method)) else { continue };
        let receipt = match (n.receipt_outcome.as_deref().and_then(ReceiptOutcome::parse), n.received_on) {
            (Some(o), Some(on)) => Some((o, on)),
            _ => None,
        };
        notices.push(Notice {
            id: n.id,
            kind,
            round: n.round as u32,
            method: m,
            dispatched_on: n.dispatched_on,
            receipt,
        });
    }
    let approved = case.approved_on.is_some();
    let open_items = lizhi_store::checklist::of_case(c, case.id).await?.iter().filter(|i| i.status == "open").count();
    Ok((contacts, notices, approved, open_items))
}

/// Applies a command to a case: checks it against the rules, stores its effects, the event and the audit row.
pub async fn act(app: &App, ctx: &Ctx, id: i64, command: &Command) -> Result<(), AppError> {
    ctx.require(Permission::WorkCases)?;
    let action = command.action()?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let mut case = visible_case(&mut c, ctx, id, true).await?;
    let policy = policy_of(&case)?;
    let (kind, state) = (case_type(&case)?, case_state(&case)?);
    let entity = case_flow::entity_of(&mut c, case.legal_entity_id).await?;
    let employee = employees::get_by_id(&mut c, case.employee_id).await?.ok_or(AppError::NotFound)?;
    let calendar = case_flow::calendar_of(&mut c, &employee).await?;
    let now = app.clock.now();
    let today = local_today(&entity.time_zone, now);
    let (contacts, notices, approved, open_items) = facts_inputs(&mut c, &case).await?;
    let facts = Facts {
        case_type: kind,
        state,
        policy: &policy,
        calendar: &calendar,
        today,
        contacts,
        notices,
        return_round: case.return_round as u32,
        approved,
        protected_status: case.protected_status,
        union_notified_on: case.union_notified_on,
        union_replied_on: case.union_replied_on,
        open_items,
        actor_approves: approver_flag(ctx),
    };
    let outcome = process::apply(&facts, &action).map_err(AppError::Case)?;
    let mut detail = echo(command);
    // Effects the action records besides the state.
    match command {
        Command::LogContact { channel, outcome, happened_at, note } => {
            let row = ContactRow {
                id: 0,
                channel: channel.clone(),
                outcome: outcome.clone(),
                note: note.clone(),
                happened_at: happened_at.unwrap_or(now),
                actor: ctx.actor.clone(),
            };
            let contact = store::insert_contact(&mut c, id, &row, now).await?;
            detail["contact_id"] = contact.into();
        }
        Command::ConfirmDeparture => {
            case.confirmed_at = Some(now);
            case.confirmed_by = Some(ctx.actor.clone());
        }
        Command::DispatchNotice { method: m, on, tracking_no, reason } => {
            let (kind, round) = if state == CaseState::ReturnNoticeServing {
                (NoticeKind::ReturnToWork, case.return_round)
            } else {
                (NoticeKind::Termination, 1)
            };
            let row = NoticeRow {
                id: 0,
                kind: kind.name().into(),
                round,
                method: m.trim().into(),
                dispatched_on: *on,
                tracking_no: tracking_no.clone(),
                reason: reason.clone(),
                receipt_outcome: None,
                received_on: None,
                receipt_note: None,
                actor: ctx.actor.clone(),
            };
            detail["notice_id"] = store::insert_notice(&mut c, id, &row, now).await?.into();
        }
        Command::RecordReceipt { notice_id, outcome, on, note } => {
            store::set_receipt(&mut c, *notice_id, outcome.trim(), *on, note.as_deref()).await?;
        }
        Command::ScreenProtectedStatus { protected, .. } => case.protected_status = Some(*protected),
        Command::NotifyUnion => case.union_notified_on = Some(today),
        Command::RecordUnionReply { on, .. } => case.union_replied_on = Some(*on),
        Command::Resolve { resolution, .. } => case.resolution = Some(resolution.trim().into()),
        Command::Close { rehire_eligible, rehire_reason, skills } => {
            let default = kind != CaseType::Absconding;
            let eligible = rehire_eligible.unwrap_or(default);
            let reason = rehire_reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
            if eligible != default && reason.is_none() {
                return Err(AppError::invalid("rehire_reason", "reason_required"));
            }
            case.rehire_eligible = Some(eligible);
            case.rehire_reason = reason.map(str::to_owned);
            case.closed_at = Some(now);
            let skills = crate::alumni::normalise_skills(skills.as_deref().unwrap_or_default());
            let departed_on = case.effective_on.unwrap_or(today);
            lizhi_store::alumni::upsert(
                &mut c,
                case.employee_id,
                Some(case.id),
                departed_on,
                employee.position.as_deref(),
                employee.org_unit_id,
                eligible,
                reason,
                &skills,
                now,
            )
            .await?;
        }
        _ => {}
    }
    let from = case.state.clone();
    case.state = outcome.to.name().into();
    case.return_round = outcome.return_round.into();
    if let Some(deadline) = outcome.deadline {
        case.deadline = deadline;
    }
    if outcome.effective_on.is_some() {
        case.effective_on = outcome.effective_on;
    }
    if outcome.to == CaseState::CaseReview && state != CaseState::CaseReview {
        case_flow::activate_first_step(&mut c, id, today, &calendar, now).await?;
    }
    if outcome.to == CaseState::Terminated && state != CaseState::Terminated {
        let effective = case.effective_on.unwrap_or(today);
        store::set_departed(&mut c, case.employee_id, effective, now).await?;
        case_flow::set_termination_deadlines(&mut c, &case, effective, &calendar).await?;
    }
    if let Some(last_day) = outcome.resignation_last_day {
        let converted = convert(&mut c, ctx, &case, &employee, last_day, today, now).await?;
        case.converted_to = Some(converted);
        detail["resignation_case"] = converted.into();
    }
    // Access is cut and the other systems told in this transaction (the outbox): on confirmation of an
    // absconding departure, and for every case once the contract has ended.
    let mut events = Vec::new();
    let terminated_now = outcome.to == CaseState::Terminated && state != CaseState::Terminated;
    if matches!(command, Command::ConfirmDeparture) {
        events.push(Event::DepartureConfirmed);
    }
    if terminated_now {
        events.extend([Event::Terminated, Event::PayStopRequested]);
    }
    if matches!(command, Command::Close { .. }) {
        events.push(Event::CaseClosed);
    }
    if outcome.to == CaseState::Returned && case.confirmed_at.is_some() {
        events.push(Event::Returned);
    }
    if matches!(command, Command::ConfirmDeparture) || terminated_now {
        let (accounts, queued) = crate::access::enqueue(&mut c, &case, Intent::Revoke, now).await?;
        detail["access"] = serde_json::json!({"accounts": accounts, "queued": queued});
    }
    // Someone who came back before their departure was confirmed gets the frozen accounts back.
    if outcome.to == CaseState::Returned && crate::access::only_frozen(&mut c, id).await? {
        let (accounts, queued) = crate::access::enqueue(&mut c, &case, Intent::Unfreeze, now).await?;
        detail["access"] = serde_json::json!({"accounts": accounts, "queued": queued, "intent": "unfreeze"});
    }
    crate::events::emit(&mut c, &case, &employee, &events, now).await?;
    case.updated_at = now;
    detail["deadline"] = serde_json::to_value(case.deadline).unwrap_or_default();
    store::save(&mut c, &case).await?;
    timeline(&mut c, &case, action.name(), &from, &detail, &ctx.actor, now).await?;
    let audit = change(ctx, &format!("case.{}", action.name()), "case", &id.to_string(), None, Some(&detail));
    record(app, &mut c, ctx, &[audit]).await?;
    tx.commit().await?;
    if !events.is_empty() || detail.get("access").is_some() {
        app.outbox_signal.notify_one();
    }
    crate::audit_log::checkpoint_after_change(app).await;
    Ok(())
}

/// Puts an action on a case's timeline, in the caller's transaction: the state it left (`from`), the state
/// the case is in now, the policy version applied, the inputs it relied on, who and when.
pub(crate) async fn timeline(
    c: &mut Conn<'_>,
    case: &CaseRow,
    action: &str,
    from: &str,
    detail: &serde_json::Value,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let event = EventRow {
        id: 0,
        action: action.to_owned(),
        from_state: from.to_owned(),
        to_state: case.state.clone(),
        detail: detail.to_string(),
        policy_version: case.policy_version,
        actor: actor.to_owned(),
        at,
    };
    store::insert_event(c, case.id, &event).await?;
    Ok(())
}

/// Opens the resignation case an absconding case converts into.
async fn convert(
    c: &mut Conn<'_>,
    ctx: &Ctx,
    case: &CaseRow,
    employee: &lizhi_core::model::Employee,
    last_day: NaiveDate,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    // The absconding case must leave "in progress" first, or the one-case-per-person index refuses.
    let mut done = case.clone();
    done.state = CaseState::Converted.name().into();
    store::save(c, &done).await?;
    let new = NewCase {
        employee_id: case.employee_id,
        legal_entity_id: case.legal_entity_id,
        org_unit_id: case.org_unit_id,
        case_type: CaseType::Resignation.name().into(),
        state: CaseState::Open.name().into(),
        policy: case.policy.clone(),
        policy_version: case.policy_version,
        owner_user_id: case.owner_user_id,
        first_absent_date: None,
        last_working_day: None,
        effective_on: Some(last_day),
        opened_by: ctx.actor.clone(),
    };
    let id = store::insert(c, &new, now).await?;
    let calendar = case_flow::calendar_of(c, employee).await?;
    case_flow::create_chain(c, id, CaseType::Resignation, employee, today, Some(&calendar), now).await?;
    let detail = serde_json::json!({"converted_from": case.id, "effective_on": last_day});
    let event = EventRow {
        id: 0,
        action: "open".into(),
        from_state: new.state.clone(),
        to_state: new.state.clone(),
        detail: detail.to_string(),
        policy_version: new.policy_version,
        actor: ctx.actor.clone(),
        at: now,
    };
    store::insert_event(c, id, &event).await?;
    Ok(id)
}

/// The inputs of a command as recorded on its event (what the action relied on).
fn echo(command: &Command) -> serde_json::Value {
    match command {
        Command::LogContact { channel, outcome, happened_at, note } => {
            serde_json::json!({"channel": channel, "outcome": outcome, "happened_at": happened_at, "note": note})
        }
        Command::DispatchNotice { method, on, tracking_no, reason } => {
            serde_json::json!({"method": method, "on": on, "tracking_no": tracking_no, "reason": reason})
        }
        Command::RecordReceipt { notice_id, outcome, on, note } => {
            serde_json::json!({"notice_id": notice_id, "outcome": outcome, "on": on, "note": note})
        }
        Command::ScreenProtectedStatus { protected, note } => {
            serde_json::json!({"protected": protected, "note": note})
        }
        Command::RecordUnionReply { on, note } => serde_json::json!({"on": on, "note": note}),
        Command::Skip { step, reason } => serde_json::json!({"step": step, "reason": reason}),
        Command::Resolve { resolution, note } => serde_json::json!({"resolution": resolution, "note": note}),
        Command::ConvertToResignation { received_on, probation } => {
            serde_json::json!({"received_on": received_on, "probation": probation})
        }
        Command::Terminate { effective_on } => serde_json::json!({"effective_on": effective_on}),
        Command::Close { rehire_eligible, rehire_reason, skills } => {
            serde_json::json!({"rehire_eligible": rehire_eligible, "rehire_reason": rehire_reason, "skills": skills})
        }
        Command::Cancel { reason } => serde_json::json!({"reason": reason}),
        Command::ConfirmDeparture
        | Command::NextNotice
        | Command::OpenReview
        | Command::NotifyUnion
        | Command::ServeTermination => serde_json::json!({}),
    }
}

/// Lists cases visible to the caller for the board.
pub async fn list(app: &App, ctx: &Ctx, filter: &BoardQuery) -> Result<Vec<store::CaseLine>, AppError> {
    let scope = ctx.scope(Permission::ViewCases)?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let scope_paths = crate::people::scope_paths(&mut c, &scope).await?;
    let legal_entity_id = match filter.legal_entity.as_deref().filter(|s| !s.is_empty()) {
        Some(code) => Some(
            org::list_entities(&mut c)
                .await?
                .into_iter()
                .find(|e| e.code == code)
                .ok_or(AppError::invalid("legal_entity", "unknown_legal_entity"))?
                .id,
        ),
        None => None,
    };
    let states = match filter.state.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => vec![CaseState::parse(s).ok_or(AppError::invalid("state", "invalid_input"))?.name().to_owned()],
        None => Vec::new(),
    };
    let case_type = match filter.case_type.as_deref().filter(|s| !s.is_empty()) {
        Some(t) => Some(CaseType::parse(t).ok_or(AppError::invalid("case_type", "invalid_input"))?.name().to_owned()),
        None => None,
    };
    let f = CaseFilter { states, case_type, legal_entity_id, employee_id: None, scope_paths };
    let today = app.clock.now().date_naive();
    Ok(store::list(&mut c, &f, today, filter.limit.unwrap_or(200).clamp(1, 1000)).await?)
}

/// Filters of the case board.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BoardQuery {
    /// State name.
    #[serde(default)]
    pub state: Option<String>,
    /// Type name.
    #[serde(default)]
    pub case_type: Option<String>,
    /// Entity code.
    #[serde(default)]
    pub legal_entity: Option<String>,
    /// At most this many (default 200).
    #[serde(default)]
    pub limit: Option<i64>,
}
