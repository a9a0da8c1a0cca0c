//! The asset register: what company property each person holds, so a case knows what must come back.

use crate::audit::{change, record};
use crate::{App, AppError, Ctx};
use chrono::NaiveDate;
use lizhi_core::auth::Permission;
use lizhi_core::values::{EmployeeNo, EntityCode};
use lizhi_store::{assets as store, employees};
use serde::{Deserialize, Serialize};

/// An asset as the API shows and takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Asset {
    /// Inventory tag (letters, digits, `_ - .`); the path gives it when saving.
    #[serde(default)]
    pub tag: String,
    /// Kind: `laptop`, `phone`, `badge`, `key`, `card`, `other`.
    pub kind: String,
    /// What it is (model, serial).
    pub description: String,
    /// Holder, when in use.
    #[serde(default)]
    pub employee_no: Option<String>,
    /// Since when.
    #[serde(default)]
    pub assigned_on: Option<NaiveDate>,
    /// `in_use`, `in_stock`, `returned` or `lost` (default: in use when held, else in stock).
    #[serde(default)]
    pub status: Option<String>,
}

const KINDS: [&str; 6] = ["laptop", "phone", "badge", "key", "card", "other"];
const STATUSES: [&str; 4] = ["in_use", "in_stock", "returned", "lost"];

/// Assets, of one holder or all; a manager sees those held in their subtree.
pub async fn list(app: &App, ctx: &Ctx, employee_no: Option<&str>) -> Result<Vec<Asset>, AppError> {
    let scope = ctx.scope(Permission::ViewEmployees)?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let paths = crate::people::scope_paths(&mut c, &scope).await?;
    let holder = match employee_no {
        Some(no) => Some(employees::get_by_no(&mut c, no.trim()).await?.ok_or(AppError::NotFound)?.id),
        None => None,
    };
    Ok(store::list(&mut c, holder, paths.as_deref())
        .await?
        .into_iter()
        .map(|a| Asset {
            tag: a.tag,
            kind: a.kind,
            description: a.description,
            employee_no: a.employee_no,
            assigned_on: a.assigned_on,
            status: Some(a.status),
        })
        .collect())
}

/// Creates or changes an asset (people data rights: HR and admins).
pub async fn save(app: &App, ctx: &Ctx, tag: &str, input: &Asset) -> Result<Asset, AppError> {
    ctx.require(Permission::EditPeople)?;
    let tag = EntityCode::parse(tag).map_err(|_| AppError::invalid("tag", "invalid_code"))?.to_string();
    let kind = input.kind.trim().to_ascii_lowercase();
    if !KINDS.contains(&kind.as_str()) {
        return Err(AppError::invalid("kind", "invalid_input"));
    }
    let description = input.description.trim();
    if description.is_empty() || description.chars().count() > 200 {
        return Err(AppError::invalid("description", "required"));
    }
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let holder = match input.employee_no.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(no) => {
            let no = EmployeeNo::parse(no).map_err(|_| AppError::invalid("employee_no", "invalid_code"))?;
            Some(
                employees::get_by_no(&mut c, no.as_str())
                    .await?
                    .ok_or_else(|| AppError::invalid("employee_no", "unknown_employee"))?
                    .id,
            )
        }
        None => None,
    };
    let status =
        input.status.clone().unwrap_or_else(|| if holder.is_some() { "in_use".into() } else { "in_stock".into() });
    if !STATUSES.contains(&status.as_str()) || (status == "in_use" && holder.is_none()) {
        return Err(AppError::invalid("status", "invalid_input"));
    }
    store::upsert(&mut c, &tag, &kind, description, holder, input.assigned_on, &status, app.clock.now()).await?;
    let saved = Asset {
        tag: tag.clone(),
        kind,
        description: description.to_owned(),
        employee_no: input.employee_no.clone().filter(|n| !n.trim().is_empty()),
        assigned_on: input.assigned_on,
        status: Some(status),
    };
    record(app, &mut c, ctx, &[change(ctx, "asset.save", "asset", &tag, None, Some(&saved))]).await?;
    tx.commit().await?;
    Ok(saved)
}
