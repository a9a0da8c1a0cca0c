//! Imports of organisation data from CSV or XLSX: validate everything, then apply all or nothing.
//!
//! A file is first parsed into a [`Table`], then each kind turns rows into typed values and checks
//! them against each other and against what is stored. Any error rejects the whole file; the
//! report names the row, the column and a stable error code the UI and CLI translate.

mod attendance;
mod employees;
mod entities;
mod identities;
mod org_units;

use crate::{App, AppError, Ctx};
use lizhi_core::FieldError;
use lizhi_core::auth::Permission;
use lizhi_docs::{FileFormat, Record, Table, read_table};
use lizhi_store::Conn;
use serde::{Deserialize, Serialize};

/// Largest file accepted through the web, in bytes (the request body limit).
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;
/// Largest attendance file (punches, activity, rosters…) the CLI accepts: a month of device
/// exports for a large company. The web keeps [`MAX_UPLOAD_BYTES`]; devices push in batches.
pub const MAX_ATTENDANCE_FILE_BYTES: usize = 256 * 1024 * 1024;
/// Errors listed in a report; the total is still counted.
pub const MAX_REPORTED_ERRORS: usize = 500;

/// Every row-level error code an import (or a single-record save) can report, besides the
/// table codes of [`lizhi_docs::TableError::CODES`]. Each has a translation and a line in
/// `docs/import-formats.md` (tests check both).
pub const ROW_ERROR_CODES: &[&str] = &[
    "missing_column",
    "required",
    "too_long",
    "invalid_code",
    "invalid_date",
    "invalid_email",
    "invalid_mobile",
    "invalid_country",
    "invalid_time_zone",
    "unknown_policy",
    "duplicate_in_file",
    "unknown_legal_entity",
    "unknown_org_unit",
    "unknown_parent",
    "unknown_manager",
    "org_unit_entity_mismatch",
    "parent_entity_mismatch",
    "org_unit_has_employees",
    "org_cycle",
    "manager_cycle",
    "self_manager",
    "file_too_large",
    "unknown_employee",
    "unknown_system",
    "system_without_accounts",
    "account_taken",
    "invalid_day_kind",
    "invalid_timestamp",
    "invalid_number",
    "invalid_leave_status",
    "end_before_start",
    "invalid_time_of_day",
    "invalid_day_end",
];

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    /// `code,name,country,time_zone,policy`
    LegalEntities,
    /// `code,name,parent_code,legal_entity`
    OrgUnits,
    /// `employee_no,name,legal_entity,org_unit,manager_no,hire_date` + optional contact columns.
    Employees,
    /// `calendar,date,kind,name`: holidays and make-up workdays of a work calendar.
    Calendar,
    /// `employee_no,date,shift`: shift rosters (`REST` for a rostered day off).
    Rosters,
    /// `employee_no,punched_at,source`: clock events (RFC 3339 with an offset).
    Punches,
    /// `employee_no,start_date,end_date,type,status`: leave, inclusive.
    Leaves,
    /// `employee_no,date,system,events`: daily activity per system.
    Activity,
    /// `employee_no,system,account_id` (+ `user_name`): each employee's account in each connector.
    Identities,
}

impl ImportKind {
    /// Every kind, in the order they should be imported.
    pub const ALL: [ImportKind; 9] = [
        ImportKind::LegalEntities,
        ImportKind::OrgUnits,
        ImportKind::Employees,
        ImportKind::Calendar,
        ImportKind::Rosters,
        ImportKind::Punches,
        ImportKind::Leaves,
        ImportKind::Activity,
        ImportKind::Identities,
    ];

    /// The kinds that describe people and the organisation: exported, and editable one record at a time.
    pub const PEOPLE: [ImportKind; 3] = [ImportKind::LegalEntities, ImportKind::OrgUnits, ImportKind::Employees];

    /// Whether this kind is one of [`ImportKind::PEOPLE`].
    pub fn is_people(self) -> bool {
        ImportKind::PEOPLE.contains(&self)
    }

    /// The name in URLs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ImportKind::LegalEntities => "legal-entities",
            ImportKind::OrgUnits => "org-units",
            ImportKind::Employees => "employees",
            ImportKind::Calendar => "calendar",
            ImportKind::Rosters => "rosters",
            ImportKind::Punches => "punches",
            ImportKind::Leaves => "leaves",
            ImportKind::Activity => "activity",
            ImportKind::Identities => "identities",
        }
    }

    /// Parses [`ImportKind::name`].
    pub fn parse(raw: &str) -> Option<ImportKind> {
        ImportKind::ALL.into_iter().find(|k| k.name() == raw)
    }

    /// Columns that must be present.
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            ImportKind::LegalEntities => &["code", "name", "country", "time_zone", "policy"],
            ImportKind::OrgUnits => &["code", "name", "parent_code", "legal_entity"],
            ImportKind::Employees => &["employee_no", "name", "legal_entity", "org_unit", "manager_no", "hire_date"],
            ImportKind::Calendar => &["calendar", "date", "kind", "name"],
            ImportKind::Rosters => &["employee_no", "date", "shift"],
            ImportKind::Punches => &["employee_no", "punched_at", "source"],
            ImportKind::Leaves => &["employee_no", "start_date", "end_date", "type", "status"],
            ImportKind::Activity => &["employee_no", "date", "system", "events"],
            ImportKind::Identities => &["employee_no", "system", "account_id"],
        }
    }

    /// Columns that may be present.
    pub fn optional_columns(self) -> &'static [&'static str] {
        match self {
            ImportKind::LegalEntities => &["scan_time"],
            ImportKind::Rosters => &["day_ends_at"],
            ImportKind::Employees => &["email", "mobile", "position", "contract_address", "work_calendar"],
            ImportKind::Identities => &["user_name"],
            _ => &[],
        }
    }

    /// The largest file of this kind [`run`] takes.
    pub fn max_bytes(self) -> usize {
        match self {
            ImportKind::LegalEntities | ImportKind::OrgUnits | ImportKind::Employees | ImportKind::Identities => {
                MAX_UPLOAD_BYTES
            }
            _ => MAX_ATTENDANCE_FILE_BYTES,
        }
    }

    /// Required then optional columns: the layout exports use.
    pub fn all_columns(self) -> Vec<&'static str> {
        self.required_columns().iter().chain(self.optional_columns()).copied().collect()
    }
}

/// One problem in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// Row number as the user sees it (header = 1); `None` for whole-file problems.
    pub row: Option<usize>,
    /// Column name, when the problem is in one cell.
    pub column: Option<String>,
    /// Stable error code (`invalid_date`, `unknown_manager`…).
    pub code: String,
    /// The offending value, when useful.
    pub value: Option<String>,
}

/// The outcome of checking (and maybe applying) a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportReport {
    /// What the file held.
    pub kind: ImportKind,
    /// Data rows read.
    pub rows: usize,
    /// Records that would be / were created.
    pub created: usize,
    /// Records that would be / were changed.
    pub updated: usize,
    /// Records identical to what is stored.
    pub unchanged: usize,
    /// Problems found (at most [`MAX_REPORTED_ERRORS`]).
    pub errors: Vec<RowError>,
    /// How many problems in all.
    pub error_count: usize,
    /// Whether the changes were written.
    pub applied: bool,
}

impl ImportReport {
    fn new(kind: ImportKind) -> Self {
        ImportReport {
            kind,
            rows: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            errors: Vec::new(),
            error_count: 0,
            applied: false,
        }
    }

    /// Whether the file can be applied.
    pub fn is_clean(&self) -> bool {
        self.error_count == 0
    }
}

/// Collects row errors with a cap.
#[derive(Default)]
pub(crate) struct Errors {
    list: Vec<RowError>,
    total: usize,
}

impl Errors {
    pub(crate) fn push(&mut self, row: Option<usize>, column: Option<&str>, code: &str, value: Option<&str>) {
        self.total += 1;
        if self.list.len() < MAX_REPORTED_ERRORS {
            self.list.push(RowError {
                row,
                column: column.map(str::to_owned),
                code: code.to_owned(),
                value: value.filter(|v| !v.is_empty()).map(|v| v.chars().take(200).collect()),
            });
        }
    }

    pub(crate) fn cell(&mut self, record: &Record, column: &str, err: &FieldError, value: &str) {
        self.push(Some(record.row), Some(column), err.code(), Some(value));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// Column positions of a table, by name.
pub(crate) struct Columns<'t> {
    table: &'t Table,
}

impl<'t> Columns<'t> {
    /// The cell of `column` in a record, "" when the column is absent.
    pub(crate) fn get<'r>(&self, record: &'r Record, column: &str) -> &'r str {
        match self.table.column(column) {
            Some(i) => record.get(i),
            None => "",
        }
    }

    /// `None` when the column is absent from the file (keep stored values), else the cell.
    pub(crate) fn optional<'r>(&self, record: &'r Record, column: &str) -> Option<&'r str> {
        self.table.column(column).map(|i| record.get(i))
    }
}

/// Counts of a plan.
#[derive(Default)]
pub(crate) struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Reports progress of long work (the CLI draws a bar; others ignore it).
pub trait Progress: Send + Sync {
    /// `done` of `total` units of `stage` are finished.
    fn update(&self, stage: &str, done: u64, total: u64);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _: &str, _: u64, _: u64) {}
}

/// Checks a file and, when `apply` is set and nothing is wrong, writes it in one transaction.
pub async fn run(
    app: &App,
    ctx: &Ctx,
    kind: ImportKind,
    file_name: &str,
    bytes: &[u8],
    apply: bool,
    progress: &dyn Progress,
) -> Result<ImportReport, AppError> {
    ctx.require(Permission::ImportData)?;
    if bytes.len() > kind.max_bytes() {
        return Err(AppError::TooLarge { max_bytes: kind.max_bytes() });
    }
    let format = FileFormat::from_file_name(file_name).unwrap_or_else(|| FileFormat::sniff(bytes));
    match read_table(bytes, format) {
        Ok(table) => run_table(app, ctx, kind, &table, apply, progress).await,
        Err(e) => {
            let mut report = ImportReport::new(kind);
            report.errors.push(RowError {
                row: e.row(),
                column: e.column().map(str::to_owned),
                code: e.code().to_owned(),
                value: None,
            });
            report.error_count = 1;
            Ok(report)
        }
    }
}

/// Checks and applies records that arrive as JSON rather than a file (attendance devices pushing
/// punches): the same checks, the same all-or-nothing rule, the same report.
pub async fn run_records(
    app: &App,
    ctx: &Ctx,
    kind: ImportKind,
    records: &[std::collections::BTreeMap<String, String>],
    apply: bool,
) -> Result<ImportReport, AppError> {
    ctx.require(Permission::ImportData)?;
    let headers: Vec<String> = kind.all_columns().into_iter().map(str::to_owned).collect();
    let rows = records
        .iter()
        .enumerate()
        .map(|(i, r)| Record {
            row: i + 1,
            cells: headers.iter().map(|h| r.get(h).cloned().unwrap_or_default()).collect(),
        })
        .collect();
    run_table(app, ctx, kind, &Table { headers, rows }, apply, &NoProgress).await
}

/// Validates a parsed table and applies it when asked and clean. Callers check permissions.
async fn run_table(
    app: &App,
    ctx: &Ctx,
    kind: ImportKind,
    table: &Table,
    apply: bool,
    progress: &dyn Progress,
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::new(kind);
    report.rows = table.rows.len();
    let mut errors = Errors::default();
    for column in kind.required_columns() {
        if table.column(column).is_none() {
            errors.push(Some(1), Some(column), "missing_column", None);
        }
    }
    if !errors.is_empty() {
        report.errors = errors.list;
        report.error_count = errors.total;
        return Ok(report);
    }
    let pass = Pass { app, ctx, table, cols: Columns { table }, write: apply, progress };
    let outcome = if apply {
        let mut tx = app.db.begin().await?;
        let counts = plan_and_maybe_write(&pass, kind, &mut tx.conn(), &mut errors).await?;
        if errors.is_empty() {
            tx.commit().await?;
            report.applied = true;
        }
        counts
    } else {
        let mut conn = app.db.acquire().await?;
        plan_and_maybe_write(&pass, kind, &mut conn.conn(), &mut errors).await?
    };
    report.created = outcome.created;
    report.updated = outcome.updated;
    report.unchanged = outcome.unchanged;
    report.errors = errors.list;
    report.error_count = errors.total;
    Ok(report)
}

/// The key column of each kind.
pub fn key_column(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Employees => "employee_no",
        _ => "code",
    }
}

/// Creates or changes one record (a form or `PUT` request) with exactly the rules of an import.
///
/// Columns missing from `fields` keep their stored values, so a request may send only what changes.
/// Returns whether the record was created.
pub async fn save_one(
    app: &App,
    ctx: &Ctx,
    kind: ImportKind,
    key: &str,
    fields: &std::collections::BTreeMap<String, String>,
) -> Result<bool, AppError> {
    ctx.require(Permission::EditPeople)?;
    if !kind.is_people() {
        return Err(AppError::NotFound);
    }
    let key_col = key_column(kind);
    let mut values: std::collections::BTreeMap<String, String> = crate::export::current_row(app, kind, key)
        .await?
        .map(|row| kind.all_columns().into_iter().map(str::to_owned).zip(row).collect())
        .unwrap_or_default();
    for (k, v) in fields {
        if kind.all_columns().contains(&k.as_str()) && k != key_col {
            values.insert(k.clone(), v.clone());
        }
    }
    values.insert(key_col.to_owned(), key.to_owned());
    for column in kind.required_columns() {
        values.entry((*column).to_owned()).or_default();
    }
    let headers: Vec<String> = values.keys().cloned().collect();
    let cells: Vec<String> = values.into_values().collect();
    let table = Table { headers, rows: vec![Record { row: 2, cells }] };
    let report = run_table(app, ctx, kind, &table, true, &NoProgress).await?;
    if report.is_clean() { Ok(report.created == 1) } else { Err(AppError::Rejected(report.errors)) }
}

/// One check (and maybe write) of a parsed file: who asks, what was read, whether to write.
pub(crate) struct Pass<'a> {
    /// The use cases' handle.
    pub app: &'a App,
    /// The caller.
    pub ctx: &'a Ctx,
    /// The rows.
    pub table: &'a Table,
    /// Cells by column name.
    pub cols: Columns<'a>,
    /// Write when nothing is wrong (otherwise only count).
    pub write: bool,
    /// Where long writes report progress.
    pub progress: &'a dyn Progress,
}

async fn plan_and_maybe_write(
    p: &Pass<'_>,
    kind: ImportKind,
    c: &mut Conn<'_>,
    errors: &mut Errors,
) -> Result<Counts, AppError> {
    match kind {
        ImportKind::LegalEntities => entities::import(p, c, errors).await,
        ImportKind::OrgUnits => org_units::import(p, c, errors).await,
        ImportKind::Employees => employees::import(p, c, errors).await,
        ImportKind::Calendar => attendance::calendar(p, c, errors).await,
        ImportKind::Rosters => attendance::rosters(p, c, errors).await,
        ImportKind::Punches => attendance::punches(p, c, errors).await,
        ImportKind::Leaves => attendance::leaves(p, c, errors).await,
        ImportKind::Activity => attendance::activity(p, c, errors).await,
        ImportKind::Identities => identities::import(p, c, errors).await,
    }
}

/// Trims a free-text cell and checks its length; empty = `None`.
pub(crate) fn text(raw: &str, max: usize) -> Result<Option<String>, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        Ok(None)
    } else if v.chars().count() > max {
        Err(FieldError::TooLong { max })
    } else {
        Ok(Some(v.to_owned()))
    }
}

/// A required free-text cell.
pub(crate) fn required_text(raw: &str, max: usize) -> Result<String, FieldError> {
    text(raw, max)?.ok_or(FieldError::Required)
}

/// An upload kept between preview and commit.
#[derive(Debug, Clone)]
pub struct Staged {
    /// Id to commit by.
    pub id: i64,
    /// Original file name.
    pub file_name: String,
    /// The latest report (preview, or the outcome of the commit).
    pub report: ImportReport,
}

fn staged_from(batch: lizhi_store::imports::ImportBatch) -> Result<Staged, AppError> {
    let report: ImportReport =
        serde_json::from_str(&batch.report).map_err(|_| AppError::invalid("report", "invalid_input"))?;
    Ok(Staged { id: batch.id, file_name: batch.file_name, report })
}

/// Checks an upload and keeps it (in the database, so any instance can commit it) for review.
pub async fn stage(app: &App, ctx: &Ctx, kind: ImportKind, file_name: &str, bytes: &[u8]) -> Result<Staged, AppError> {
    let report = run(app, ctx, kind, file_name, bytes, false, &NoProgress).await?;
    let json = serde_json::to_string(&report).map_err(|_| AppError::invalid("report", "invalid_input"))?;
    let status = if report.is_clean() { "previewed" } else { "rejected" };
    let user = ctx.principal.as_ref().map(|p| p.user_id);
    let sha = crate::auth::secret_hash_bytes(bytes);
    let mut tx = app.db.begin().await?;
    let info = serde_json::json!({"file_name": file_name, "sha256": sha, "bytes": bytes.len(), "status": status});
    crate::audit::record(
        app,
        &mut tx.conn(),
        ctx,
        &[crate::audit::change(ctx, "import.stage", "import", kind.name(), None, Some(&info))],
    )
    .await?;
    let id = lizhi_store::imports::create(
        &mut tx.conn(),
        kind.name(),
        file_name,
        bytes,
        &sha,
        status,
        &json,
        user,
        app.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(Staged { id, file_name: file_name.to_owned(), report })
}

/// A staged upload and its latest report.
pub async fn staged(app: &App, ctx: &Ctx, id: i64) -> Result<Staged, AppError> {
    ctx.require(Permission::ImportData)?;
    let mut conn = app.db.acquire().await?;
    let batch = lizhi_store::imports::get(&mut conn.conn(), id).await?.ok_or(AppError::NotFound)?;
    staged_from(batch)
}

/// Applies a staged upload (checked again against the data as it is now).
pub async fn commit_staged(app: &App, ctx: &Ctx, id: i64) -> Result<Staged, AppError> {
    ctx.require(Permission::ImportData)?;
    let batch = {
        let mut conn = app.db.acquire().await?;
        lizhi_store::imports::get(&mut conn.conn(), id).await?.ok_or(AppError::NotFound)?
    };
    if batch.status == "applied" {
        return staged_from(batch);
    }
    let kind = ImportKind::parse(&batch.kind).ok_or(AppError::NotFound)?;
    let report = run(app, ctx, kind, &batch.file_name, &batch.content, true, &NoProgress).await?;
    let json = serde_json::to_string(&report).map_err(|_| AppError::invalid("report", "invalid_input"))?;
    let status = if report.applied { "applied" } else { "rejected" };
    let mut tx = app.db.begin().await?;
    lizhi_store::imports::finish(&mut tx.conn(), id, status, &json, app.clock.now()).await?;
    tx.commit().await?;
    Ok(Staged { id, file_name: batch.file_name, report })
}

#[cfg(test)]
mod tests {
    use super::ROW_ERROR_CODES;
    use crate::i18n::{Locale, has};

    fn all_codes() -> impl Iterator<Item = &'static str> {
        lizhi_docs::TableError::CODES.iter().chain(ROW_ERROR_CODES).copied()
    }

    #[test]
    fn every_import_error_is_translated() {
        for locale in Locale::ALL {
            for code in all_codes() {
                assert!(has(locale, &format!("error-{code}")), "{locale:?} lacks error-{code}");
            }
        }
    }

    #[test]
    fn every_import_error_is_documented() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/import-formats.md");
        let doc = std::fs::read_to_string(path).expect("docs/import-formats.md");
        for code in all_codes() {
            assert!(doc.contains(&format!("`{code}`")), "docs/import-formats.md does not document `{code}`");
        }
    }

    #[test]
    fn every_field_error_code_is_listed() {
        use lizhi_core::FieldError::*;
        for e in [
            Required,
            TooLong { max: 1 },
            InvalidCode,
            InvalidDate,
            InvalidEmail,
            InvalidMobile,
            InvalidCountry,
            InvalidTimeZone,
            UnknownPolicy,
        ] {
            assert!(ROW_ERROR_CODES.contains(&e.code()), "{}", e.code());
        }
    }
}
