//! The transactional outbox: effects recorded with the change that causes them, claimed by workers.
//!
//! Claiming marks rows `in_progress` with a lease; PostgreSQL uses `FOR UPDATE SKIP LOCKED` so instances
//! never block each other, SQLite's single writer serialises the claim by itself. A lease that runs out
//! (a worker died mid-send) makes the row claimable again.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, Utc};

/// One effect to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Id.
    pub id: i64,
    /// `email`.
    pub channel: String,
    /// The effect's idempotency key.
    pub idempotency_key: String,
    /// Address.
    pub recipient: String,
    /// What to deliver (JSON).
    pub payload: String,
    /// Delivery attempts so far.
    pub attempts: i64,
}

/// Records an effect unless one with the same key exists; true when added.
pub async fn enqueue(
    c: &mut Conn<'_>,
    channel: &str,
    key: &str,
    recipient: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    enqueue_for(c, channel, key, recipient, payload, None, now).await
}

/// [`enqueue`] for an effect of a case (shown with the case and in its evidence).
pub async fn enqueue_for(
    c: &mut Conn<'_>,
    channel: &str,
    key: &str,
    recipient: &str,
    payload: &str,
    case_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql = "INSERT INTO outbox (channel, idempotency_key, recipient, payload, status, next_attempt_at, case_id, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, 'queued', $5, $6, $5, $5) ON CONFLICT (idempotency_key) DO NOTHING";
    Ok(on_conn!(c, c => sqlx::query(sql).bind(channel).bind(key).bind(recipient).bind(payload).bind(now).bind(case_id)
        .execute(&mut **c).await?.rows_affected())
        == 1)
}

/// Whether a channel has a row to claim: a read, so an idle worker takes no write lock.
pub async fn any_due(c: &mut Conn<'_>, channel: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let sql = "SELECT id FROM outbox WHERE channel = $1 AND ((status = 'queued' AND next_attempt_at <= $2) \
               OR (status = 'in_progress' AND locked_until < $2)) LIMIT 1";
    let due: Option<i64> =
        on_conn!(c, c => sqlx::query_scalar(sql).bind(channel).bind(now).fetch_optional(&mut **c).await?);
    Ok(due.is_some())
}

/// Claims up to `limit` due rows of a channel until `lease_until`.
pub async fn claim(
    c: &mut Conn<'_>,
    channel: &str,
    limit: i64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<OutboxRow>, StoreError> {
    type Row = (i64, String, String, String, String, i64);
    let due = "(status = 'queued' AND next_attempt_at <= $2) OR (status = 'in_progress' AND locked_until < $2)";
    let rows: Vec<Row> = match c {
        Conn::Postgres(c) => {
            let sql = format!(
                "UPDATE outbox SET status = 'in_progress', locked_until = $3, attempts = attempts + 1, updated_at = $2 \
                 WHERE id IN (SELECT id FROM outbox WHERE channel = $1 AND ({due}) ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, channel, idempotency_key, recipient, payload, attempts"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(channel)
                .bind(now)
                .bind(lease_until)
                .bind(limit)
                .fetch_all(&mut **c)
                .await?
        }
        Conn::Sqlite(c) => {
            let sql = format!(
                "UPDATE outbox SET status = 'in_progress', locked_until = $3, attempts = attempts + 1, updated_at = $2 \
                 WHERE id IN (SELECT id FROM outbox WHERE channel = $1 AND ({due}) ORDER BY id LIMIT $4) \
                 RETURNING id, channel, idempotency_key, recipient, payload, attempts"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(channel)
                .bind(now)
                .bind(lease_until)
                .bind(limit)
                .fetch_all(&mut **c)
                .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|(id, channel, idempotency_key, recipient, payload, attempts)| OutboxRow {
            id,
            channel,
            idempotency_key,
            recipient,
            payload,
            attempts,
        })
        .collect())
}

/// Records the outcome of an attempt: `completed`, `failed` (given up), or `queued` again at `retry_at`.
pub async fn finish(
    c: &mut Conn<'_>,
    id: i64,
    status: &str,
    error: Option<&str>,
    retry_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "UPDATE outbox SET status = $2, last_error = $3, next_attempt_at = $4, locked_until = NULL, updated_at = $5 WHERE id = $1";
    on_conn!(c, c => { sqlx::query(sql).bind(id).bind(status).bind(error).bind(retry_at).bind(now).execute(&mut **c).await?; });
    Ok(())
}

/// Keeps what the other side answered on the last attempt (redacted JSON).
pub async fn set_evidence(c: &mut Conn<'_>, id: i64, evidence: &str) -> Result<(), StoreError> {
    let sql = "UPDATE outbox SET evidence = $2 WHERE id = $1";
    on_conn!(c, c => { sqlx::query(sql).bind(id).bind(evidence).execute(&mut **c).await?; });
    Ok(())
}

/// One attempt of the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attempt {
    /// Which attempt (1 is the first).
    pub attempt: i64,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// `delivered`, `retry` or `failed`.
    pub outcome: String,
    /// The HTTP status the other side answered, if it answered.
    pub http_status: Option<i64>,
    /// How long it took.
    pub duration_ms: i64,
    /// What was answered or went wrong (secrets removed).
    pub detail: Option<String>,
}

/// Appends an attempt to a row's delivery log.
pub async fn record_attempt(c: &mut Conn<'_>, outbox_id: i64, a: &Attempt) -> Result<(), StoreError> {
    let sql = "INSERT INTO outbox_attempts (outbox_id, attempt, started_at, outcome, http_status, duration_ms, detail) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on_conn!(c, c => { sqlx::query(sql).bind(outbox_id).bind(a.attempt).bind(a.started_at).bind(&a.outcome)
        .bind(a.http_status).bind(a.duration_ms).bind(&a.detail).execute(&mut **c).await?; });
    Ok(())
}

/// A row's delivery log, oldest first.
pub async fn attempts_of(c: &mut Conn<'_>, outbox_id: i64) -> Result<Vec<Attempt>, StoreError> {
    type Row = (i64, DateTime<Utc>, String, Option<i64>, i64, Option<String>);
    let sql = "SELECT attempt, started_at, outcome, http_status, duration_ms, detail FROM outbox_attempts \
               WHERE outbox_id = $1 ORDER BY id";
    let rows: Vec<Row> = on_conn!(c, c => sqlx::query_as(sql).bind(outbox_id).fetch_all(&mut **c).await?);
    Ok(rows
        .into_iter()
        .map(|(attempt, started_at, outcome, http_status, duration_ms, detail)| Attempt {
            attempt,
            started_at,
            outcome,
            http_status,
            duration_ms,
            detail,
        })
        .collect())
}

/// An outbox row as the operator sees it (the payload stays inside: it may hold personal data).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryView {
    /// Id.
    pub id: i64,
    /// `email`, `webhook` or `wecom`.
    pub channel: String,
    /// The idempotency key (names the event).
    pub idempotency_key: String,
    /// Address, endpoint or connector.
    pub recipient: String,
    /// `queued`, `in_progress`, `completed`, `completed_with_errors`, `failed` or `canceled`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When it is tried next (when queued).
    pub next_attempt_at: DateTime<Utc>,
    /// The last problem.
    pub last_error: Option<String>,
    /// The case it belongs to.
    pub case_id: Option<i64>,
    /// What the other side answered last (redacted JSON).
    pub evidence: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Which rows [`list`] returns.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only this channel.
    pub channel: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this case's rows.
    pub case_id: Option<i64>,
    /// At most this many, newest first.
    pub limit: i64,
}

type ViewRow = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    DateTime<Utc>,
    Option<String>,
    Option<i64>,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
);

fn view(
    (id, channel, key, recipient, status, attempts, next, error, case_id, evidence, created, updated): ViewRow,
) -> DeliveryView {
    DeliveryView {
        id,
        channel,
        idempotency_key: key,
        recipient,
        status,
        attempts,
        next_attempt_at: next,
        last_error: error,
        case_id,
        evidence,
        created_at: created,
        updated_at: updated,
    }
}

const VIEW_COLUMNS: &str = "id, channel, idempotency_key, recipient, status, attempts, next_attempt_at, last_error, case_id, \
                            evidence, created_at, updated_at";

/// Outbox rows, newest first.
pub async fn list(c: &mut Conn<'_>, filter: &DeliveryFilter) -> Result<Vec<DeliveryView>, StoreError> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM outbox WHERE ($1 IS NULL OR channel = $1) AND ($2 IS NULL OR status = $2) \
         AND ($3 IS NULL OR case_id = $3) ORDER BY id DESC LIMIT $4"
    );
    let rows: Vec<ViewRow> = on_conn!(c, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(&filter.channel).bind(&filter.status).bind(filter.case_id).bind(filter.limit.clamp(1, 1000))
        .fetch_all(&mut **c).await?);
    Ok(rows.into_iter().map(view).collect())
}

/// One outbox row.
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<DeliveryView>, StoreError> {
    let sql = format!("SELECT {VIEW_COLUMNS} FROM outbox WHERE id = $1");
    let row: Option<ViewRow> =
        on_conn!(c, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(&mut **c).await?);
    Ok(row.map(view))
}

/// Queues a row again now with a fresh attempt budget: a failed row retried, or a delivered one sent again
/// (the receiver deduplicates by the delivery id). A row being delivered is left alone; true when queued.
pub async fn requeue(c: &mut Conn<'_>, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let sql = "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = $2, locked_until = NULL, updated_at = $2 \
               WHERE id = $1 AND status IN ('failed', 'completed', 'completed_with_errors', 'canceled')";
    Ok(on_conn!(c, c => sqlx::query(sql).bind(id).bind(now).execute(&mut **c).await?.rows_affected()) == 1)
}

/// Rows of a channel by status (counts), for tests and the operator.
pub async fn counts(c: &mut Conn<'_>, channel: &str) -> Result<Vec<(String, i64)>, StoreError> {
    let sql = "SELECT status, COUNT(*) FROM outbox WHERE channel = $1 GROUP BY status ORDER BY status";
    Ok(on_conn!(c, c => sqlx::query_as(sql).bind(channel).fetch_all(&mut **c).await?))
}

/// Rows per channel and status.
pub async fn all_counts(c: &mut Conn<'_>) -> Result<Vec<(String, String, i64)>, StoreError> {
    let sql = "SELECT channel, status, COUNT(*) FROM outbox GROUP BY channel, status ORDER BY channel, status";
    Ok(on_conn!(c, c => sqlx::query_as(sql).fetch_all(&mut **c).await?))
}

/// What a case's rows of one channel deliver (id, JSON), for the use cases that summarise them.
pub async fn payloads_of_case(c: &mut Conn<'_>, case_id: i64, channel: &str) -> Result<Vec<(i64, String)>, StoreError> {
    let sql = "SELECT id, payload FROM outbox WHERE case_id = $1 AND channel = $2";
    Ok(on_conn!(c, c => sqlx::query_as(sql).bind(case_id).bind(channel).fetch_all(&mut **c).await?))
}
