//! Access actions: one row per effect on one account, the outbox of revocation. Claimed by workers in the
//! revocation order of each case (a system is not touched while one before it is still pending).

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, Utc};

/// An action to enqueue.
#[derive(Debug, Clone)]
pub struct NewAction {
    /// The case that asks for it.
    pub case_id: Option<i64>,
    /// Whose account.
    pub employee_id: i64,
    /// In which system.
    pub connector_id: i64,
    /// The account.
    pub account_id: String,
    /// `freeze`, `unfreeze` or `revoke`.
    pub intent: String,
    /// One row per (case, system, intent, account): a second request adds nothing.
    pub idempotency_key: String,
    /// The connector's position in the revocation order.
    pub revoke_order: i32,
}

/// Adds actions due now, skipping those whose idempotency key exists; returns how many were added.
pub async fn enqueue(c: &mut Conn<'_>, actions: &[NewAction], now: DateTime<Utc>) -> Result<u64, StoreError> {
    enqueue_at(c, actions, now, now).await
}

/// Adds actions due at `due` (re-verifications a day and a week later).
pub async fn enqueue_at(
    c: &mut Conn<'_>,
    actions: &[NewAction],
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut added = 0;
    for a in actions {
        added += on_conn!(c, c => sqlx::query(
            "INSERT INTO access_actions (case_id, employee_id, connector_id, account_id, intent, idempotency_key, \
             revoke_order, status, next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $9, $9) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(a.case_id).bind(a.employee_id).bind(a.connector_id).bind(&a.account_id).bind(&a.intent)
        .bind(&a.idempotency_key).bind(a.revoke_order).bind(due).bind(now)
        .execute(&mut **c).await?.rows_affected());
    }
    Ok(added)
}

/// Whether any action is due (a read, so an idle worker takes no write lock).
pub async fn any_due(c: &mut Conn<'_>, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let due: Option<i64> = on_conn!(c, c => sqlx::query_scalar(
        "SELECT id FROM access_actions WHERE (status = 'queued' AND next_attempt_at <= $1) \
         OR (status = 'in_progress' AND locked_until < $1) LIMIT 1",
    )
    .bind(now)
    .fetch_optional(&mut **c)
    .await?);
    Ok(due.is_some())
}

/// A claimed action with what the worker needs to perform it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedAction {
    /// Id.
    pub id: i64,
    /// The case that asked for it.
    pub case_id: Option<i64>,
    /// Whose account.
    pub employee_id: i64,
    /// The connector's id.
    pub connector_id: i64,
    /// Its position in the revocation order.
    pub revoke_order: i32,
    /// Connector code.
    pub connector: String,
    /// The account.
    pub account_id: String,
    /// Intent name.
    pub intent: String,
    /// Attempts including this one.
    pub attempts: i64,
    /// The last attempt's outcome is unknown: read back before acting again.
    pub read_back_first: bool,
}

/// Claims up to `limit` due actions until `lease_until`, in revocation order, never one whose case still has
/// an earlier system pending for the same intent (read-only re-checks keep no order).
pub async fn claim(
    c: &mut Conn<'_>,
    limit: i64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<ClaimedAction>, StoreError> {
    type Row = (i64, Option<i64>, i64, i64, i32, String, String, String, i64, bool);
    let pick = "SELECT a.id FROM access_actions a WHERE \
        ((a.status = 'queued' AND a.next_attempt_at <= $1) OR (a.status = 'in_progress' AND a.locked_until < $1)) \
        AND (a.intent LIKE 'verify_%' OR NOT EXISTS (SELECT 1 FROM access_actions o WHERE o.case_id = a.case_id \
            AND o.intent = a.intent AND o.revoke_order < a.revoke_order AND o.status IN ('queued', 'in_progress'))) \
        ORDER BY a.revoke_order, a.id LIMIT $3";
    // A row still `in_progress` had a worker die mid-attempt: the effect may have landed, so read back first.
    let update = "UPDATE access_actions SET read_back_first = (read_back_first OR status = 'in_progress'), \
        status = 'in_progress', locked_until = $2, attempts = attempts + 1, updated_at = $1 WHERE id IN";
    let returning = "RETURNING id, case_id, employee_id, connector_id, revoke_order, \
        (SELECT code FROM connectors k WHERE k.id = connector_id), account_id, intent, attempts, read_back_first";
    let rows: Vec<Row> = match c {
        Conn::Postgres(c) => {
            let sql = format!("{update} ({pick} FOR UPDATE SKIP LOCKED) {returning}");
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(lease_until).bind(limit).fetch_all(&mut **c).await?
        }
        Conn::Sqlite(c) => {
            let sql = format!("{update} ({pick}) {returning}");
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(lease_until).bind(limit).fetch_all(&mut **c).await?
        }
    };
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                case_id,
                employee_id,
                connector_id,
                revoke_order,
                connector,
                account_id,
                intent,
                attempts,
                read_back_first,
            )| ClaimedAction {
                id,
                case_id,
                employee_id,
                connector_id,
                revoke_order,
                connector,
                account_id,
                intent,
                attempts,
                read_back_first,
            },
        )
        .collect())
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// New status.
    pub status: &'static str,
    /// Read back before the next attempt (the outcome of this one is unknown).
    pub read_back_first: bool,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// The read-back, redacted (JSON).
    pub evidence: Option<String>,
    /// `verified`, `not_revoked` or `unverifiable`.
    pub verdict: Option<&'static str>,
    /// When the verdict was `verified`.
    pub verified_at: Option<DateTime<Utc>>,
    /// When to try again (for `queued`).
    pub next_attempt_at: DateTime<Utc>,
}

/// Records an attempt's outcome and releases the claim.
pub async fn finish(c: &mut Conn<'_>, id: i64, o: &Outcome, now: DateTime<Utc>) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query(
        "UPDATE access_actions SET status = $2, read_back_first = $3, last_error = $4, \
         evidence = COALESCE($5, evidence), verdict = COALESCE($6, verdict), verified_at = COALESCE($7, verified_at), \
         next_attempt_at = $8, locked_until = NULL, updated_at = $9 WHERE id = $1",
    )
    .bind(id).bind(o.status).bind(o.read_back_first).bind(&o.error).bind(&o.evidence).bind(o.verdict)
    .bind(o.verified_at).bind(o.next_attempt_at).bind(now)
    .execute(&mut **c).await.map(|_| ())?);
    Ok(())
}

/// One action as the case page's matrix shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionView {
    /// Id.
    pub id: i64,
    /// The case that asked for it.
    pub case_id: Option<i64>,
    /// Connector code.
    pub connector: String,
    /// Connector name.
    pub connector_name: String,
    /// The account.
    pub account_id: String,
    /// Intent name.
    pub intent: String,
    /// Status.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The last problem.
    pub last_error: Option<String>,
    /// The read-back (JSON, redacted).
    pub evidence: Option<String>,
    /// The read-back's verdict.
    pub verdict: Option<String>,
    /// When access was seen gone.
    pub verified_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A case's actions, in revocation order.
pub async fn of_case(c: &mut Conn<'_>, case_id: i64) -> Result<Vec<ActionView>, StoreError> {
    views(c, "a.case_id = $1 ORDER BY a.revoke_order, a.id", Some(case_id)).await
}

/// Actions that need an operator: given up, or done without the read-back showing it; newest first.
pub async fn needing_attention(c: &mut Conn<'_>, limit: i64) -> Result<Vec<ActionView>, StoreError> {
    let filter = format!(
        "a.status IN ('failed', 'completed_with_errors') AND a.intent NOT LIKE 'verify_%' \
         ORDER BY a.updated_at DESC, a.id DESC LIMIT {}",
        limit.clamp(1, 1000)
    );
    views(c, &filter, None).await
}

type ViewRow = (
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

async fn views(c: &mut Conn<'_>, filter: &str, bind: Option<i64>) -> Result<Vec<ActionView>, StoreError> {
    let sql = format!(
        "SELECT a.id, a.case_id, k.code, k.name, a.account_id, a.intent, a.status, a.attempts, a.last_error, a.evidence, \
         a.verdict, a.verified_at, a.updated_at FROM access_actions a JOIN connectors k ON k.id = a.connector_id \
         WHERE {filter}"
    );
    let rows: Vec<ViewRow> = on_conn!(c, c => {
        let query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
        let query = match bind { Some(v) => query.bind(v), None => query };
        query.fetch_all(&mut **c).await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                case_id,
                connector,
                connector_name,
                account_id,
                intent,
                status,
                attempts,
                last_error,
                evidence,
                verdict,
                verified_at,
                updated_at,
            )| ActionView {
                id,
                case_id,
                connector,
                connector_name,
                account_id,
                intent,
                status,
                attempts,
                last_error,
                evidence,
                verdict,
                verified_at,
                updated_at,
            },
        )
        .collect())
}

/// Queues a given-up or unconfirmed action again now, with a fresh attempt budget. It reads the account
/// first (the last outcome may have landed), so a retry never repeats an effect; true when queued.
pub async fn retry(c: &mut Conn<'_>, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let sql = "UPDATE access_actions SET status = 'queued', attempts = 0, read_back_first = TRUE, next_attempt_at = $2, \
               locked_until = NULL, updated_at = $2 WHERE id = $1 AND status IN ('failed', 'completed_with_errors', 'canceled')";
    Ok(on_conn!(c, c => sqlx::query(sql).bind(id).bind(now).execute(&mut **c).await?.rows_affected()) == 1)
}

/// Cancels a case's queued actions of one intent (the re-checks of a freeze that was undone); returns how
/// many.
pub async fn cancel_queued(
    c: &mut Conn<'_>,
    case_id: i64,
    intent: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let sql = "UPDATE access_actions SET status = 'canceled', updated_at = $3 WHERE case_id = $1 AND intent = $2 \
               AND status = 'queued'";
    Ok(on_conn!(c, c => sqlx::query(sql).bind(case_id).bind(intent).bind(now).execute(&mut **c).await?.rows_affected()))
}

/// The case an action belongs to.
pub async fn case_of(c: &mut Conn<'_>, id: i64) -> Result<Option<Option<i64>>, StoreError> {
    let row: Option<(Option<i64>,)> = on_conn!(c, c => sqlx::query_as("SELECT case_id FROM access_actions WHERE id = $1")
        .bind(id).fetch_optional(&mut **c).await?);
    Ok(row.map(|(case,)| case))
}

/// A case's revocations: how many were asked for and how many the systems show done.
pub async fn revoke_summary(c: &mut Conn<'_>, case_id: i64) -> Result<(i64, i64), StoreError> {
    Ok(on_conn!(c, c => sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN status = 'completed' AND verdict = 'verified' THEN 1 ELSE 0 END), 0) \
         AS BIGINT) \
         FROM access_actions WHERE case_id = $1 AND intent = 'revoke'",
    )
    .bind(case_id)
    .fetch_one(&mut **c)
    .await?))
}

/// Actions per connector and status, and the newest problems (for `lizhi connectors status`).
pub async fn status_counts(c: &mut Conn<'_>) -> Result<Vec<(String, String, i64)>, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_as(
        "SELECT k.code, a.status, COUNT(*) FROM access_actions a JOIN connectors k ON k.id = a.connector_id \
         GROUP BY k.code, a.status ORDER BY k.code, a.status",
    )
    .fetch_all(&mut **c)
    .await?))
}
