//! Roles, permissions and the org scope a person may act on.
//!
//! The table of who may do what lives here, in one place, so the web routes, the API and the tests
//! that walk every route × role all read the same truth.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A job a user holds in Lizhi. A user can hold several; a manager role is tied to an org unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the installation: users, settings, everything HR can do.
    Admin,
    /// HR specialist / HRBP: maintains people data, imports, works cases.
    Hr,
    /// Approves and oversees HR work; also reads the audit trail.
    HrSupervisor,
    /// Line manager: sees only the org subtree the role is attached to.
    Manager,
    /// Owns access revocation items.
    It,
    /// Owns pay and settlement items.
    Finance,
    /// Owns assets, badges and door access items.
    Facilities,
    /// Read-only: the history and the data, never a change.
    Auditor,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Hr,
        Role::HrSupervisor,
        Role::Manager,
        Role::It,
        Role::Finance,
        Role::Facilities,
        Role::Auditor,
    ];

    /// The name used in the database, the API, the CLI and translation keys (`role-<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Hr => "hr",
            Role::HrSupervisor => "hr_supervisor",
            Role::Manager => "manager",
            Role::It => "it",
            Role::Finance => "finance",
            Role::Facilities => "facilities",
            Role::Auditor => "auditor",
        }
    }

    /// Parses [`Role::name`] back.
    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == raw.trim())
    }

    /// Whether the role only reaches an org subtree (and so needs an org unit when granted).
    pub fn is_scoped(self) -> bool {
        self == Role::Manager
    }

    /// The permission table.
    pub fn grants(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Hr | Role::HrSupervisor => match permission {
                ManageUsers => false,
                ViewAudit | ApproveCases => self == Role::HrSupervisor,
                _ => true,
            },
            Role::Manager => matches!(permission, ViewOrg | ViewEmployees | ViewRisk | ActOnRisk | ViewCases),
            Role::It | Role::Finance | Role::Facilities => {
                matches!(permission, ViewOrg | ViewEmployees)
            }
            Role::Auditor => {
                matches!(
                    permission,
                    ViewOrg | ViewEmployees | ViewPersonalDetails | ExportData | ViewAudit | ViewRisk | ViewCases
                )
            }
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Something a route or use case needs the caller to be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read legal entities and the org tree.
    ViewOrg,
    /// Read employees (within the caller's scope).
    ViewEmployees,
    /// Read the contract address for notices and other personal fields.
    ViewPersonalDetails,
    /// Create and change legal entities, org units and employees.
    EditPeople,
    /// Upload and apply import files.
    ImportData,
    /// Download exports.
    ExportData,
    /// Manage users, roles and API tokens.
    ManageUsers,
    /// Read the audit trail.
    ViewAudit,
    /// Read absence alerts and run scans and backtests (HR, supervisors, managers for their subtree).
    ViewRisk,
    /// Log contact attempts on alerts, dismiss them with a reason, escalate them.
    ActOnRisk,
    /// Read separation cases (managers: their subtree's).
    ViewCases,
    /// Open cases and act on them (contacts, notices, receipts, checklist items).
    WorkCases,
    /// Steps the policy reserves for a case approver: the union letter, serving termination, announcement.
    ApproveCases,
}

impl Permission {
    /// Every permission, so lists of them (the `/me` answer, documentation) cannot miss a new one.
    pub const ALL: [Permission; 13] = [
        Permission::ViewOrg,
        Permission::ViewEmployees,
        Permission::ViewPersonalDetails,
        Permission::EditPeople,
        Permission::ImportData,
        Permission::ExportData,
        Permission::ManageUsers,
        Permission::ViewAudit,
        Permission::ViewRisk,
        Permission::ActOnRisk,
        Permission::ViewCases,
        Permission::WorkCases,
        Permission::ApproveCases,
    ];

    /// The name used in the OpenAPI document and error details.
    pub fn name(self) -> &'static str {
        match self {
            Permission::ViewOrg => "view_org",
            Permission::ViewEmployees => "view_employees",
            Permission::ViewPersonalDetails => "view_personal_details",
            Permission::EditPeople => "edit_people",
            Permission::ImportData => "import_data",
            Permission::ExportData => "export_data",
            Permission::ManageUsers => "manage_users",
            Permission::ViewAudit => "view_audit",
            Permission::ViewRisk => "view_risk",
            Permission::ActOnRisk => "act_on_risk",
            Permission::ViewCases => "view_cases",
            Permission::WorkCases => "work_cases",
            Permission::ApproveCases => "approve_cases",
        }
    }
}

/// One role held by a user, with the org unit a scoped role is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The role held.
    pub role: Role,
    /// For a manager: the root of the subtree they see.
    pub org_unit_id: Option<i64>,
}

/// Which employees a permission reaches for one caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole installation.
    All,
    /// Only these org units and everything below them.
    Subtrees(Vec<i64>),
}

/// Who is acting: a signed-in user or an API token's owner, with their grants.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    /// The user's id.
    pub user_id: i64,
    /// The login name, used as the audit actor.
    pub username: String,
    /// Every role the user holds.
    pub grants: Vec<Grant>,
}

impl Principal {
    /// Whether any held role grants the permission.
    pub fn can(&self, permission: Permission) -> bool {
        self.grants.iter().any(|g| g.role.grants(permission))
    }

    /// The reach of a permission: `None` when not granted at all.
    pub fn scope(&self, permission: Permission) -> Option<Scope> {
        let mut subtrees = Vec::new();
        let mut granted = false;
        for grant in self.grants.iter().filter(|g| g.role.grants(permission)) {
            granted = true;
            match (grant.role.is_scoped(), grant.org_unit_id) {
                (false, _) => return Some(Scope::All),
                (true, Some(unit)) => subtrees.push(unit),
                (true, None) => {}
            }
        }
        granted.then_some(Scope::Subtrees(subtrees))
    }

    /// Whether the user holds the role.
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(grants: &[(Role, Option<i64>)]) -> Principal {
        Principal {
            user_id: 1,
            username: "u".into(),
            grants: grants.iter().map(|&(role, org_unit_id)| Grant { role, org_unit_id }).collect(),
        }
    }

    #[test]
    fn auditor_reads_but_never_writes() {
        let p = principal(&[(Role::Auditor, None)]);
        assert!(p.can(Permission::ViewAudit));
        assert!(!p.can(Permission::EditPeople));
        assert!(!p.can(Permission::ImportData));
        assert!(!p.can(Permission::ManageUsers));
    }

    #[test]
    fn manager_scope_is_their_subtrees_and_widens_with_a_global_role() {
        let m = principal(&[(Role::Manager, Some(7)), (Role::Manager, Some(9))]);
        assert_eq!(m.scope(Permission::ViewEmployees), Some(Scope::Subtrees(vec![7, 9])));
        assert_eq!(m.scope(Permission::EditPeople), None);
        let both = principal(&[(Role::Manager, Some(7)), (Role::Hr, None)]);
        assert_eq!(both.scope(Permission::ViewEmployees), Some(Scope::All));
    }

    #[test]
    fn only_admin_manages_users() {
        for role in Role::ALL {
            assert_eq!(role.grants(Permission::ManageUsers), role == Role::Admin, "{role}");
            assert_eq!(Role::parse(role.name()), Some(role));
        }
    }
}
