//! The alumni pool: everyone whose case closed, searchable by skills, last position and rehire eligibility.

use crate::audit::{change, record};
use crate::{App, AppError, Ctx};
use chrono::NaiveDate;
use lizhi_core::auth::Permission;
use lizhi_store::alumni::{self as store, AlumniFilter};
use lizhi_store::employees;
use serde::{Deserialize, Serialize};

/// One former employee as listed.
#[derive(Debug, Clone, Serialize)]
pub struct Alumnus {
    /// Employee number.
    pub employee_no: String,
    /// Name.
    pub name: String,
    /// The closing case.
    pub case_id: Option<i64>,
    /// Last day.
    pub departed_on: NaiveDate,
    /// Last position.
    pub last_position: Option<String>,
    /// Last unit.
    pub org_unit: String,
    /// May be rehired.
    pub rehire_eligible: bool,
    /// Why eligibility differs from the default.
    pub rehire_reason: Option<String>,
    /// Skills.
    pub skills: Vec<String>,
}

/// A search of the pool.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AlumniQuery {
    /// Words to find in skills or last position.
    #[serde(default)]
    pub q: Option<String>,
    /// `true` / `false` to filter on eligibility.
    #[serde(default)]
    pub eligible: Option<bool>,
    /// At most this many (default 100).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// Skills as stored: trimmed, de-duplicated, comma-separated.
pub(crate) fn normalise_skills(raw: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for s in raw.split([',', '，', ';', '；']).map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(s)) {
            out.push(s.chars().take(60).collect());
        }
    }
    out.join(", ")
}

fn view(r: store::AlumnusRow) -> Alumnus {
    Alumnus {
        employee_no: r.employee_no,
        name: r.name,
        case_id: r.case_id,
        departed_on: r.departed_on,
        last_position: r.last_position,
        org_unit: r.org_unit,
        rehire_eligible: r.rehire_eligible,
        rehire_reason: r.rehire_reason,
        skills: r.skills.split(", ").filter(|s| !s.is_empty()).map(str::to_owned).collect(),
    }
}

/// Searches the pool within the caller's scope.
pub async fn search(app: &App, ctx: &Ctx, query: &AlumniQuery) -> Result<Vec<Alumnus>, AppError> {
    let scope = ctx.scope(Permission::ViewEmployees)?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let scope_paths = crate::people::scope_paths(&mut c, &scope).await?;
    let words = query.q.as_deref().unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    let filter = AlumniFilter { words, eligible: query.eligible, employee_id: None, scope_paths };
    Ok(store::search(&mut c, &filter, query.limit.unwrap_or(100).clamp(1, 1000)).await?.into_iter().map(view).collect())
}

/// Changes a former employee's skills or rehire eligibility; a change of eligibility needs a reason.
pub async fn update(
    app: &App,
    ctx: &Ctx,
    employee_no: &str,
    skills: Option<&str>,
    eligible: Option<bool>,
    reason: Option<&str>,
) -> Result<Alumnus, AppError> {
    ctx.require(Permission::EditPeople)?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let employee = employees::get_by_no(&mut c, employee_no.trim()).await?.ok_or(AppError::NotFound)?;
    let filter = AlumniFilter { employee_id: Some(employee.id), ..Default::default() };
    let before = store::search(&mut c, &filter, 1).await?.pop().ok_or(AppError::NotFound)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let eligible_after = eligible.unwrap_or(before.rehire_eligible);
    if eligible_after != before.rehire_eligible && reason.is_none() {
        return Err(AppError::invalid("rehire_reason", "reason_required"));
    }
    let skills = skills.map(normalise_skills).unwrap_or_else(|| before.skills.clone());
    let reason =
        if eligible_after != before.rehire_eligible { reason.map(str::to_owned) } else { before.rehire_reason.clone() };
    store::update(&mut c, employee.id, &skills, eligible_after, reason.as_deref(), app.clock.now()).await?;
    let after = store::search(&mut c, &filter, 1).await?.pop().ok_or(AppError::NotFound)?;
    let info = |a: &store::AlumnusRow| serde_json::json!({"skills": a.skills, "rehire_eligible": a.rehire_eligible, "reason": a.rehire_reason});
    record(
        app,
        &mut c,
        ctx,
        &[change(ctx, "alumni.update", "employee", &employee.employee_no, Some(&info(&before)), Some(&info(&after)))],
    )
    .await?;
    tx.commit().await?;
    Ok(view(after))
}
