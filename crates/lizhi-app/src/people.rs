//! Reading the organisation: legal entities, the org tree and employees, always within the
//! caller's scope (a manager sees only their own subtree, by list, by URL and by API alike).

use crate::{App, AppError, Ctx};
use lizhi_core::auth::{Permission, Scope};
use lizhi_core::model::{Employee, EmployeeStatus, LegalEntity, OrgUnit};
use lizhi_store::employees::{self as store, Cursor, EmployeeFilter};
use lizhi_store::{Conn, org};

/// Largest page the listing serves.
pub const MAX_PAGE: usize = 200;

/// What the employee list is asked for.
#[derive(Debug, Clone, Default)]
pub struct EmployeeQuery {
    /// Name substring or number prefix.
    pub q: Option<String>,
    /// Org unit code: that unit and below.
    pub org_unit: Option<String>,
    /// Legal entity code.
    pub legal_entity: Option<String>,
    /// `active` / `departed`.
    pub status: Option<EmployeeStatus>,
    /// Page after this employee number.
    pub after: Option<String>,
    /// Page before this employee number.
    pub before: Option<String>,
    /// Page size (default 50).
    pub limit: Option<usize>,
}

/// One page of employees.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EmployeePage {
    /// The rows.
    pub items: Vec<Employee>,
    /// Cursor for the next page, if any.
    pub next_after: Option<String>,
    /// Cursor for the previous page, if any.
    pub prev_before: Option<String>,
    /// How many employees match in all (first page only).
    pub total: Option<i64>,
}

/// The org paths a scope reaches: `None` for everyone, else the paths of its subtrees.
pub(crate) async fn scope_paths(c: &mut Conn<'_>, scope: &Scope) -> Result<Option<Vec<String>>, AppError> {
    Ok(match scope {
        Scope::All => None,
        Scope::Subtrees(ids) => Some(org::paths_of(c, ids).await?),
    })
}

fn redact(ctx: &Ctx, mut e: Employee) -> Employee {
    if ctx.require(Permission::ViewPersonalDetails).is_err() {
        e.contract_address = None;
    }
    e
}

/// The store filter for a query within the caller's scope; unknown codes are errors, not "all".
async fn filter_for(c: &mut Conn<'_>, ctx: &Ctx, query: &EmployeeQuery) -> Result<EmployeeFilter, AppError> {
    let scope = ctx.scope(Permission::ViewEmployees)?;
    let mut filter = EmployeeFilter {
        query: query.q.clone(),
        org_unit_path: None,
        legal_entity_id: None,
        status: query.status,
        scope_paths: scope_paths(c, &scope).await?,
    };
    if let Some(code) = query.org_unit.as_deref().filter(|s| !s.is_empty()) {
        let units = org::list_org_units(c).await?;
        let unit = units.iter().find(|u| u.code == code).ok_or(AppError::invalid("org_unit", "unknown_org_unit"))?;
        filter.org_unit_path = Some(unit.path.clone());
    }
    if let Some(code) = query.legal_entity.as_deref().filter(|s| !s.is_empty()) {
        let entities = org::list_entities(c).await?;
        let entity = entities
            .iter()
            .find(|e| e.code == code)
            .ok_or(AppError::invalid("legal_entity", "unknown_legal_entity"))?;
        filter.legal_entity_id = Some(entity.id);
    }
    Ok(filter)
}

/// Lists employees visible to the caller, filtered, in keyset pages ordered by number. The first
/// page also carries how many match in all (later pages skip that scan).
pub async fn list_employees(app: &App, ctx: &Ctx, query: &EmployeeQuery) -> Result<EmployeePage, AppError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let filter = filter_for(&mut c, ctx, query).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let cursor = match (&query.after, &query.before) {
        (Some(a), _) if !a.is_empty() => Cursor::After(a.clone()),
        (_, Some(b)) if !b.is_empty() => Cursor::Before(b.clone()),
        _ => Cursor::Start,
    };
    let (items, more) = store::list(&mut c, &filter, &cursor, limit).await?;
    let (has_next, has_prev) = match cursor {
        Cursor::Start => (more, false),
        Cursor::After(_) => (more, true),
        Cursor::Before(_) => (true, more),
    };
    let total = match cursor {
        Cursor::Start if !more => Some(items.len() as i64),
        Cursor::Start => Some(store::count(&mut c, &filter).await?),
        _ => None,
    };
    let next_after = if has_next { items.last().map(|e| e.employee_no.clone()) } else { None };
    let prev_before = if has_prev { items.first().map(|e| e.employee_no.clone()) } else { None };
    let items = items.into_iter().map(|e| redact(ctx, e)).collect();
    Ok(EmployeePage { items, next_after, prev_before, total })
}

/// One employee by number; outside the caller's scope it is "not found", not "forbidden", so a
/// manager cannot probe which numbers exist in other departments.
pub async fn get_employee(app: &App, ctx: &Ctx, employee_no: &str) -> Result<Employee, AppError> {
    let scope = ctx.scope(Permission::ViewEmployees)?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let employee = store::get_by_no(&mut c, employee_no).await?.ok_or(AppError::NotFound)?;
    if let Scope::Subtrees(_) = scope {
        let paths = scope_paths(&mut c, &scope).await?.unwrap_or_default();
        let unit_path = org::paths_of(&mut c, &[employee.org_unit_id]).await?.pop().unwrap_or_default();
        if !paths.iter().any(|p| unit_path.starts_with(p.as_str())) {
            return Err(AppError::NotFound);
        }
    }
    Ok(redact(ctx, employee))
}

/// Every legal entity.
pub async fn list_entities(app: &App, ctx: &Ctx) -> Result<Vec<LegalEntity>, AppError> {
    ctx.require(Permission::ViewOrg)?;
    let mut conn = app.db.acquire().await?;
    Ok(org::list_entities(&mut conn.conn()).await?)
}

/// The org units the caller may see (all, or their subtrees), ordered by path so a tree can be
/// drawn by indenting on depth.
pub async fn list_org_units(app: &App, ctx: &Ctx) -> Result<Vec<OrgUnit>, AppError> {
    ctx.require(Permission::ViewOrg)?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let units = org::list_org_units(&mut c).await?;
    match ctx.scope(Permission::ViewEmployees) {
        Ok(Scope::All) => Ok(units),
        Ok(scope) => {
            let paths = scope_paths(&mut c, &scope).await?.unwrap_or_default();
            Ok(units.into_iter().filter(|u| paths.iter().any(|p| u.path.starts_with(p.as_str()))).collect())
        }
        Err(_) => Ok(units),
    }
}

/// Active headcount per visible org unit, direct and including everything below it.
///
/// `units` is what [`list_org_units`] returned to the same caller (in its tree order).
pub async fn headcounts(
    app: &App,
    ctx: &Ctx,
    units: &[OrgUnit],
) -> Result<std::collections::HashMap<i64, (i64, i64)>, AppError> {
    ctx.require(Permission::ViewOrg)?;
    let mut conn = app.db.acquire().await?;
    let direct = store::active_count_by_unit(&mut conn.conn()).await?;
    // Units come in path order, so every child follows its parent: summing from the end rolls
    // each subtree up into its parent in one pass.
    let mut out: std::collections::HashMap<i64, (i64, i64)> =
        units.iter().map(|u| (u.id, (direct.get(&u.id).copied().unwrap_or(0), 0))).collect();
    for unit in units.iter().rev() {
        let (own, below) = out.get(&unit.id).copied().unwrap_or_default();
        let total = own + below;
        if let Some(entry) = out.get_mut(&unit.id) {
            entry.1 = total;
        }
        if let Some(parent) = unit.parent_id.and_then(|p| out.get_mut(&p)) {
            parent.1 += total;
        }
    }
    Ok(out)
}
