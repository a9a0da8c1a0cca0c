//! Uploaded import files kept between preview and commit (in the database, so any instance can
//! commit what another previewed).

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, Utc};

/// A stored upload.
#[derive(Debug, Clone)]
pub struct ImportBatch {
    /// Id.
    pub id: i64,
    /// Import kind (`employees`…).
    pub kind: String,
    /// Original file name.
    pub file_name: String,
    /// The bytes as uploaded.
    pub content: Vec<u8>,
    /// SHA-256 of the bytes.
    pub sha256: String,
    /// `previewed`, `applied` or `rejected`.
    pub status: String,
    /// JSON report of the last preview or apply.
    pub report: String,
    /// Uploader.
    pub created_by: Option<i64>,
    /// Upload time.
    pub created_at: DateTime<Utc>,
}

/// Stores an upload with its preview report.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    c: &mut Conn<'_>,
    kind: &str,
    file_name: &str,
    content: &[u8],
    sha256: &str,
    status: &str,
    report: &str,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar(
        "INSERT INTO import_batches (kind, file_name, content, sha256, status, report, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
        .bind(kind).bind(file_name).bind(content).bind(sha256).bind(status).bind(report).bind(created_by).bind(now)
        .fetch_one(&mut **c).await?))
}

/// One upload by id.
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<ImportBatch>, StoreError> {
    type R = (i64, String, String, Vec<u8>, String, String, String, Option<i64>, DateTime<Utc>);
    let row: Option<R> = on_conn!(c, c => sqlx::query_as(
        "SELECT id, kind, file_name, content, sha256, status, report, created_by, created_at FROM import_batches WHERE id = $1")
        .bind(id).fetch_optional(&mut **c).await?);
    Ok(row.map(|(id, kind, file_name, content, sha256, status, report, created_by, created_at)| ImportBatch {
        id,
        kind,
        file_name,
        content,
        sha256,
        status,
        report,
        created_by,
        created_at,
    }))
}

/// Records the outcome of applying an upload.
pub async fn finish(
    c: &mut Conn<'_>,
    id: i64,
    status: &str,
    report: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query("UPDATE import_batches SET status = $1, report = $2, applied_at = $3 WHERE id = $4")
        .bind(status).bind(report).bind(now).bind(id).execute(&mut **c).await?.rows_affected());
    Ok(())
}
