//! Template structs: one full page per view (plus the employee table partial for live search).

use askama::Template;
use lizhi_app::i18n::{self, Locale};

/// Translator handed to templates: `{{ chrome.tr.t("key") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Locale);

impl Tr {
    /// The message for `key`.
    pub fn t(&self, key: &str) -> String {
        i18n::t(self.0, key)
    }
}

/// One link in the navigation bar.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Target.
    pub href: &'static str,
    /// Translated label.
    pub label: String,
    /// Whether it is the current section.
    pub active: bool,
}

/// What every page's frame needs.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// Translator.
    pub tr: Tr,
    /// `<html lang>`.
    pub lang: &'static str,
    /// Page title.
    pub title: String,
    /// Signed-in user's display name.
    pub user: Option<String>,
    /// CSRF token for forms ("" before sign-in).
    pub csrf: String,
    /// Navigation.
    pub nav: Vec<NavItem>,
    /// Current path (the language switch returns here).
    pub path: String,
}

/// Sign-in page.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub error: Option<String>,
    pub login_csrf: String,
    pub next: String,
    pub username: String,
}

/// Start page.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub tiles: Vec<(&'static str, String, String)>,
}

/// One row of the employee list.
#[derive(Debug, Clone)]
pub struct EmployeeRow {
    pub employee_no: String,
    pub name: String,
    pub org_unit_name: String,
    pub position: String,
    pub status: &'static str,
    pub status_label: String,
}

/// Employee list.
#[derive(Template)]
#[template(path = "employees.html")]
pub struct EmployeesPage {
    pub chrome: Chrome,
    pub total: Option<i64>,
    pub q: String,
    pub status: String,
    pub entities: Vec<(String, String, bool)>,
    pub units: Vec<(String, String, bool)>,
    pub rows: Vec<EmployeeRow>,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub can_edit: bool,
}

/// The employee table alone, for live search.
#[derive(Template)]
#[template(path = "employees_table.html")]
pub struct EmployeesTable {
    pub chrome: Chrome,
    pub rows: Vec<EmployeeRow>,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
}

/// Employee detail.
#[derive(Template)]
#[template(path = "employee.html")]
pub struct EmployeePage {
    pub chrome: Chrome,
    pub e: lizhi_core::model::Employee,
    pub facts: Vec<(String, String)>,
    pub can_edit: bool,
}

/// One org unit in the tree.
#[derive(Debug, Clone)]
pub struct UnitView {
    pub code: String,
    pub name: String,
    pub legal_entity_id: i64,
    pub depth_class: i64,
    pub direct: i64,
    pub total: i64,
}

/// Org tree.
#[derive(Template)]
#[template(path = "org.html")]
pub struct OrgPage {
    pub chrome: Chrome,
    pub entities: Vec<lizhi_core::model::LegalEntity>,
    pub units: Vec<UnitView>,
}

/// Upload form.
#[derive(Template)]
#[template(path = "imports.html")]
pub struct ImportsPage {
    pub chrome: Chrome,
    pub kinds: Vec<(&'static str, String)>,
    pub export_kinds: Vec<(&'static str, String)>,
    pub can_export: bool,
}

/// Preview / result of an upload.
#[derive(Template)]
#[template(path = "import_preview.html")]
pub struct ImportPreviewPage {
    pub chrome: Chrome,
    pub id: i64,
    pub kind_label: String,
    pub file_name: String,
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub error_count: usize,
    pub errors: Vec<(String, String, String)>,
    pub applied: bool,
}

/// One user row.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: String,
    pub disabled: bool,
    pub role_flags: Vec<(&'static str, String, bool)>,
    pub org_unit_id: Option<i64>,
}

/// Users administration.
#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub users: Vec<UserRow>,
    pub roles: Vec<(&'static str, String)>,
    pub units: Vec<(i64, String)>,
    pub secret: Option<(String, String)>,
    pub error: Option<String>,
}

/// One audit row.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub digest: String,
}

/// Audit trail.
#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub events: Vec<AuditRow>,
    pub older_href: Option<String>,
    pub log: AuditLogPanel,
}

/// How much of the audit log is signed, and by which keys.
pub struct AuditLogPanel {
    pub head: i64,
    pub signed: i64,
    pub signed_at: String,
    pub note: String,
    pub keys: Vec<String>,
}

/// Error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub message: String,
}

/// One text input of a form.
#[derive(Debug, Clone)]
pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub input_type: &'static str,
    pub required: bool,
}

/// Create or edit an employee.
#[derive(Template)]
#[template(path = "employee_form.html")]
pub struct EmployeeFormPage {
    pub chrome: Chrome,
    pub is_new: bool,
    pub action: String,
    pub back: String,
    pub employee_no: String,
    pub entities: Vec<(String, String, bool)>,
    pub units: Vec<(String, String, bool)>,
    pub fields: Vec<FieldView>,
    pub errors: Vec<String>,
}

/// The caller's own account and password change.
#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub chrome: Chrome,
    pub username: String,
    pub roles: String,
    pub must_change: bool,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// One alert on the board.
#[derive(Debug, Clone)]
pub struct RiskRow {
    pub employee_no: String,
    pub name: String,
    pub org_unit: String,
    /// The evaluated date of the row's finding.
    pub as_of: String,
    pub days: u32,
    pub since: String,
    pub rules: String,
    pub status: String,
    pub contacts: usize,
}

/// The risk board.
#[derive(Template)]
#[template(path = "risk.html")]
pub struct RiskPage {
    pub chrome: Chrome,
    /// The chosen day, empty for the latest scans.
    pub as_of: String,
    /// (entity code, evaluated date, how it was computed, computed live)
    pub sources: Vec<(String, String, String, bool)>,
    /// Whether the caller may start a scan.
    pub can_scan: bool,
    /// "… and N more yellow", empty when all are shown.
    pub hidden: String,
    pub entities: Vec<(String, String, bool)>,
    pub units: Vec<(String, String, bool)>,
    pub dismissed: bool,
    pub empty: bool,
    /// (level code, label, rows): red first, then yellow.
    pub sections: Vec<(&'static str, String, Vec<RiskRow>)>,
}

/// One day of the timeline.
#[derive(Debug, Clone)]
pub struct TimelineRow {
    pub date: String,
    pub class: &'static str,
    pub scheduled: &'static str,
    pub punched: &'static str,
    pub leave: String,
    pub activity: String,
}

/// One alert opened.
#[derive(Template)]
#[template(path = "risk_detail.html")]
pub struct RiskDetailPage {
    pub chrome: Chrome,
    pub as_of: String,
    pub employee_no: String,
    pub name: String,
    pub org_unit: String,
    pub level: Option<(&'static str, String)>,
    pub rules: String,
    pub facts: Vec<String>,
    /// (what, details, who and when)
    pub actions: Vec<(String, String, String)>,
    pub can_act: bool,
    /// May open a case from the alert.
    pub can_open_case: bool,
    pub episode: Option<String>,
    pub now_local: String,
    pub channels: Vec<(&'static str, String)>,
    pub outcomes: Vec<(&'static str, String)>,
    pub reasons: Vec<(&'static str, String)>,
    pub timeline: Vec<TimelineRow>,
}

/// The trial run of a candidate policy.
#[derive(Template)]
#[template(path = "risk_trial.html")]
pub struct RiskTrialPage {
    pub chrome: Chrome,
    /// Why the run could not be made (translated), empty when fine.
    pub error: String,
    /// (code, name, selected)
    pub entities: Vec<(String, String, bool)>,
    /// (profile name, selected)
    pub profiles: Vec<(&'static str, bool)>,
    pub from: String,
    pub to: String,
    pub yellow_from: u32,
    pub consecutive_red: u32,
    pub cumulative_days: String,
    pub cumulative_window: String,
    pub activity: bool,
    pub recent_days: u32,
    pub baseline_days: u32,
    pub drop_percent: String,
    pub min_baseline: String,
    /// Whether results are shown.
    pub ran: bool,
    /// [week, current alerts, current red, candidate alerts, candidate red]
    pub weeks: Vec<[String; 5]>,
    /// Sums of the four counts.
    pub totals: [String; 4],
}
