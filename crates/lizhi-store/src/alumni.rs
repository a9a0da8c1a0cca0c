//! The alumni pool: who left, when, from which position, whether they may be rehired, and their skills.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;

/// One former employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlumnusRow {
    /// Employee id.
    pub employee_id: i64,
    /// Employee number.
    pub employee_no: String,
    /// Name.
    pub name: String,
    /// The case that closed the employment.
    pub case_id: Option<i64>,
    /// Last day of the contract.
    pub departed_on: NaiveDate,
    /// Position held last.
    pub last_position: Option<String>,
    /// Unit code.
    pub org_unit: String,
    /// May be rehired.
    pub rehire_eligible: bool,
    /// Why eligibility differs from the default.
    pub rehire_reason: Option<String>,
    /// Comma-separated skills.
    pub skills: String,
}

/// Adds or replaces a person's alumni record.
#[allow(clippy::too_many_arguments)]
pub async fn upsert(
    c: &mut Conn<'_>,
    employee_id: i64,
    case_id: Option<i64>,
    departed_on: NaiveDate,
    last_position: Option<&str>,
    org_unit_id: i64,
    rehire_eligible: bool,
    rehire_reason: Option<&str>,
    skills: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO alumni (employee_id, case_id, departed_on, last_position, org_unit_id, rehire_eligible, \
               rehire_reason, skills, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
               ON CONFLICT (employee_id) DO UPDATE SET case_id = excluded.case_id, departed_on = excluded.departed_on, \
               last_position = excluded.last_position, org_unit_id = excluded.org_unit_id, \
               rehire_eligible = excluded.rehire_eligible, rehire_reason = excluded.rehire_reason, \
               skills = excluded.skills, updated_at = excluded.updated_at";
    on_conn!(c, c => {
        sqlx::query(sql)
            .bind(employee_id).bind(case_id).bind(departed_on).bind(last_position).bind(org_unit_id)
            .bind(rehire_eligible).bind(rehire_reason).bind(skills).bind(now)
            .execute(&mut **c).await?;
    });
    Ok(())
}

/// What an alumni search is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct AlumniFilter {
    /// Words that must all appear in the skills or the last position (case-insensitive).
    pub words: Vec<String>,
    /// Only eligible (or only ineligible) people.
    pub eligible: Option<bool>,
    /// Only this employee.
    pub employee_id: Option<i64>,
    /// `None` = everyone; `Some(paths)` = only these subtrees (empty = nobody).
    pub scope_paths: Option<Vec<String>>,
}

/// Alumni matching a filter, most recent departures first.
pub async fn search(c: &mut Conn<'_>, f: &AlumniFilter, limit: i64) -> Result<Vec<AlumnusRow>, StoreError> {
    type Row = (i64, String, String, Option<i64>, NaiveDate, Option<String>, String, bool, Option<String>, String);
    let rows: Vec<Row> = on_conn!(c, c => {
        let mut qb = QueryBuilder::new(
            "SELECT a.employee_id, e.employee_no, e.name, a.case_id, a.departed_on, a.last_position, u.code, \
             a.rehire_eligible, a.rehire_reason, a.skills FROM alumni a JOIN employees e ON e.id = a.employee_id \
             JOIN org_units u ON u.id = a.org_unit_id WHERE 1 = 1",
        );
        for w in &f.words {
            let pattern = format!("%{}%", w.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            qb.push(" AND (LOWER(a.skills) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
            qb.push(" OR LOWER(COALESCE(a.last_position, '')) LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
        }
        if let Some(e) = f.eligible {
            qb.push(" AND a.rehire_eligible = ").push_bind(e);
        }
        if let Some(id) = f.employee_id {
            qb.push(" AND a.employee_id = ").push_bind(id);
        }
        crate::org::push_scope(&mut qb, "u.path", f.scope_paths.as_deref());
        qb.push(" ORDER BY a.departed_on DESC, e.employee_no LIMIT ").push_bind(limit);
        qb.build_query_as().fetch_all(&mut **c).await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(
                employee_id,
                employee_no,
                name,
                case_id,
                departed_on,
                last_position,
                org_unit,
                rehire_eligible,
                rehire_reason,
                skills,
            )| {
                AlumnusRow {
                    employee_id,
                    employee_no,
                    name,
                    case_id,
                    departed_on,
                    last_position,
                    org_unit,
                    rehire_eligible,
                    rehire_reason,
                    skills,
                }
            },
        )
        .collect())
}

/// Changes a person's skills and eligibility.
pub async fn update(
    c: &mut Conn<'_>,
    employee_id: i64,
    skills: &str,
    rehire_eligible: bool,
    rehire_reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql = "UPDATE alumni SET skills = $2, rehire_eligible = $3, rehire_reason = $4, updated_at = $5 WHERE employee_id = $1";
    Ok(
        on_conn!(c, c => sqlx::query(sql).bind(employee_id).bind(skills).bind(rehire_eligible).bind(rehire_reason).bind(now)
        .execute(&mut **c).await?.rows_affected())
            == 1,
    )
}
