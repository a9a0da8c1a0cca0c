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
    let sql = "INSERT INTO outbox (channel, idempotency_key, recipient, payload, status, next_attempt_at, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, 'queued', $5, $5, $5) ON CONFLICT (idempotency_key) DO NOTHING";
    Ok(on_conn!(c, c => sqlx::query(sql).bind(channel).bind(key).bind(recipient).bind(payload).bind(now)
        .execute(&mut **c).await?.rows_affected())
        == 1)
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

/// Rows of a channel by status (counts), for tests and the operator.
pub async fn counts(c: &mut Conn<'_>, channel: &str) -> Result<Vec<(String, i64)>, StoreError> {
    let sql = "SELECT status, COUNT(*) FROM outbox WHERE channel = $1 GROUP BY status ORDER BY status";
    Ok(on_conn!(c, c => sqlx::query_as(sql).bind(channel).fetch_all(&mut **c).await?))
}
