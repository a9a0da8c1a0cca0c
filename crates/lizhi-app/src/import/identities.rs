//! `identities`: which account each employee holds in each connector (WeCom userid, SCIM id, LDAP DN).
//! Registered here, never guessed from names; an account belongs to one employee only.

use super::{Columns, Counts, Errors, Pass, required_text, text};
use crate::AppError;
use crate::audit::{change, record};
use lizhi_core::EmployeeNo;
use lizhi_core::connector::{ConnectorCode, ConnectorKind};
use lizhi_docs::Record;
use lizhi_store::connectors::{self as store, IdentityRow};
use lizhi_store::{Conn, employees};
use std::collections::{HashMap, HashSet};

/// One planned account: (employee id, connector id, account id, user name).
type Planned = (i64, i64, String, Option<String>);

pub(super) async fn import(p: &Pass<'_>, c: &mut Conn<'_>, errors: &mut Errors) -> Result<Counts, AppError> {
    let people: HashMap<String, i64> = employees::index(c).await?.into_iter().map(|(no, id, _)| (no, id)).collect();
    let connectors: HashMap<String, (i64, Option<ConnectorKind>)> =
        store::list(c).await?.into_iter().map(|k| (k.code, (k.id, ConnectorKind::parse(&k.kind)))).collect();
    let stored: Vec<IdentityRow> = store::identities(c).await?;
    let mut planned: Vec<(Planned, String, String)> = Vec::new();
    let (mut seen_person, mut seen_account) = (HashSet::new(), HashSet::new());
    for record in &p.table.rows {
        let Some(row) = check(&p.cols, record, &people, &connectors, errors) else { continue };
        let (employee_id, connector_id, account_id, _) = &row.0;
        if !seen_person.insert((*employee_id, *connector_id)) {
            errors.push(Some(record.row), Some("system"), "duplicate_in_file", Some(&row.2));
            continue;
        }
        if !seen_account.insert((*connector_id, account_id.clone())) {
            errors.push(Some(record.row), Some("account_id"), "duplicate_in_file", Some(account_id));
            continue;
        }
        // An account already registered for someone else is refused: a mix-up would revoke the wrong person.
        if stored.iter().any(|s| s.system == row.2 && &s.account_id == account_id && s.employee_no != row.1) {
            errors.push(Some(record.row), Some("account_id"), "account_taken", Some(account_id));
            continue;
        }
        planned.push(row);
    }
    let mut counts = Counts::default();
    let mut changed = Vec::new();
    for ((employee_id, connector_id, account_id, user_name), no, system) in planned {
        match stored.iter().find(|s| s.employee_id == employee_id && s.system == system) {
            Some(s) if s.account_id == account_id && s.user_name == user_name => counts.unchanged += 1,
            Some(_) => {
                counts.updated += 1;
                changed.push(((employee_id, connector_id, account_id, user_name), no, system));
            }
            None => {
                counts.created += 1;
                changed.push(((employee_id, connector_id, account_id, user_name), no, system));
            }
        }
    }
    if p.write && errors.is_empty() && !changed.is_empty() {
        let rows: Vec<Planned> = changed.iter().map(|(r, _, _)| r.clone()).collect();
        store::upsert_identities(c, &rows, p.app.clock.now()).await?;
        let audits: Vec<_> = changed
            .iter()
            .map(|((_, _, account_id, user_name), no, system)| {
                let after = serde_json::json!({"system": system, "account_id": account_id, "user_name": user_name});
                change(p.ctx, "identity.put", "employee", no, None, Some(&after))
            })
            .collect();
        record(p.app, c, p.ctx, &audits).await?;
    }
    Ok(counts)
}

/// Checks one row; returns the planned account with the employee number and connector code.
fn check(
    cols: &Columns<'_>,
    record: &Record,
    people: &HashMap<String, i64>,
    connectors: &HashMap<String, (i64, Option<ConnectorKind>)>,
    errors: &mut Errors,
) -> Option<(Planned, String, String)> {
    let raw_no = cols.get(record, "employee_no");
    let employee = match EmployeeNo::parse(raw_no) {
        Ok(no) => match people.get(no.as_str()) {
            Some(id) => Some((*id, no.as_str().to_owned())),
            None => {
                errors.push(Some(record.row), Some("employee_no"), "unknown_employee", Some(raw_no));
                None
            }
        },
        Err(e) => {
            errors.cell(record, "employee_no", &e, raw_no);
            None
        }
    };
    let raw_system = cols.get(record, "system");
    let connector = match ConnectorCode::parse(raw_system) {
        Ok(code) => match connectors.get(code.as_str()) {
            Some((id, Some(kind))) if kind.has_accounts() => Some((*id, code.to_string())),
            Some(_) => {
                errors.push(Some(record.row), Some("system"), "system_without_accounts", Some(raw_system));
                None
            }
            None => {
                errors.push(Some(record.row), Some("system"), "unknown_system", Some(raw_system));
                None
            }
        },
        Err(e) => {
            errors.cell(record, "system", &e, raw_system);
            None
        }
    };
    let raw_account = cols.get(record, "account_id");
    let account = required_text(raw_account, 255).map_err(|e| errors.cell(record, "account_id", &e, raw_account)).ok();
    let raw_user = cols.get(record, "user_name");
    let user_name = text(raw_user, 255).map_err(|e| errors.cell(record, "user_name", &e, raw_user)).ok();
    let ((employee_id, no), (connector_id, system), account, user_name) = (employee?, connector?, account?, user_name?);
    Some(((employee_id, connector_id, account, user_name), no, system))
}
