//! Exports in the import layouts, so an export can be edited and imported back.

use crate::audit::{change, record};
use crate::import::ImportKind;
use crate::{App, AppError, Ctx};
use lizhi_core::auth::Permission;
use lizhi_docs::{FileFormat, write_csv, write_xlsx};
use lizhi_store::{employees, org};

/// Builds the rows of an export in [`ImportKind::all_columns`] order.
pub async fn rows(app: &App, ctx: &Ctx, kind: ImportKind) -> Result<Vec<Vec<String>>, AppError> {
    ctx.require(Permission::ExportData)?;
    let personal = ctx.require(Permission::ViewPersonalDetails).is_ok();
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    Ok(match kind {
        ImportKind::LegalEntities => org::list_entities(&mut c).await?.into_iter().map(entity_row).collect(),
        ImportKind::OrgUnits => org::list_org_units(&mut c).await?.into_iter().map(unit_row).collect(),
        ImportKind::Employees => {
            let mut all: Vec<_> = employees::all_by_no(&mut c).await?.into_values().collect();
            all.sort_by(|a, b| a.employee_no.cmp(&b.employee_no));
            all.into_iter().map(|e| employee_row(e, personal)).collect()
        }
        _ => return Err(AppError::NotFound),
    })
}

/// Renders an export file and records who took it (exports carry personal data).
pub async fn export(app: &App, ctx: &Ctx, kind: ImportKind, format: FileFormat) -> Result<Vec<u8>, AppError> {
    let rows = rows(app, ctx, kind).await?;
    write_file(app, ctx, kind.name(), &kind.all_columns(), &rows, format).await
}

/// Writes rows as a CSV or XLSX file and records who took it, what and its digest (exports carry
/// personal data); `name` is the export's kind and the XLSX sheet's name.
pub(crate) async fn write_file(
    app: &App,
    ctx: &Ctx,
    name: &str,
    headers: &[&str],
    rows: &[Vec<String>],
    format: FileFormat,
) -> Result<Vec<u8>, AppError> {
    let bytes = match format {
        FileFormat::Csv => write_csv(headers, rows),
        FileFormat::Xlsx => write_xlsx(name, headers, rows)?,
    };
    let mut tx = app.db.begin().await?;
    let info = serde_json::json!({"kind": name, "rows": rows.len(), "format": format.extension(),
        "sha256": crate::auth::secret_hash_bytes(&bytes)});
    record(app, &mut tx.conn(), ctx, &[change(ctx, "export", "export", name, None, Some(&info))]).await?;
    tx.commit().await?;
    Ok(bytes)
}

/// One stored record in the import layout, for editing (`None` when the key is unknown).
pub async fn current_row(app: &App, kind: ImportKind, key: &str) -> Result<Option<Vec<String>>, AppError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    Ok(match kind {
        ImportKind::LegalEntities => {
            org::list_entities(&mut c).await?.into_iter().find(|e| e.code == key).map(entity_row)
        }
        ImportKind::OrgUnits => org::list_org_units(&mut c).await?.into_iter().find(|u| u.code == key).map(unit_row),
        ImportKind::Employees => employees::get_by_no(&mut c, key).await?.map(|e| employee_row(e, true)),
        _ => None,
    })
}

/// An employee in the import layout; the notice address only for callers allowed to see it.
fn employee_row(e: lizhi_core::model::Employee, personal: bool) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    vec![
        e.employee_no,
        e.name,
        e.legal_entity_code,
        e.org_unit_code,
        opt(e.manager_no),
        e.hire_date.format("%Y-%m-%d").to_string(),
        opt(e.email),
        opt(e.mobile),
        opt(e.position),
        if personal { opt(e.contract_address) } else { String::new() },
        opt(e.work_calendar),
    ]
}

/// A legal entity in the import layout.
fn entity_row(e: lizhi_core::model::LegalEntity) -> Vec<String> {
    vec![e.code, e.name, e.country, e.time_zone, e.policy, e.scan_time]
}

/// An org unit in the import layout.
fn unit_row(u: lizhi_core::model::OrgUnit) -> Vec<String> {
    vec![u.code, u.name, u.parent_code.unwrap_or_default(), u.legal_entity_code]
}
