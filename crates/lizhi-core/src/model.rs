//! Plain records of the organisation as stored and shown.
//!
//! They carry already-validated text (the newtypes checked it on the way in) and are what the
//! store returns, the use cases pass around and the API serialises.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// A company registered in one jurisdiction; policies, calendars and time zones hang off it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalEntity {
    /// Database id.
    pub id: i64,
    /// Short code, unique.
    pub code: String,
    /// Registered name.
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// IANA zone: the attendance day is the local date here.
    pub time_zone: String,
    /// Policy profile name.
    pub policy: String,
    /// Local time (`HH:MM`) of the daily risk scan.
    pub scan_time: String,
}

/// A department or team; units form one tree per legal entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgUnit {
    /// Database id.
    pub id: i64,
    /// Code, unique across the installation.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Parent unit, `None` for a root.
    pub parent_id: Option<i64>,
    /// Parent's code, for files and the API.
    pub parent_code: Option<String>,
    /// Owning legal entity.
    pub legal_entity_id: i64,
    /// Owning legal entity's code.
    pub legal_entity_code: String,
    /// Depth in the tree, 0 for a root.
    pub depth: i64,
    /// Materialised path `/id/id/…/` used for subtree scoping.
    pub path: String,
}

/// Whether someone still works here; driven by separation cases, not typed in by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmployeeStatus {
    /// On the payroll.
    Active,
    /// Left; history kept.
    Departed,
}

impl EmployeeStatus {
    /// Stored and API name.
    pub fn name(self) -> &'static str {
        match self {
            EmployeeStatus::Active => "active",
            EmployeeStatus::Departed => "departed",
        }
    }

    /// Parses [`EmployeeStatus::name`].
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(EmployeeStatus::Active),
            "departed" => Some(EmployeeStatus::Departed),
            _ => None,
        }
    }
}

/// A person employed by a legal entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Employee {
    /// Database id.
    pub id: i64,
    /// Employee number, unique.
    pub employee_no: String,
    /// Full name as written on the contract.
    pub name: String,
    /// Employing legal entity.
    pub legal_entity_id: i64,
    /// Its code.
    pub legal_entity_code: String,
    /// Org unit.
    pub org_unit_id: i64,
    /// Its code.
    pub org_unit_code: String,
    /// Its name.
    pub org_unit_name: String,
    /// Line manager, if any.
    pub manager_id: Option<i64>,
    /// Manager's employee number.
    pub manager_no: Option<String>,
    /// Manager's name.
    pub manager_name: Option<String>,
    /// First day of employment: nobody is expected at work before it.
    pub hire_date: NaiveDate,
    /// Active or departed.
    pub status: EmployeeStatus,
    /// Work email.
    pub email: Option<String>,
    /// Mobile phone.
    pub mobile: Option<String>,
    /// Job title.
    pub position: Option<String>,
    /// Address agreed in the contract for serving notices; hidden without the personal-details permission.
    pub contract_address: Option<String>,
    /// Named work calendar; `None` means the entity's default.
    pub work_calendar: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A login account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Login name, unique.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Preferred UI language (`zh-CN` or `en`), `None` until chosen.
    pub locale: Option<String>,
    /// Disabled users cannot sign in or use tokens.
    pub disabled: bool,
    /// Set while the password is a one-time password: pages ask for a new one first.
    pub must_change_password: bool,
    /// Linked employee record, if the user is staff.
    pub employee_id: Option<i64>,
    /// Roles held.
    pub grants: Vec<crate::auth::Grant>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// One append-only audit row, as the later Merkle layer will read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// Position in the log (the Merkle leaf index).
    pub seq: i64,
    /// Server time of the change.
    pub at: DateTime<Utc>,
    /// Who did it (username, `system`, or `cli:<os user>`); `None` once purged.
    pub actor: Option<String>,
    /// What was done, e.g. `employee.update`.
    pub action: String,
    /// The kind of thing changed, e.g. `employee`.
    pub entity_type: String,
    /// Its natural key (employee number, code…); `None` once purged.
    pub entity_key: Option<String>,
    /// The separation case the change belongs to.
    pub case_id: Option<i64>,
    /// Salted commitment to the state before (`None` on create).
    pub before_commitment: Option<String>,
    /// Salted commitment to the state after (`None` on delete).
    pub after_commitment: Option<String>,
    /// Request id that carried the change, for correlating with logs.
    pub request_id: String,
}
