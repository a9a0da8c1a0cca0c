//! The asset register: company property (laptops, phones, badges…) and who holds it.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, NaiveDate, Utc};

/// One asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRow {
    /// Id.
    pub id: i64,
    /// Inventory tag (unique).
    pub tag: String,
    /// Kind (`laptop`, `phone`, `badge`…).
    pub kind: String,
    /// What it is.
    pub description: String,
    /// Holder.
    pub employee_id: Option<i64>,
    /// Holder's number.
    pub employee_no: Option<String>,
    /// Since when.
    pub assigned_on: Option<NaiveDate>,
    /// `in_use`, `in_stock`, `returned` or `lost`.
    pub status: String,
}

type Row = (i64, String, String, String, Option<i64>, Option<String>, Option<NaiveDate>, String);

fn from_row((id, tag, kind, description, employee_id, employee_no, assigned_on, status): Row) -> AssetRow {
    AssetRow { id, tag, kind, description, employee_id, employee_no, assigned_on, status }
}

const SELECT: &str = "SELECT a.id, a.tag, a.kind, a.description, a.employee_id, e.employee_no, a.assigned_on, a.status \
                      FROM assets a LEFT JOIN employees e ON e.id = a.employee_id \
                      LEFT JOIN org_units u ON u.id = e.org_unit_id WHERE 1 = 1";

/// Creates or changes an asset by tag.
#[allow(clippy::too_many_arguments)]
pub async fn upsert(
    c: &mut Conn<'_>,
    tag: &str,
    kind: &str,
    description: &str,
    employee_id: Option<i64>,
    assigned_on: Option<NaiveDate>,
    status: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO assets (tag, kind, description, employee_id, assigned_on, status, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tag) DO UPDATE SET kind = excluded.kind, \
               description = excluded.description, employee_id = excluded.employee_id, \
               assigned_on = excluded.assigned_on, status = excluded.status, updated_at = excluded.updated_at";
    on_conn!(c, c => {
        sqlx::query(sql).bind(tag).bind(kind).bind(description).bind(employee_id).bind(assigned_on).bind(status).bind(now)
            .execute(&mut **c).await?;
    });
    Ok(())
}

/// Assets, of one holder or all, by tag; with `scope_paths`, only those held in these subtrees.
pub async fn list(
    c: &mut Conn<'_>,
    employee_id: Option<i64>,
    scope_paths: Option<&[String]>,
) -> Result<Vec<AssetRow>, StoreError> {
    let rows: Vec<Row> = on_conn!(c, c => {
        let mut qb = sqlx::QueryBuilder::new(SELECT);
        if let Some(id) = employee_id {
            qb.push(" AND a.employee_id = ").push_bind(id);
        }
        crate::org::push_scope(&mut qb, "u.path", scope_paths);
        qb.push(" ORDER BY a.tag");
        qb.build_query_as().fetch_all(&mut **c).await?
    });
    Ok(rows.into_iter().map(from_row).collect())
}

/// Sets an asset's status (a returned laptop goes back to stock).
pub async fn set_status(c: &mut Conn<'_>, id: i64, status: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    let sql = "UPDATE assets SET status = $2, updated_at = $3 WHERE id = $1";
    on_conn!(c, c => { sqlx::query(sql).bind(id).bind(status).bind(now).execute(&mut **c).await?; });
    Ok(())
}
