//! Employees: filtered keyset listing, lookup and bulk upserts for imports.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, NaiveDate, Utc};
use lizhi_core::model::{Employee, EmployeeStatus};
use sqlx::{QueryBuilder, Row};
use std::collections::HashMap;

const SELECT: &str = "SELECT e.id, e.employee_no, e.name, e.legal_entity_id, le.code, e.org_unit_id, ou.code, \
     ou.name, e.manager_id, m.employee_no, m.name, e.hire_date, e.status, e.email, e.mobile, e.position, \
     e.contract_address, e.work_calendar, e.updated_at \
     FROM employees e JOIN legal_entities le ON le.id = e.legal_entity_id \
     JOIN org_units ou ON ou.id = e.org_unit_id LEFT JOIN employees m ON m.id = e.manager_id";

macro_rules! employee_from_row {
    ($r:expr) => {{
        let r = $r;
        let status: String = r.try_get(12)?;
        Employee {
            id: r.try_get(0)?,
            employee_no: r.try_get(1)?,
            name: r.try_get(2)?,
            legal_entity_id: r.try_get(3)?,
            legal_entity_code: r.try_get(4)?,
            org_unit_id: r.try_get(5)?,
            org_unit_code: r.try_get(6)?,
            org_unit_name: r.try_get(7)?,
            manager_id: r.try_get(8)?,
            manager_no: r.try_get(9)?,
            manager_name: r.try_get(10)?,
            hire_date: r.try_get(11)?,
            status: EmployeeStatus::parse(&status).unwrap_or(EmployeeStatus::Active),
            email: r.try_get(13)?,
            mobile: r.try_get(14)?,
            position: r.try_get(15)?,
            contract_address: r.try_get(16)?,
            work_calendar: r.try_get(17)?,
            updated_at: r.try_get(18)?,
        }
    }};
}

/// Where a listing page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// From the first employee number.
    Start,
    /// Numbers strictly after this one.
    After(String),
    /// Numbers strictly before this one (the previous page).
    Before(String),
}

/// What an employee listing is narrowed to; every field is optional but the scope.
#[derive(Debug, Clone)]
pub struct EmployeeFilter {
    /// Substring of the name or prefix of the employee number.
    pub query: Option<String>,
    /// Only this unit's subtree (its path).
    pub org_unit_path: Option<String>,
    /// Only this legal entity.
    pub legal_entity_id: Option<i64>,
    /// Only this status.
    pub status: Option<EmployeeStatus>,
    /// `None` = everyone; `Some(paths)` = only these subtrees (empty = nobody).
    pub scope_paths: Option<Vec<String>>,
}

fn like_escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for ch in raw.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn push_filter<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, f: &EmployeeFilter)
where
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    qb.push(" WHERE 1 = 1");
    if let Some(q) = f.query.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        // Case-insensitive match without LOWER() on every row: SQLite's LIKE already ignores ASCII
        // case, PostgreSQL has ILIKE. (LOWER() made a 100,000-row search twice as slow.)
        let like = if DB::NAME == "PostgreSQL" { " ILIKE " } else { " LIKE " };
        let q = like_escape(q);
        qb.push(" AND (e.name")
            .push(like)
            .push_bind(format!("%{q}%"))
            .push(" ESCAPE '\\' OR e.employee_no")
            .push(like)
            .push_bind(format!("{q}%"))
            .push(" ESCAPE '\\')");
    }
    if let Some(path) = &f.org_unit_path {
        qb.push(" AND ou.path LIKE ").push_bind(format!("{path}%"));
    }
    if let Some(id) = f.legal_entity_id {
        qb.push(" AND e.legal_entity_id = ").push_bind(id);
    }
    if let Some(status) = f.status {
        qb.push(" AND e.status = ").push_bind(status.name().to_owned());
    }
    crate::org::push_scope(qb, "ou.path", f.scope_paths.as_deref());
}

/// One page of employees ordered by number, plus whether more exist beyond it in that direction.
pub async fn list(
    c: &mut Conn<'_>,
    filter: &EmployeeFilter,
    cursor: &Cursor,
    limit: usize,
) -> Result<(Vec<Employee>, bool), StoreError> {
    let fetch = (limit + 1) as i64;
    let mut rows: Vec<Employee> = on_conn!(c, c => {
        let mut qb = QueryBuilder::new(SELECT);
        push_filter(&mut qb, filter);
        match cursor {
            Cursor::Start => qb.push(" ORDER BY e.employee_no LIMIT "),
            Cursor::After(no) => qb.push(" AND e.employee_no > ").push_bind(no.clone()).push(" ORDER BY e.employee_no LIMIT "),
            Cursor::Before(no) => qb.push(" AND e.employee_no < ").push_bind(no.clone()).push(" ORDER BY e.employee_no DESC LIMIT "),
        };
        qb.push_bind(fetch);
        let raw = qb.build().fetch_all(&mut **c).await?;
        let mut out = Vec::with_capacity(raw.len());
        for r in &raw {
            out.push(employee_from_row!(r));
        }
        out
    });
    let more = rows.len() > limit;
    rows.truncate(limit);
    if matches!(cursor, Cursor::Before(_)) {
        rows.reverse();
    }
    Ok((rows, more))
}

/// How many employees match a filter.
pub async fn count(c: &mut Conn<'_>, filter: &EmployeeFilter) -> Result<i64, StoreError> {
    let n: i64 = on_conn!(c, c => {
        let mut qb = QueryBuilder::new(
            "SELECT COUNT(*) FROM employees e JOIN org_units ou ON ou.id = e.org_unit_id",
        );
        push_filter(&mut qb, filter);
        qb.build().fetch_one(&mut **c).await?.try_get(0)?
    });
    Ok(n)
}

/// One employee by number, with joined names.
pub async fn get_by_no(c: &mut Conn<'_>, employee_no: &str) -> Result<Option<Employee>, StoreError> {
    Ok(on_conn!(c, c => {
        let mut qb = QueryBuilder::new(SELECT);
        qb.push(" WHERE e.employee_no = ").push_bind(employee_no.to_owned());
        match qb.build().fetch_optional(&mut **c).await? {
            Some(r) => Some(employee_from_row!(&r)),
            None => None,
        }
    }))
}

/// One employee by id.
pub async fn get_by_id(c: &mut Conn<'_>, id: i64) -> Result<Option<Employee>, StoreError> {
    Ok(on_conn!(c, c => {
        let mut qb = QueryBuilder::new(SELECT);
        qb.push(" WHERE e.id = ").push_bind(id);
        match qb.build().fetch_optional(&mut **c).await? {
            Some(r) => Some(employee_from_row!(&r)),
            None => None,
        }
    }))
}

/// Every employee keyed by number (imports diff against it).
pub async fn all_by_no(c: &mut Conn<'_>) -> Result<HashMap<String, Employee>, StoreError> {
    Ok(on_conn!(c, c => {
        let raw = sqlx::query(SELECT).fetch_all(&mut **c).await?;
        let mut out = HashMap::with_capacity(raw.len());
        for r in &raw {
            let e = employee_from_row!(r);
            out.insert(e.employee_no.clone(), e);
        }
        out
    }))
}

/// Values of an employee to insert or update by number.
#[derive(Debug, Clone)]
pub struct EmployeeWrite {
    /// The stored id, or one from [`reserve_ids`] for a new employee (ignored when the number exists).
    pub id: i64,
    /// Line manager; must be stored already or come earlier in the same statement.
    pub manager_id: Option<i64>,
    /// Key.
    pub employee_no: String,
    /// Full name.
    pub name: String,
    /// Employer.
    pub legal_entity_id: i64,
    /// Unit.
    pub org_unit_id: i64,
    /// Hire date.
    pub hire_date: NaiveDate,
    /// Work email.
    pub email: Option<String>,
    /// Mobile.
    pub mobile: Option<String>,
    /// Job title.
    pub position: Option<String>,
    /// Address for notices.
    pub contract_address: Option<String>,
    /// Calendar name.
    pub work_calendar: Option<String>,
}

/// Inserts new employees (active) and updates existing ones by number.
pub async fn upsert(c: &mut Conn<'_>, rows: &[EmployeeWrite], now: DateTime<Utc>) -> Result<(), StoreError> {
    const UPDATE: &str = " ON CONFLICT (employee_no) DO UPDATE SET name = excluded.name, \
         legal_entity_id = excluded.legal_entity_id, org_unit_id = excluded.org_unit_id, \
         manager_id = excluded.manager_id, hire_date = excluded.hire_date, email = excluded.email, \
         mobile = excluded.mobile, position = excluded.position, contract_address = excluded.contract_address, \
         work_calendar = excluded.work_calendar, updated_at = excluded.updated_at";
    match c {
        // One statement with array parameters: PostgreSQL plans a 5,000-parameter VALUES list
        // slowly, UNNEST of a few arrays quickly.
        Conn::Postgres(pg) => {
            let col = |f: fn(&EmployeeWrite) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO employees (id, employee_no, name, legal_entity_id, org_unit_id, manager_id, hire_date, \
                 status, email, mobile, position, contract_address, work_calendar, created_at, updated_at) \
                 SELECT t.id, t.no, t.name, t.le, t.ou, t.mid, t.hd, 'active', t.em, t.mo, t.po, t.ca, t.wc, $13, $13 \
                 FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::date[], $6::text[], $7::text[], \
                 $8::text[], $9::text[], $10::text[], $11::int8[], $12::int8[]) \
                 AS t(no, name, le, ou, hd, em, mo, po, ca, wc, id, mid){UPDATE}"
            )))
            .bind(rows.iter().map(|r| r.employee_no.clone()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.legal_entity_id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.org_unit_id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.hire_date).collect::<Vec<_>>())
            .bind(col(|r| r.email.clone()))
            .bind(col(|r| r.mobile.clone()))
            .bind(col(|r| r.position.clone()))
            .bind(col(|r| r.contract_address.clone()))
            .bind(col(|r| r.work_calendar.clone()))
            .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.manager_id).collect::<Vec<_>>())
            .bind(now)
            .execute(&mut **pg)
            .await
            .map_err(StoreError::from_write)?;
        }
        Conn::Sqlite(lite) => {
            for chunk in rows.chunks(400) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO employees (id, employee_no, name, legal_entity_id, org_unit_id, manager_id, hire_date, \
                     status, email, mobile, position, contract_address, work_calendar, created_at, updated_at) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.id)
                        .push_bind(&r.employee_no)
                        .push_bind(&r.name)
                        .push_bind(r.legal_entity_id)
                        .push_bind(r.org_unit_id)
                        .push_bind(r.manager_id)
                        .push_bind(r.hire_date)
                        .push_bind("active")
                        .push_bind(&r.email)
                        .push_bind(&r.mobile)
                        .push_bind(&r.position)
                        .push_bind(&r.contract_address)
                        .push_bind(&r.work_calendar)
                        .push_bind(now)
                        .push_bind(now);
                });
                qb.push(UPDATE);
                qb.build().execute(&mut **lite).await.map_err(StoreError::from_write)?;
            }
        }
    }
    Ok(())
}

/// Reserves ids for `n` new employees, so rows can reference each other (managers) before they
/// are written. Call inside the write transaction that inserts them.
pub async fn reserve_ids(c: &mut Conn<'_>, n: usize) -> Result<Vec<i64>, StoreError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    match c {
        Conn::Postgres(pg) => Ok(sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence('employees', 'id')) FROM generate_series(1, $1)",
        )
        .bind(n as i64)
        .fetch_all(&mut **pg)
        .await?),
        // The write transaction (BEGIN IMMEDIATE) keeps every other writer out until commit.
        Conn::Sqlite(lite) => {
            let max: i64 =
                sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM employees").fetch_one(&mut **lite).await?;
            Ok((1..=n as i64).map(|i| max + i).collect())
        }
    }
}

/// Employees of any status per org unit (direct members only).
pub async fn count_by_unit(c: &mut Conn<'_>) -> Result<HashMap<i64, i64>, StoreError> {
    let rows: Vec<(i64, i64)> = on_conn!(c, c => sqlx::query_as(
        "SELECT org_unit_id, CAST(COUNT(*) AS BIGINT) FROM employees GROUP BY org_unit_id")
        .fetch_all(&mut **c).await?);
    Ok(rows.into_iter().collect())
}

/// Active employees per org unit (direct members only).
pub async fn active_count_by_unit(c: &mut Conn<'_>) -> Result<HashMap<i64, i64>, StoreError> {
    let rows: Vec<(i64, i64)> = on_conn!(c, c => sqlx::query_as(
        "SELECT org_unit_id, CAST(COUNT(*) AS BIGINT) FROM employees WHERE status = 'active' GROUP BY org_unit_id")
        .fetch_all(&mut **c).await?);
    Ok(rows.into_iter().collect())
}

/// Every employee's number, id and legal entity: the lookup attendance imports need, without the
/// joins of a full listing.
pub async fn index(c: &mut Conn<'_>) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_as("SELECT employee_no, id, legal_entity_id FROM employees")
        .fetch_all(&mut **c).await?))
}

/// What a risk scan needs of one active employee: a narrow row, so 100,000 of them load fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSubject {
    /// Id.
    pub id: i64,
    /// Number.
    pub employee_no: String,
    /// Name.
    pub name: String,
    /// Employer.
    pub legal_entity_id: i64,
    /// Unit code.
    pub org_unit_code: String,
    /// Unit path (for subtree scopes).
    pub org_path: String,
    /// Hire date.
    pub hire_date: NaiveDate,
    /// Own work calendar, if not the entity's.
    pub work_calendar: Option<String>,
}

/// Active employees, of one legal entity or all, or one employee by number; by number.
///
/// Packed per 256 employees as JSON by the database, like the attendance summaries: a scan of
/// 100,000 people then costs a few hundred driver rows instead of 100,000.
pub async fn scan_subjects(
    c: &mut Conn<'_>,
    legal_entity_id: Option<i64>,
    employee_no: Option<&str>,
) -> Result<Vec<ScanSubject>, StoreError> {
    type Subject = (i64, String, String, i64, String, String, NaiveDate, Option<String>);
    let packed =
        c.json_rows("e.id, e.employee_no, e.name, e.legal_entity_id, ou.code, ou.path, e.hire_date, e.work_calendar");
    let mut filter = String::new();
    if legal_entity_id.is_some() {
        filter.push_str(" AND e.legal_entity_id = $1");
    }
    if employee_no.is_some() {
        filter.push_str(if legal_entity_id.is_some() { " AND e.employee_no = $2" } else { " AND e.employee_no = $1" });
    }
    let sql = format!(
        "SELECT {packed} FROM employees e JOIN org_units ou ON ou.id = e.org_unit_id \
         WHERE e.status = 'active'{filter} GROUP BY e.id / 256"
    );
    let batches: Vec<(String,)> = on_conn!(c, c => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        if let Some(id) = legal_entity_id {
            q = q.bind(id);
        }
        if let Some(no) = employee_no {
            q = q.bind(no);
        }
        q.fetch_all(&mut **c).await?
    });
    let mut out = Vec::new();
    for (batch,) in batches {
        let rows: Vec<Subject> =
            serde_json::from_str(&batch).map_err(|e| StoreError::Corrupt(format!("employees: {e}")))?;
        out.extend(rows.into_iter().map(
            |(id, employee_no, name, legal_entity_id, org_unit_code, org_path, hire_date, work_calendar)| ScanSubject {
                id,
                employee_no,
                name,
                legal_entity_id,
                org_unit_code,
                org_path,
                hire_date,
                work_calendar,
            },
        ));
    }
    out.sort_by(|a, b| a.employee_no.cmp(&b.employee_no));
    Ok(out)
}
