//! Import of employees, with their managers (possibly defined later in the same file).

use super::{Columns, Counts, Errors, Pass, required_text, text};
use crate::AppError;
use crate::audit::{change, record};
use chrono::NaiveDate;
use lizhi_core::graph::nodes_on_cycles;
use lizhi_core::{Email, EmployeeNo, EntityCode, FieldError, Mobile, OrgUnitCode, WorkDate};
use lizhi_docs::Record;
use lizhi_store::audit::AuditWrite;
use lizhi_store::employees::{self as store, EmployeeWrite};
use lizhi_store::{Conn, org};
use serde::Serialize;
use std::collections::HashMap;

/// Rows written per statement batch; progress is reported between batches.
const BATCH: usize = 2_000;

/// What is audited and compared for an employee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Snapshot {
    employee_no: String,
    name: String,
    legal_entity: String,
    org_unit: String,
    manager_no: Option<String>,
    hire_date: NaiveDate,
    status: String,
    email: Option<String>,
    mobile: Option<String>,
    position: Option<String>,
    contract_address: Option<String>,
    work_calendar: Option<String>,
}

/// An optional column's value: `None` when the column is absent (the stored value stays).
fn optional_cell<T>(
    cols: &Columns<'_>,
    record: &Record,
    column: &str,
    errors: &mut Errors,
    parse: impl Fn(&str) -> Result<Option<T>, FieldError>,
) -> Result<Option<Option<T>>, ()> {
    match cols.optional(record, column) {
        None => Ok(None),
        Some(raw) => parse(raw).map(Some).map_err(|e| errors.cell(record, column, &e, raw)),
    }
}

fn optional_parsed<T>(parse: impl Fn(&str) -> Result<T, FieldError>) -> impl Fn(&str) -> Result<Option<T>, FieldError> {
    move |raw: &str| {
        if raw.trim().is_empty() { Ok(None) } else { parse(raw).map(Some) }
    }
}

struct Parsed {
    row: usize,
    no: String,
    name: String,
    entity: String,
    unit: String,
    manager: Option<String>,
    hire: NaiveDate,
    email: Option<Option<String>>,
    mobile: Option<Option<String>>,
    position: Option<Option<String>>,
    contract_address: Option<Option<String>>,
    work_calendar: Option<Option<String>>,
}

fn parse_row(cols: &Columns<'_>, record: &Record, errors: &mut Errors) -> Option<Parsed> {
    let no = cols.get(record, "employee_no");
    let name = cols.get(record, "name");
    let entity = cols.get(record, "legal_entity");
    let unit = cols.get(record, "org_unit");
    let manager = cols.get(record, "manager_no");
    let hire = cols.get(record, "hire_date");
    let no = EmployeeNo::parse(no).map_err(|e| errors.cell(record, "employee_no", &e, no)).ok();
    let name = required_text(name, 100).map_err(|e| errors.cell(record, "name", &e, name)).ok();
    let entity = EntityCode::parse(entity).map_err(|e| errors.cell(record, "legal_entity", &e, entity)).ok();
    let unit = OrgUnitCode::parse(unit).map_err(|e| errors.cell(record, "org_unit", &e, unit)).ok();
    let manager =
        optional_parsed(EmployeeNo::parse)(manager).map_err(|e| errors.cell(record, "manager_no", &e, manager)).ok();
    let hire = WorkDate::parse(hire).map_err(|e| errors.cell(record, "hire_date", &e, hire)).ok();
    let email =
        optional_cell(cols, record, "email", errors, optional_parsed(|v| Email::parse(v).map(|e| e.to_string()))).ok();
    let mobile =
        optional_cell(cols, record, "mobile", errors, optional_parsed(|v| Mobile::parse(v).map(|m| m.to_string())))
            .ok();
    let position = optional_cell(cols, record, "position", errors, |v| text(v, 100)).ok();
    let contract_address = optional_cell(cols, record, "contract_address", errors, |v| text(v, 300)).ok();
    let work_calendar = optional_cell(cols, record, "work_calendar", errors, |v| text(v, 64)).ok();
    Some(Parsed {
        row: record.row,
        no: no?.to_string(),
        name: name?,
        entity: entity?.to_string(),
        unit: unit?.to_string(),
        manager: manager?.map(|m| m.to_string()),
        hire: hire?.date(),
        email: email?,
        mobile: mobile?,
        position: position?,
        contract_address: contract_address?,
        work_calendar: work_calendar?,
    })
}

/// How far each employee is from the top of the manager chain (0 = no manager). The links are
/// known to be acyclic; a chain longer than the map would be a cycle and stops counting there.
fn manager_depths<'a>(links: &HashMap<&'a str, Option<&'a str>>) -> HashMap<&'a str, usize> {
    let mut depth: HashMap<&str, usize> = HashMap::with_capacity(links.len());
    for &start in links.keys() {
        let mut chain = Vec::new();
        let mut node = start;
        let base = loop {
            if let Some(&d) = depth.get(node) {
                break d + 1;
            }
            chain.push(node);
            match links.get(node).copied().flatten() {
                Some(manager) if chain.len() <= links.len() => node = manager,
                _ => break 0,
            }
        };
        for (i, n) in chain.iter().rev().enumerate() {
            depth.insert(n, base + i);
        }
    }
    depth
}

pub(super) async fn import(p: &Pass<'_>, c: &mut Conn<'_>, errors: &mut Errors) -> Result<Counts, AppError> {
    let (app, ctx, table, cols, write, progress) = (p.app, p.ctx, p.table, &p.cols, p.write, p.progress);
    let entities: HashMap<String, i64> = org::list_entities(c).await?.into_iter().map(|e| (e.code, e.id)).collect();
    let units: HashMap<String, (i64, i64)> =
        org::list_org_units(c).await?.into_iter().map(|u| (u.code, (u.id, u.legal_entity_id))).collect();
    let existing = store::all_by_no(c).await?;

    let mut rows: Vec<Parsed> = Vec::with_capacity(table.rows.len());
    let mut row_of: HashMap<String, usize> = HashMap::with_capacity(table.rows.len());
    for record in &table.rows {
        let Some(p) = parse_row(cols, record, errors) else {
            continue;
        };
        if row_of.contains_key(&p.no) {
            errors.push(Some(p.row), Some("employee_no"), "duplicate_in_file", Some(&p.no));
            continue;
        }
        let Some(&entity_id) = entities.get(&p.entity) else {
            errors.push(Some(p.row), Some("legal_entity"), "unknown_legal_entity", Some(&p.entity));
            continue;
        };
        match units.get(&p.unit) {
            None => {
                errors.push(Some(p.row), Some("org_unit"), "unknown_org_unit", Some(&p.unit));
                continue;
            }
            Some(&(_, unit_entity)) if unit_entity != entity_id => {
                errors.push(Some(p.row), Some("org_unit"), "org_unit_entity_mismatch", Some(&p.unit));
                continue;
            }
            Some(_) => {}
        }
        if p.manager.as_deref() == Some(p.no.as_str()) {
            errors.push(Some(p.row), Some("manager_no"), "self_manager", p.manager.as_deref());
            continue;
        }
        row_of.insert(p.no.clone(), p.row);
        rows.push(p);
    }
    // Managers must exist (in the file or stored) and the chain must not loop.
    let mut links: HashMap<&str, Option<&str>> =
        existing.values().map(|e| (e.employee_no.as_str(), e.manager_no.as_deref())).collect();
    for p in &rows {
        links.insert(p.no.as_str(), p.manager.as_deref());
    }
    for p in &rows {
        if let Some(m) = &p.manager
            && !links.contains_key(m.as_str())
        {
            errors.push(Some(p.row), Some("manager_no"), "unknown_manager", Some(m));
        }
    }
    for no in nodes_on_cycles(&links) {
        if let Some(&row) = row_of.get(no) {
            errors.push(Some(row), Some("manager_no"), "manager_cycle", links.get(no).copied().flatten());
        }
    }

    let depth: HashMap<String, usize> = manager_depths(&links).into_iter().map(|(no, d)| (no.to_owned(), d)).collect();
    let mut counts = Counts::default();
    let mut changed: Vec<(Snapshot, AuditWrite)> = Vec::new();
    for p in rows {
        let before = existing.get(&p.no).map(|e| Snapshot {
            employee_no: e.employee_no.clone(),
            name: e.name.clone(),
            legal_entity: e.legal_entity_code.clone(),
            org_unit: e.org_unit_code.clone(),
            manager_no: e.manager_no.clone(),
            hire_date: e.hire_date,
            status: e.status.name().to_owned(),
            email: e.email.clone(),
            mobile: e.mobile.clone(),
            position: e.position.clone(),
            contract_address: e.contract_address.clone(),
            work_calendar: e.work_calendar.clone(),
        });
        let keep = |new: Option<Option<String>>, old: Option<&Option<String>>| match new {
            Some(v) => v,
            None => old.cloned().flatten(),
        };
        let after = Snapshot {
            employee_no: p.no,
            name: p.name,
            legal_entity: p.entity,
            org_unit: p.unit,
            manager_no: p.manager,
            hire_date: p.hire,
            status: before.as_ref().map_or("active".to_owned(), |b| b.status.clone()),
            email: keep(p.email, before.as_ref().map(|b| &b.email)),
            mobile: keep(p.mobile, before.as_ref().map(|b| &b.mobile)),
            position: keep(p.position, before.as_ref().map(|b| &b.position)),
            contract_address: keep(p.contract_address, before.as_ref().map(|b| &b.contract_address)),
            work_calendar: keep(p.work_calendar, before.as_ref().map(|b| &b.work_calendar)),
        };
        match &before {
            Some(b) if *b == after => {
                counts.unchanged += 1;
                continue;
            }
            Some(_) => counts.updated += 1,
            None => counts.created += 1,
        }
        let action = if before.is_some() { "employee.update" } else { "employee.create" };
        let audit = change(ctx, action, "employee", &after.employee_no, before.as_ref(), Some(&after));
        changed.push((after, audit));
    }
    if !write || !errors.is_empty() || changed.is_empty() {
        return Ok(counts);
    }

    // Managers are written before the people who report to them, each row with its final id and
    // manager id, so one pass suffices and every statement satisfies the foreign key by itself.
    changed.sort_by_key(|(s, _)| depth.get(&s.employee_no).copied().unwrap_or(0));
    let mut ids: HashMap<String, i64> = existing.values().map(|e| (e.employee_no.clone(), e.id)).collect();
    let new_count = changed.iter().filter(|(s, _)| !ids.contains_key(&s.employee_no)).count();
    let mut fresh = store::reserve_ids(c, new_count).await?.into_iter();
    for (s, _) in &changed {
        if !ids.contains_key(&s.employee_no) {
            let id = fresh.next().ok_or(AppError::NotFound)?;
            ids.insert(s.employee_no.clone(), id);
        }
    }
    let now = app.clock.now();
    let total = changed.len() as u64;
    for (i, batch) in changed.chunks(BATCH).enumerate() {
        let mut writes = Vec::with_capacity(batch.len());
        for (s, _) in batch {
            let (org_unit_id, legal_entity_id) = units.get(&s.org_unit).copied().ok_or(AppError::NotFound)?;
            let manager_id = match &s.manager_no {
                Some(m) => Some(ids.get(m).copied().ok_or(AppError::NotFound)?),
                None => None,
            };
            writes.push(EmployeeWrite {
                id: ids.get(&s.employee_no).copied().ok_or(AppError::NotFound)?,
                employee_no: s.employee_no.clone(),
                name: s.name.clone(),
                legal_entity_id,
                org_unit_id,
                manager_id,
                hire_date: s.hire_date,
                email: s.email.clone(),
                mobile: s.mobile.clone(),
                position: s.position.clone(),
                contract_address: s.contract_address.clone(),
                work_calendar: s.work_calendar.clone(),
            });
        }
        store::upsert(c, &writes, now).await?;
        let audits: Vec<AuditWrite> = batch.iter().map(|(_, a)| a.clone()).collect();
        record(app, c, ctx, &audits).await?;
        progress.update("employees", (i * BATCH + batch.len()) as u64, total);
    }
    Ok(counts)
}
