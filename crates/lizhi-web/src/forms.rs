//! Request bodies shared by the API and the pages, parsed into use-case inputs.

use lizhi_app::AppError;
use lizhi_app::auth::NewUser;
use lizhi_core::auth::{Grant, Role};
use serde::Deserialize;

/// One role in a request.
#[derive(Debug, Clone, Deserialize)]
pub struct GrantBody {
    /// Role name.
    pub role: String,
    /// Org unit id for a manager.
    pub org_unit_id: Option<i64>,
}

/// Roles to set.
#[derive(Debug, Clone, Deserialize)]
pub struct GrantsBody {
    /// The roles.
    pub roles: Vec<GrantBody>,
}

impl GrantsBody {
    /// Parses role names.
    pub fn into_grants(self) -> Result<Vec<Grant>, AppError> {
        self.roles
            .into_iter()
            .map(|g| {
                let role = Role::parse(&g.role).ok_or(AppError::invalid("role", "unknown_role"))?;
                Ok(Grant { role, org_unit_id: if role.is_scoped() { g.org_unit_id } else { None } })
            })
            .collect()
    }
}

/// A user to create.
#[derive(Debug, Clone, Deserialize)]
pub struct NewUserBody {
    /// Login name.
    pub username: String,
    /// Shown name.
    #[serde(default)]
    pub display_name: String,
    /// Initial password; omitted = generated and returned once.
    pub password: Option<String>,
    /// Roles.
    pub roles: Vec<GrantBody>,
}

impl NewUserBody {
    /// The use-case input.
    pub fn into_new_user(self) -> Result<NewUser, AppError> {
        let grants = GrantsBody { roles: self.roles }.into_grants()?;
        Ok(NewUser {
            username: self.username,
            display_name: self.display_name,
            password: self.password.filter(|p| !p.is_empty()),
            grants,
        })
    }
}

/// Enable / disable.
#[derive(Debug, Clone, Deserialize)]
pub struct DisabledBody {
    /// True to disable.
    pub disabled: bool,
}

/// A token to issue.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenBody {
    /// Label, e.g. "payroll sync".
    pub name: String,
}
