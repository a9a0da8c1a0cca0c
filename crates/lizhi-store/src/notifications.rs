//! The message center: reminders and notices per person, each rule firing once by its dedupe key.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, NaiveDate, Utc};

/// One message.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRow {
    /// Id.
    pub id: i64,
    /// Recipient.
    pub user_id: i64,
    /// Rule (translation key `notification-<kind>`).
    pub kind: String,
    /// The case it is about.
    pub case_id: Option<i64>,
    /// Translation arguments (JSON object).
    pub params: String,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When read.
    pub read_at: Option<DateTime<Utc>>,
}

/// Adds a message unless its dedupe key was used before; true when added.
pub async fn add(
    c: &mut Conn<'_>,
    user_id: i64,
    kind: &str,
    case_id: Option<i64>,
    params: &str,
    dedupe_key: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql = "INSERT INTO notifications (user_id, kind, case_id, params, dedupe_key, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING";
    Ok(on_conn!(c, c => sqlx::query(sql)
        .bind(user_id).bind(kind).bind(case_id).bind(params).bind(dedupe_key).bind(now)
        .execute(&mut **c).await?.rows_affected())
        == 1)
}

/// A person's messages, unread first, newest first, at most `limit`.
pub async fn of_user(c: &mut Conn<'_>, user_id: i64, limit: i64) -> Result<Vec<NotificationRow>, StoreError> {
    type Row = (i64, i64, String, Option<i64>, String, DateTime<Utc>, Option<DateTime<Utc>>);
    let sql = "SELECT id, user_id, kind, case_id, params, created_at, read_at FROM notifications WHERE user_id = $1 \
               ORDER BY read_at IS NOT NULL, id DESC LIMIT $2";
    let rows: Vec<Row> = on_conn!(c, c => sqlx::query_as(sql).bind(user_id).bind(limit).fetch_all(&mut **c).await?);
    Ok(rows
        .into_iter()
        .map(|(id, user_id, kind, case_id, params, created_at, read_at)| NotificationRow {
            id,
            user_id,
            kind,
            case_id,
            params,
            created_at,
            read_at,
        })
        .collect())
}

/// Marks a person's messages read (all, or those up to an id).
pub async fn mark_read(c: &mut Conn<'_>, user_id: i64, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let sql = "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL";
    Ok(on_conn!(c, c => sqlx::query(sql).bind(user_id).bind(now).execute(&mut **c).await?.rows_affected()))
}

/// Open checklist items with a deadline, with their case's entity (reminders).
pub async fn open_items_due(
    c: &mut Conn<'_>,
    until: NaiveDate,
) -> Result<Vec<(i64, i64, Option<i64>, String, NaiveDate)>, StoreError> {
    let sql = "SELECT i.id, i.case_id, i.owner_user_id, i.item_key, i.due_on FROM checklist_items i \
               JOIN cases k ON k.id = i.case_id WHERE i.status = 'open' AND i.due_on IS NOT NULL AND i.due_on <= $1 \
               AND k.state NOT IN ('closed', 'returned', 'converted', 'cancelled') ORDER BY i.id";
    Ok(on_conn!(c, c => sqlx::query_as(sql).bind(until).fetch_all(&mut **c).await?))
}

/// Active approval steps with undecided assignees: (case id, step id, step name, due on, user id, escalated).
pub async fn pending_approvals(
    c: &mut Conn<'_>,
) -> Result<Vec<(i64, i64, String, Option<NaiveDate>, i64, bool)>, StoreError> {
    let sql = "SELECT s.case_id, s.id, s.name, s.due_on, a.user_id, a.escalated FROM approval_steps s \
               JOIN approval_assignees a ON a.step_id = s.id JOIN cases k ON k.id = s.case_id \
               WHERE s.activated_on IS NOT NULL AND k.state IN ('case_review', 'open') \
               AND NOT EXISTS (SELECT 1 FROM approval_decisions d WHERE d.step_id = s.id \
                   AND (d.user_id = a.user_id OR d.decision = 'reject' OR s.mode = 'any_of')) \
               ORDER BY s.id, a.user_id";
    Ok(on_conn!(c, c => sqlx::query_as(sql).fetch_all(&mut **c).await?))
}

/// Cases whose running period ended before `today`: (case id, owner, state, deadline).
pub async fn lapsed_deadlines(
    c: &mut Conn<'_>,
    today: NaiveDate,
) -> Result<Vec<(i64, Option<i64>, String, NaiveDate)>, StoreError> {
    let sql = "SELECT id, owner_user_id, state, deadline FROM cases WHERE deadline IS NOT NULL AND deadline < $1 \
               AND state NOT IN ('closed', 'returned', 'converted', 'cancelled') ORDER BY id";
    Ok(on_conn!(c, c => sqlx::query_as(sql).bind(today).fetch_all(&mut **c).await?))
}
