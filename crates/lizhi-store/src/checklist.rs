//! Checklist items of cases: generated from templates when a case is approved, worked by their owners.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

/// One checklist item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    /// Id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// Order on the case page.
    pub position: i64,
    /// Template key (translation key `checklist-<key>`).
    pub item_key: String,
    /// Category name.
    pub category: String,
    /// Extra label (the asset of a per-asset item), shown after the translated title.
    pub label: Option<String>,
    /// The asset a per-asset item returns.
    pub asset_id: Option<i64>,
    /// Owner, resolved to a user.
    pub owner_user_id: Option<i64>,
    /// The owner's role when the item was generated.
    pub owner_role: Option<String>,
    /// Deadline rule (JSON of `lizhi_core::case::checklist::Due`).
    pub due_rule: String,
    /// Deadline, once the dates it depends on are known.
    pub due_on: Option<NaiveDate>,
    /// Cannot be completed before termination.
    pub after_termination_only: bool,
    /// `open`, `done` or `waived`.
    pub status: String,
    /// Note (what was done, why waived).
    pub note: Option<String>,
    /// When completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Who completed.
    pub completed_by: Option<String>,
}

const COLUMNS: &str = "id, case_id, position, item_key, category, label, owner_user_id, owner_role, due_rule, due_on, \
                       after_termination_only, status, note, completed_at, completed_by, asset_id";

macro_rules! item_from_row {
    ($r:expr) => {{
        let r = $r;
        ItemRow {
            id: r.try_get(0)?,
            case_id: r.try_get(1)?,
            position: r.try_get(2)?,
            item_key: r.try_get(3)?,
            category: r.try_get(4)?,
            label: r.try_get(5)?,
            owner_user_id: r.try_get(6)?,
            owner_role: r.try_get(7)?,
            due_rule: r.try_get(8)?,
            due_on: r.try_get(9)?,
            after_termination_only: r.try_get(10)?,
            status: r.try_get(11)?,
            note: r.try_get(12)?,
            completed_at: r.try_get(13)?,
            completed_by: r.try_get(14)?,
            asset_id: r.try_get(15)?,
        }
    }};
}

/// Stores generated items (their ids are ignored).
pub async fn insert(c: &mut Conn<'_>, items: &[ItemRow]) -> Result<(), StoreError> {
    let sql = "INSERT INTO checklist_items (case_id, position, item_key, category, label, owner_user_id, owner_role, \
               due_rule, due_on, after_termination_only, status, note, asset_id) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    for i in items {
        on_conn!(c, c => {
            sqlx::query(sql)
                .bind(i.case_id).bind(i.position).bind(&i.item_key).bind(&i.category).bind(&i.label)
                .bind(i.owner_user_id).bind(&i.owner_role).bind(&i.due_rule).bind(i.due_on)
                .bind(i.after_termination_only).bind(&i.status).bind(&i.note).bind(i.asset_id)
                .execute(&mut **c).await?;
        });
    }
    Ok(())
}

/// A case's items in order.
pub async fn of_case(c: &mut Conn<'_>, case_id: i64) -> Result<Vec<ItemRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM checklist_items WHERE case_id = $1 ORDER BY position");
    Ok(on_conn!(c, c => {
        let raw = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id).fetch_all(&mut **c).await?;
        let mut out = Vec::with_capacity(raw.len());
        for r in &raw {
            out.push(item_from_row!(r));
        }
        out
    }))
}

/// One item.
pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<ItemRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM checklist_items WHERE id = $1");
    Ok(on_conn!(c, c => match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **c).await? {
        Some(r) => Some(item_from_row!(&r)),
        None => None,
    }))
}

/// Open items owned by a user, soonest due first.
pub async fn open_for_user(c: &mut Conn<'_>, user_id: i64) -> Result<Vec<ItemRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM checklist_items WHERE owner_user_id = $1 AND status = 'open' \
         ORDER BY due_on IS NULL, due_on, id"
    );
    Ok(on_conn!(c, c => {
        let raw = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(&mut **c).await?;
        let mut out = Vec::with_capacity(raw.len());
        for r in &raw {
            out.push(item_from_row!(r));
        }
        out
    }))
}

/// Completes, waives or reopens an item.
pub async fn set_status(
    c: &mut Conn<'_>,
    id: i64,
    status: &str,
    note: Option<&str>,
    by: Option<&str>,
    at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let sql = "UPDATE checklist_items SET status = $2, note = $3, completed_by = $4, completed_at = $5 WHERE id = $1";
    on_conn!(c, c => {
        sqlx::query(sql).bind(id).bind(status).bind(note).bind(by).bind(at).execute(&mut **c).await?;
    });
    Ok(())
}

/// Sets an item's deadline (computed once termination is known) or owner.
pub async fn set_due(c: &mut Conn<'_>, id: i64, due_on: Option<NaiveDate>) -> Result<(), StoreError> {
    let sql = "UPDATE checklist_items SET due_on = $2 WHERE id = $1";
    on_conn!(c, c => {
        sqlx::query(sql).bind(id).bind(due_on).execute(&mut **c).await?;
    });
    Ok(())
}

/// A file attached to an item, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Id.
    pub id: i64,
    /// The item.
    pub item_id: i64,
    /// File name as uploaded.
    pub file_name: String,
    /// MIME type as uploaded.
    pub content_type: String,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// Who.
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: DateTime<Utc>,
}

type AttachmentTuple = (i64, i64, String, String, String, i64, String, DateTime<Utc>);

fn attachment(
    (id, item_id, file_name, content_type, sha256, size, uploaded_by, uploaded_at): AttachmentTuple,
) -> AttachmentInfo {
    AttachmentInfo { id, item_id, file_name, content_type, sha256, size, uploaded_by, uploaded_at }
}

/// Stores an attachment.
#[allow(clippy::too_many_arguments)]
pub async fn attach(
    c: &mut Conn<'_>,
    item_id: i64,
    file_name: &str,
    content_type: &str,
    sha256: &str,
    content: &[u8],
    by: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sql = "INSERT INTO checklist_attachments (item_id, file_name, content_type, sha256, size, content, uploaded_by, uploaded_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    Ok(on_conn!(c, c => sqlx::query_scalar(sql)
        .bind(item_id).bind(file_name).bind(content_type).bind(sha256).bind(content.len() as i64).bind(content).bind(by).bind(now)
        .fetch_one(&mut **c).await?))
}

/// The attachments of a case's items.
pub async fn attachments_of_case(c: &mut Conn<'_>, case_id: i64) -> Result<Vec<AttachmentInfo>, StoreError> {
    let sql = "SELECT a.id, a.item_id, a.file_name, a.content_type, a.sha256, a.size, a.uploaded_by, a.uploaded_at \
               FROM checklist_attachments a JOIN checklist_items i ON i.id = a.item_id WHERE i.case_id = $1 ORDER BY a.id";
    let rows: Vec<AttachmentTuple> = on_conn!(c, c => sqlx::query_as(sql).bind(case_id).fetch_all(&mut **c).await?);
    Ok(rows.into_iter().map(attachment).collect())
}

/// One attachment with its bytes and its item's case.
pub async fn attachment_with_content(
    c: &mut Conn<'_>,
    id: i64,
) -> Result<Option<(AttachmentInfo, i64, Vec<u8>)>, StoreError> {
    type Row = (i64, i64, String, String, String, i64, String, DateTime<Utc>, i64, Vec<u8>);
    let sql = "SELECT a.id, a.item_id, a.file_name, a.content_type, a.sha256, a.size, a.uploaded_by, a.uploaded_at, i.case_id, a.content \
               FROM checklist_attachments a JOIN checklist_items i ON i.id = a.item_id WHERE a.id = $1";
    let row: Option<Row> = on_conn!(c, c => sqlx::query_as(sql).bind(id).fetch_optional(&mut **c).await?);
    Ok(row.map(|(id, item_id, file_name, content_type, sha256, size, uploaded_by, uploaded_at, case_id, content)| {
        (attachment((id, item_id, file_name, content_type, sha256, size, uploaded_by, uploaded_at)), case_id, content)
    }))
}
