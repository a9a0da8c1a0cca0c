//! Approval chains as stored: the configured chain per case type and entity, and each case's resolved steps
//! with their assignees and decisions.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

/// A configured chain (JSON of `lizhi_core::case::approval::Chain`) for an entity, or for all entities.
pub async fn configured_chain(
    c: &mut Conn<'_>,
    legal_entity_id: i64,
    case_type: &str,
) -> Result<Option<String>, StoreError> {
    // The entity's own chain beats the installation-wide one.
    let sql = "SELECT chain FROM approval_chains WHERE case_type = $1 AND (legal_entity_id = $2 OR legal_entity_id IS NULL) \
               ORDER BY legal_entity_id IS NULL, id LIMIT 1";
    Ok(on_conn!(c, c => sqlx::query_scalar(sql).bind(case_type).bind(legal_entity_id).fetch_optional(&mut **c).await?))
}

/// Every configured chain: (entity id or `None` for all, case type, chain JSON).
pub async fn configured_chains(c: &mut Conn<'_>) -> Result<Vec<(Option<i64>, String, String)>, StoreError> {
    let sql = "SELECT legal_entity_id, case_type, chain FROM approval_chains ORDER BY case_type, legal_entity_id";
    Ok(on_conn!(c, c => sqlx::query_as(sql).fetch_all(&mut **c).await?))
}

/// Sets the chain of a case type for an entity (or all with `None`).
pub async fn put_chain(
    c: &mut Conn<'_>,
    legal_entity_id: Option<i64>,
    case_type: &str,
    chain: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_conn!(c, c => {
        let delete = match legal_entity_id {
            Some(_) => "DELETE FROM approval_chains WHERE case_type = $1 AND legal_entity_id = $2",
            None => "DELETE FROM approval_chains WHERE case_type = $1 AND legal_entity_id IS NULL AND $2 IS NULL",
        };
        sqlx::query(delete).bind(case_type).bind(legal_entity_id).execute(&mut **c).await?;
        sqlx::query("INSERT INTO approval_chains (legal_entity_id, case_type, chain, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)")
            .bind(legal_entity_id).bind(case_type).bind(chain).bind(now).bind(actor)
            .execute(&mut **c).await?;
    });
    Ok(())
}

/// One step of a case's chain, with who may decide and what was decided.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRow {
    /// Id.
    pub id: i64,
    /// Position in the chain, from 0.
    pub position: i64,
    /// Step name.
    pub name: String,
    /// `any_of` or `all_of`.
    pub mode: String,
    /// Workdays allowed.
    pub due_workdays: i64,
    /// When the step became active.
    pub activated_on: Option<NaiveDate>,
    /// Its deadline.
    pub due_on: Option<NaiveDate>,
    /// (user id, escalated) of everyone who may decide.
    pub assignees: Vec<(i64, bool)>,
    /// (user id, decision, comment, when).
    pub decisions: Vec<(i64, String, Option<String>, DateTime<Utc>)>,
}

/// Stores a resolved step.
#[allow(clippy::too_many_arguments)]
pub async fn insert_step(
    c: &mut Conn<'_>,
    case_id: i64,
    position: i64,
    name: &str,
    mode: &str,
    due_workdays: i64,
    assignees: &[i64],
) -> Result<i64, StoreError> {
    let sql = "INSERT INTO approval_steps (case_id, position, name, mode, due_workdays) VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let id: i64 = on_conn!(c, c => sqlx::query_scalar(sql)
        .bind(case_id).bind(position).bind(name).bind(mode).bind(due_workdays)
        .fetch_one(&mut **c).await?);
    for user in assignees {
        add_assignee(c, id, *user, false).await?;
    }
    Ok(id)
}

/// Lets one more user decide a step (escalation to the approver's manager); no-op when already assigned.
pub async fn add_assignee(c: &mut Conn<'_>, step_id: i64, user_id: i64, escalated: bool) -> Result<(), StoreError> {
    let sql = "INSERT INTO approval_assignees (step_id, user_id, escalated) VALUES ($1, $2, $3) \
               ON CONFLICT (step_id, user_id) DO NOTHING";
    on_conn!(c, c => {
        sqlx::query(sql).bind(step_id).bind(user_id).bind(escalated).execute(&mut **c).await?;
    });
    Ok(())
}

/// Starts a step's clock.
pub async fn activate_step(c: &mut Conn<'_>, step_id: i64, on: NaiveDate, due_on: NaiveDate) -> Result<(), StoreError> {
    let sql = "UPDATE approval_steps SET activated_on = $2, due_on = $3 WHERE id = $1";
    on_conn!(c, c => {
        sqlx::query(sql).bind(step_id).bind(on).bind(due_on).execute(&mut **c).await?;
    });
    Ok(())
}

/// Records a decision.
pub async fn insert_decision(
    c: &mut Conn<'_>,
    step_id: i64,
    user_id: i64,
    decision: &str,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql =
        "INSERT INTO approval_decisions (step_id, user_id, decision, comment, decided_at) VALUES ($1, $2, $3, $4, $5)";
    on_conn!(c, c => {
        sqlx::query(sql).bind(step_id).bind(user_id).bind(decision).bind(comment).bind(now)
        .execute(&mut **c).await.map_err(StoreError::from_write)?;
    });
    Ok(())
}

/// A case's steps in order, with assignees and decisions.
pub async fn steps(c: &mut Conn<'_>, case_id: i64) -> Result<Vec<StepRow>, StoreError> {
    type Step = (i64, i64, String, String, i64, Option<NaiveDate>, Option<NaiveDate>);
    let steps: Vec<Step> = on_conn!(c, c => sqlx::query_as(
        "SELECT id, position, name, mode, due_workdays, activated_on, due_on FROM approval_steps WHERE case_id = $1 ORDER BY position",
    ).bind(case_id).fetch_all(&mut **c).await?);
    let assignees: Vec<(i64, i64, bool)> = on_conn!(c, c => sqlx::query_as(
        "SELECT a.step_id, a.user_id, a.escalated FROM approval_assignees a JOIN approval_steps s ON s.id = a.step_id \
         WHERE s.case_id = $1 ORDER BY a.user_id",
    ).bind(case_id).fetch_all(&mut **c).await?);
    type Decided = (i64, i64, String, Option<String>, DateTime<Utc>);
    let decisions: Vec<Decided> = on_conn!(c, c => sqlx::query_as(
        "SELECT d.step_id, d.user_id, d.decision, d.comment, d.decided_at FROM approval_decisions d \
         JOIN approval_steps s ON s.id = d.step_id WHERE s.case_id = $1 ORDER BY d.id",
    ).bind(case_id).fetch_all(&mut **c).await?);
    let mut by_step: BTreeMap<i64, StepRow> = steps
        .into_iter()
        .map(|(id, position, name, mode, due_workdays, activated_on, due_on)| {
            (
                id,
                StepRow {
                    id,
                    position,
                    name,
                    mode,
                    due_workdays,
                    activated_on,
                    due_on,
                    assignees: vec![],
                    decisions: vec![],
                },
            )
        })
        .collect();
    for (step, user, escalated) in assignees {
        if let Some(s) = by_step.get_mut(&step) {
            s.assignees.push((user, escalated));
        }
    }
    for (step, user, decision, comment, at) in decisions {
        if let Some(s) = by_step.get_mut(&step) {
            s.decisions.push((user, decision, comment, at));
        }
    }
    let mut out: Vec<StepRow> = by_step.into_values().collect();
    out.sort_by_key(|s| s.position);
    Ok(out)
}

/// Steps waiting on a user (active, undecided by them) across cases: (case id, step id, step name, due on).
pub async fn pending_for_user(
    c: &mut Conn<'_>,
    user_id: i64,
) -> Result<Vec<(i64, i64, String, Option<NaiveDate>)>, StoreError> {
    let sql = "SELECT s.case_id, s.id, s.name, s.due_on FROM approval_steps s \
               JOIN approval_assignees a ON a.step_id = s.id AND a.user_id = $1 \
               JOIN cases k ON k.id = s.case_id \
               WHERE s.activated_on IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM approval_decisions d WHERE d.step_id = s.id AND (d.user_id = $1 OR d.decision = 'reject' OR s.mode = 'any_of')) \
               AND k.state NOT IN ('closed', 'returned', 'converted', 'cancelled') ORDER BY s.due_on, s.id";
    Ok(on_conn!(c, c => sqlx::query_as(sql).bind(user_id).fetch_all(&mut **c).await?))
}
