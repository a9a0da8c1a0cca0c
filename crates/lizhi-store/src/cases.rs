//! Separation cases as stored: the case row, its events, contact log and notices.
//!
//! The rules live in `lizhi_core::case`; this module only reads and writes. A case is loaded with a row lock
//! on PostgreSQL (`FOR UPDATE`; SQLite write transactions are already exclusive) so two people acting on the
//! same case at once are serialised and the second sees the first's state.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{QueryBuilder, Row};

/// A case as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRow {
    /// Id.
    pub id: i64,
    /// The employee the case is about.
    pub employee_id: i64,
    /// The employer.
    pub legal_entity_id: i64,
    /// The employee's unit when the case opened (managers' scope).
    pub org_unit_id: i64,
    /// `lizhi_core::case::CaseType` name.
    pub case_type: String,
    /// `lizhi_core::case::CaseState` name.
    pub state: String,
    /// Policy snapshot (JSON).
    pub policy: String,
    /// Its version.
    pub policy_version: i64,
    /// The HR owner.
    pub owner_user_id: Option<i64>,
    /// First unexplained absent day (absconding).
    pub first_absent_date: Option<NaiveDate>,
    /// Last day the person worked, from attendance.
    pub last_working_day: Option<NaiveDate>,
    /// Return-notice round.
    pub return_round: i64,
    /// Protected-status screen result.
    pub protected_status: Option<bool>,
    /// When the approval chain completed.
    pub approved_on: Option<NaiveDate>,
    /// When the union was notified.
    pub union_notified_on: Option<NaiveDate>,
    /// When the union replied.
    pub union_replied_on: Option<NaiveDate>,
    /// Last day of the running period.
    pub deadline: Option<NaiveDate>,
    /// When the contract ends or ended.
    pub effective_on: Option<NaiveDate>,
    /// `justified` / `discipline_only` for returned cases.
    pub resolution: Option<String>,
    /// Rehire eligibility set at close.
    pub rehire_eligible: Option<bool>,
    /// Why eligibility differs from the default.
    pub rehire_reason: Option<String>,
    /// The resignation case this one was converted into.
    pub converted_to: Option<i64>,
    /// Opened (server time).
    pub opened_at: DateTime<Utc>,
    /// Opened by.
    pub opened_by: String,
    /// Departure confirmed (server time): the start of the evidence chain.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Confirmed by.
    pub confirmed_by: Option<String>,
    /// Closed (server time).
    pub closed_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const CASE_COLUMNS: &str = "id, employee_id, legal_entity_id, org_unit_id, case_type, state, policy, policy_version, \
     owner_user_id, first_absent_date, last_working_day, return_round, protected_status, approved_on, \
     union_notified_on, union_replied_on, deadline, effective_on, resolution, rehire_eligible, rehire_reason, \
     converted_to, opened_at, opened_by, confirmed_at, confirmed_by, closed_at, updated_at";

macro_rules! case_from_row {
    ($r:expr) => {{
        let r = $r;
        CaseRow {
            id: r.try_get(0)?,
            employee_id: r.try_get(1)?,
            legal_entity_id: r.try_get(2)?,
            org_unit_id: r.try_get(3)?,
            case_type: r.try_get(4)?,
            state: r.try_get(5)?,
            policy: r.try_get(6)?,
            policy_version: r.try_get(7)?,
            owner_user_id: r.try_get(8)?,
            first_absent_date: r.try_get(9)?,
            last_working_day: r.try_get(10)?,
            return_round: r.try_get(11)?,
            protected_status: r.try_get(12)?,
            approved_on: r.try_get(13)?,
            union_notified_on: r.try_get(14)?,
            union_replied_on: r.try_get(15)?,
            deadline: r.try_get(16)?,
            effective_on: r.try_get(17)?,
            resolution: r.try_get(18)?,
            rehire_eligible: r.try_get(19)?,
            rehire_reason: r.try_get(20)?,
            converted_to: r.try_get(21)?,
            opened_at: r.try_get(22)?,
            opened_by: r.try_get(23)?,
            confirmed_at: r.try_get(24)?,
            confirmed_by: r.try_get(25)?,
            closed_at: r.try_get(26)?,
            updated_at: r.try_get(27)?,
        }
    }};
}

/// A case to open.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// Employee.
    pub employee_id: i64,
    /// Employer.
    pub legal_entity_id: i64,
    /// Unit.
    pub org_unit_id: i64,
    /// Type name.
    pub case_type: String,
    /// Initial state name.
    pub state: String,
    /// Policy snapshot (JSON).
    pub policy: String,
    /// Its version.
    pub policy_version: i64,
    /// HR owner.
    pub owner_user_id: Option<i64>,
    /// First absent day.
    pub first_absent_date: Option<NaiveDate>,
    /// Last working day.
    pub last_working_day: Option<NaiveDate>,
    /// Planned end (resignation: end of the notice period).
    pub effective_on: Option<NaiveDate>,
    /// Opened by.
    pub opened_by: String,
}

/// Opens a case; `Conflict` when the person already has one in progress.
pub async fn insert(c: &mut Conn<'_>, n: &NewCase, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let sql = "INSERT INTO cases (employee_id, legal_entity_id, org_unit_id, case_type, state, policy, policy_version, \
               owner_user_id, first_absent_date, last_working_day, effective_on, opened_at, opened_by, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12) RETURNING id";
    on_conn!(c, c => sqlx::query_scalar(sql)
        .bind(n.employee_id).bind(n.legal_entity_id).bind(n.org_unit_id).bind(&n.case_type).bind(&n.state)
        .bind(&n.policy).bind(n.policy_version).bind(n.owner_user_id).bind(n.first_absent_date)
        .bind(n.last_working_day).bind(n.effective_on).bind(now).bind(&n.opened_by)
        .fetch_one(&mut **c).await.map_err(StoreError::from_write))
}

/// One case, locked for the rest of the transaction on PostgreSQL when `lock` is set.
pub async fn get(c: &mut Conn<'_>, id: i64, lock: bool) -> Result<Option<CaseRow>, StoreError> {
    Ok(match c {
        Conn::Sqlite(c) => {
            let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
            match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **c).await? {
                Some(r) => Some(case_from_row!(&r)),
                None => None,
            }
        }
        Conn::Postgres(c) => {
            let sql =
                format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1{}", if lock { " FOR UPDATE" } else { "" });
            match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **c).await? {
                Some(r) => Some(case_from_row!(&r)),
                None => None,
            }
        }
    })
}

/// Writes back every field an action may change.
pub async fn save(c: &mut Conn<'_>, r: &CaseRow) -> Result<(), StoreError> {
    let sql = "UPDATE cases SET state = $2, return_round = $3, protected_status = $4, approved_on = $5, \
               union_notified_on = $6, union_replied_on = $7, deadline = $8, effective_on = $9, resolution = $10, \
               rehire_eligible = $11, rehire_reason = $12, converted_to = $13, confirmed_at = $14, confirmed_by = $15, \
               closed_at = $16, last_working_day = $17, owner_user_id = $18, updated_at = $19 WHERE id = $1";
    on_conn!(c, c => {
        sqlx::query(sql)
        .bind(r.id).bind(&r.state).bind(r.return_round).bind(r.protected_status).bind(r.approved_on)
        .bind(r.union_notified_on).bind(r.union_replied_on).bind(r.deadline).bind(r.effective_on)
        .bind(&r.resolution).bind(r.rehire_eligible).bind(&r.rehire_reason).bind(r.converted_to)
        .bind(r.confirmed_at).bind(&r.confirmed_by).bind(r.closed_at).bind(r.last_working_day)
        .bind(r.owner_user_id).bind(r.updated_at)
        .execute(&mut **c).await?;
    });
    Ok(())
}

/// What a case listing is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only these states.
    pub states: Vec<String>,
    /// Only this type.
    pub case_type: Option<String>,
    /// Only this legal entity.
    pub legal_entity_id: Option<i64>,
    /// Only this employee.
    pub employee_id: Option<i64>,
    /// `None` = everyone; `Some(paths)` = only cases whose unit lies in these subtrees (empty = none).
    pub scope_paths: Option<Vec<String>>,
}

/// One line of the case board: the case with the few employee fields the board shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLine {
    /// The case.
    pub case: CaseRow,
    /// Employee number.
    pub employee_no: String,
    /// Employee name.
    pub employee_name: String,
    /// Unit code.
    pub org_unit_code: String,
    /// Entity code.
    pub legal_entity_code: String,
    /// Checklist items open.
    pub open_items: i64,
    /// Open items past their due date as of the given day.
    pub overdue_items: i64,
}

/// Cases matching a filter, newest first, at most `limit`.
pub async fn list(c: &mut Conn<'_>, f: &CaseFilter, today: NaiveDate, limit: i64) -> Result<Vec<CaseLine>, StoreError> {
    let columns: String = CASE_COLUMNS.split(", ").map(|col| format!("k.{col}")).collect::<Vec<_>>().join(", ");
    Ok(on_conn!(c, c => {
        let mut qb = QueryBuilder::new(format!(
            "SELECT {columns}, e.employee_no, e.name, u.code, le.code, \
             (SELECT COUNT(*) FROM checklist_items i WHERE i.case_id = k.id AND i.status = 'open'), \
             (SELECT COUNT(*) FROM checklist_items i WHERE i.case_id = k.id AND i.status = 'open' AND i.due_on < "
        ));
        qb.push_bind(today);
        qb.push(") FROM cases k JOIN employees e ON e.id = k.employee_id JOIN org_units u ON u.id = k.org_unit_id \
                 JOIN legal_entities le ON le.id = k.legal_entity_id WHERE 1 = 1");
        if !f.states.is_empty() {
            qb.push(" AND k.state IN (");
            let mut sep = qb.separated(", ");
            for s in &f.states {
                sep.push_bind(s.clone());
            }
            qb.push(")");
        }
        if let Some(t) = &f.case_type {
            qb.push(" AND k.case_type = ").push_bind(t.clone());
        }
        if let Some(id) = f.legal_entity_id {
            qb.push(" AND k.legal_entity_id = ").push_bind(id);
        }
        if let Some(id) = f.employee_id {
            qb.push(" AND k.employee_id = ").push_bind(id);
        }
        crate::org::push_scope(&mut qb, "u.path", f.scope_paths.as_deref());
        qb.push(" ORDER BY k.id DESC LIMIT ").push_bind(limit);
        let raw = qb.build().fetch_all(&mut **c).await?;
        let mut out = Vec::with_capacity(raw.len());
        for r in &raw {
            out.push(CaseLine {
                case: case_from_row!(r),
                employee_no: r.try_get(28)?,
                employee_name: r.try_get(29)?,
                org_unit_code: r.try_get(30)?,
                legal_entity_code: r.try_get(31)?,
                open_items: r.try_get(32)?,
                overdue_items: r.try_get(33)?,
            });
        }
        out
    }))
}

/// One recorded action.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Id.
    pub id: i64,
    /// Action name.
    pub action: String,
    /// State before.
    pub from_state: String,
    /// State after.
    pub to_state: String,
    /// Inputs and evidence (JSON).
    pub detail: String,
    /// Policy version applied.
    pub policy_version: i64,
    /// Who.
    pub actor: String,
    /// Server time.
    pub at: DateTime<Utc>,
}

/// Records an action on a case.
pub async fn insert_event(c: &mut Conn<'_>, case_id: i64, e: &EventRow) -> Result<i64, StoreError> {
    let sql = "INSERT INTO case_events (case_id, action, from_state, to_state, detail, policy_version, actor, at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    Ok(on_conn!(c, c => sqlx::query_scalar(sql)
        .bind(case_id).bind(&e.action).bind(&e.from_state).bind(&e.to_state).bind(&e.detail)
        .bind(e.policy_version).bind(&e.actor).bind(e.at)
        .fetch_one(&mut **c).await?))
}

/// A case's timeline, oldest first.
pub async fn events(c: &mut Conn<'_>, case_id: i64) -> Result<Vec<EventRow>, StoreError> {
    let sql = "SELECT id, action, from_state, to_state, detail, policy_version, actor, at FROM case_events \
               WHERE case_id = $1 ORDER BY id";
    type Event = (i64, String, String, String, String, i64, String, DateTime<Utc>);
    let rows: Vec<Event> = on_conn!(c, c => sqlx::query_as(sql).bind(case_id).fetch_all(&mut **c).await?);
    Ok(rows
        .into_iter()
        .map(|(id, action, from_state, to_state, detail, policy_version, actor, at)| EventRow {
            id,
            action,
            from_state,
            to_state,
            detail,
            policy_version,
            actor,
            at,
        })
        .collect())
}

/// One logged contact attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRow {
    /// Id.
    pub id: i64,
    /// Channel name.
    pub channel: String,
    /// Outcome name.
    pub outcome: String,
    /// Free text.
    pub note: Option<String>,
    /// When it happened.
    pub happened_at: DateTime<Utc>,
    /// Who tried.
    pub actor: String,
}

/// Logs a contact attempt.
pub async fn insert_contact(
    c: &mut Conn<'_>,
    case_id: i64,
    r: &ContactRow,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sql = "INSERT INTO case_contacts (case_id, channel, outcome, note, happened_at, actor, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    Ok(on_conn!(c, c => sqlx::query_scalar(sql)
        .bind(case_id).bind(&r.channel).bind(&r.outcome).bind(&r.note).bind(r.happened_at).bind(&r.actor).bind(now)
        .fetch_one(&mut **c).await?))
}

/// A case's contact log, oldest first.
pub async fn contacts(c: &mut Conn<'_>, case_id: i64) -> Result<Vec<ContactRow>, StoreError> {
    let sql = "SELECT id, channel, outcome, note, happened_at, actor FROM case_contacts WHERE case_id = $1 \
               ORDER BY happened_at, id";
    type Contact = (i64, String, String, Option<String>, DateTime<Utc>, String);
    let rows: Vec<Contact> = on_conn!(c, c => sqlx::query_as(sql).bind(case_id).fetch_all(&mut **c).await?);
    Ok(rows
        .into_iter()
        .map(|(id, channel, outcome, note, happened_at, actor)| ContactRow {
            id,
            channel,
            outcome,
            note,
            happened_at,
            actor,
        })
        .collect())
}

/// One notice with its receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeRow {
    /// Id.
    pub id: i64,
    /// `return_to_work` or `termination`.
    pub kind: String,
    /// Round.
    pub round: i64,
    /// Service method name.
    pub method: String,
    /// Sent or published.
    pub dispatched_on: NaiveDate,
    /// Courier tracking number.
    pub tracking_no: Option<String>,
    /// Why announcement was used.
    pub reason: Option<String>,
    /// Receipt outcome name.
    pub receipt_outcome: Option<String>,
    /// Receipt date.
    pub received_on: Option<NaiveDate>,
    /// Receipt note (who signed, witnesses).
    pub receipt_note: Option<String>,
    /// Who dispatched.
    pub actor: String,
}

/// Records a dispatched notice.
pub async fn insert_notice(
    c: &mut Conn<'_>,
    case_id: i64,
    n: &NoticeRow,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sql = "INSERT INTO case_notices (case_id, kind, round, method, dispatched_on, tracking_no, reason, created_at, actor) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    Ok(on_conn!(c, c => sqlx::query_scalar(sql)
        .bind(case_id).bind(&n.kind).bind(n.round).bind(&n.method).bind(n.dispatched_on).bind(&n.tracking_no)
        .bind(&n.reason).bind(now).bind(&n.actor)
        .fetch_one(&mut **c).await?))
}

/// Records a notice's receipt.
pub async fn set_receipt(
    c: &mut Conn<'_>,
    notice_id: i64,
    outcome: &str,
    on: NaiveDate,
    note: Option<&str>,
) -> Result<(), StoreError> {
    let sql = "UPDATE case_notices SET receipt_outcome = $2, received_on = $3, receipt_note = $4 WHERE id = $1";
    on_conn!(c, c => {
        sqlx::query(sql).bind(notice_id).bind(outcome).bind(on).bind(note).execute(&mut **c).await?;
    });
    Ok(())
}

/// A case's notices, oldest first.
pub async fn notices(c: &mut Conn<'_>, case_id: i64) -> Result<Vec<NoticeRow>, StoreError> {
    let sql = "SELECT id, kind, round, method, dispatched_on, tracking_no, reason, receipt_outcome, received_on, \
               receipt_note, actor FROM case_notices WHERE case_id = $1 ORDER BY id";
    Ok(on_conn!(c, c => {
        let raw = sqlx::query(sql).bind(case_id).fetch_all(&mut **c).await?;
        let mut out = Vec::with_capacity(raw.len());
        for r in &raw {
            out.push(NoticeRow {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                round: r.try_get(2)?,
                method: r.try_get(3)?,
                dispatched_on: r.try_get(4)?,
                tracking_no: r.try_get(5)?,
                reason: r.try_get(6)?,
                receipt_outcome: r.try_get(7)?,
                received_on: r.try_get(8)?,
                receipt_note: r.try_get(9)?,
                actor: r.try_get(10)?,
            });
        }
        out
    }))
}

/// Marks an employee departed from a date (they leave the active list; history stays).
pub async fn set_departed(
    c: &mut Conn<'_>,
    employee_id: i64,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "UPDATE employees SET status = 'departed', departed_on = $2, updated_at = $3 WHERE id = $1";
    on_conn!(c, c => {
        sqlx::query(sql).bind(employee_id).bind(on).bind(now).execute(&mut **c).await?;
    });
    Ok(())
}
