//! Generated case documents and admins' template overrides.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, Utc};

/// A stored document without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInfo {
    /// Id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// Letter kind code.
    pub kind: String,
    /// Language code.
    pub lang: String,
    /// SHA-256 of the PDF, hex.
    pub sha256: String,
    /// When made.
    pub created_at: DateTime<Utc>,
    /// By whom.
    pub created_by: String,
}

/// Stores a generated document.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    c: &mut Conn<'_>,
    case_id: i64,
    kind: &str,
    lang: &str,
    sha256: &str,
    pdf: &[u8],
    html: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sql = "INSERT INTO documents (case_id, kind, lang, sha256, pdf, html, created_at, created_by) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    Ok(on_conn!(c, c => sqlx::query_scalar(sql)
        .bind(case_id).bind(kind).bind(lang).bind(sha256).bind(pdf).bind(html).bind(now).bind(by)
        .fetch_one(&mut **c).await?))
}

/// A case's documents, oldest first.
pub async fn of_case(c: &mut Conn<'_>, case_id: i64) -> Result<Vec<DocumentInfo>, StoreError> {
    type Row = (i64, i64, String, String, String, DateTime<Utc>, String);
    let sql =
        "SELECT id, case_id, kind, lang, sha256, created_at, created_by FROM documents WHERE case_id = $1 ORDER BY id";
    let rows: Vec<Row> = on_conn!(c, c => sqlx::query_as(sql).bind(case_id).fetch_all(&mut **c).await?);
    Ok(rows
        .into_iter()
        .map(|(id, case_id, kind, lang, sha256, created_at, created_by)| DocumentInfo {
            id,
            case_id,
            kind,
            lang,
            sha256,
            created_at,
            created_by,
        })
        .collect())
}

/// One document's info with its PDF and HTML.
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<(DocumentInfo, Vec<u8>, String)>, StoreError> {
    type Row = (i64, i64, String, String, String, DateTime<Utc>, String, Vec<u8>, String);
    let sql = "SELECT id, case_id, kind, lang, sha256, created_at, created_by, pdf, html FROM documents WHERE id = $1";
    let row: Option<Row> = on_conn!(c, c => sqlx::query_as(sql).bind(id).fetch_optional(&mut **c).await?);
    Ok(row.map(|(id, case_id, kind, lang, sha256, created_at, created_by, pdf, html)| {
        (DocumentInfo { id, case_id, kind, lang, sha256, created_at, created_by }, pdf, html)
    }))
}

/// An admin's template for a kind and language, if any.
pub async fn template(c: &mut Conn<'_>, kind: &str, lang: &str) -> Result<Option<String>, StoreError> {
    let sql = "SELECT body FROM document_templates WHERE kind = $1 AND lang = $2";
    Ok(on_conn!(c, c => sqlx::query_scalar(sql).bind(kind).bind(lang).fetch_optional(&mut **c).await?))
}

/// Replaces (or with `None` removes) an admin's template.
pub async fn put_template(
    c: &mut Conn<'_>,
    kind: &str,
    lang: &str,
    body: Option<&str>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_conn!(c, c => {
        sqlx::query("DELETE FROM document_templates WHERE kind = $1 AND lang = $2").bind(kind).bind(lang).execute(&mut **c).await?;
        if let Some(body) = body {
            sqlx::query("INSERT INTO document_templates (kind, lang, body, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)")
                .bind(kind).bind(lang).bind(body).bind(now).bind(by).execute(&mut **c).await?;
        }
    });
    Ok(())
}
