//! The worker that performs queued access actions: claims them (SKIP LOCKED on PostgreSQL, leases
//! everywhere), builds each connector's client from its registered settings, and records the read-back and
//! its verdict as evidence. After an attempt whose outcome is unknown (timeout, lost answer, 5xx) the next
//! attempt reads the account first and does nothing more when the effect already landed, so a retry never
//! repeats a side effect the system already performed. A freeze or revocation seen done is checked again a
//! day and a week later (`verify_*` actions, read only); access found back raises an alarm.

use crate::access::{CallError, Intent, Observation, Verdict, redact};
use crate::clients::Clients;
use crate::configured::Configured;
use chrono::{DateTime, Duration, Utc};
use lizhi_app::mail::{MAX_ATTEMPTS, backoff};
use lizhi_app::{App, AppError};
use lizhi_store::access::{self as store, ClaimedAction, Outcome};

/// How long a claimed action is reserved for the worker performing it.
const LEASE: Duration = Duration::minutes(5);
/// Actions claimed per run.
const BATCH: i64 = 20;
/// When a freeze or revocation seen done is read back again.
const REVERIFY_AFTER: [(&str, Duration); 2] = [("24h", Duration::hours(24)), ("7d", Duration::days(7))];

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WorkerRun {
    /// Done, with the read-back showing it.
    pub completed: usize,
    /// Done, but the read-back does not show it (or cannot tell).
    pub completed_with_errors: usize,
    /// To be tried again.
    pub retried: usize,
    /// Given up.
    pub failed: usize,
    /// Re-verifications that found access back (each raised an alarm).
    pub drifted: usize,
}

/// Performs every due access action (several instances may run this at once).
pub async fn run_due(app: &App, clients: &Clients) -> Result<WorkerRun, AppError> {
    let now = app.clock.now();
    let mut conn = app.db.acquire().await?;
    let due = store::any_due(&mut conn.conn(), now).await?;
    drop(conn);
    if !due {
        return Ok(WorkerRun::default());
    }
    let mut tx = app.db.begin().await?;
    let claimed = store::claim(&mut tx.conn(), BATCH, now, now + LEASE).await?;
    tx.commit().await?;
    let mut run = WorkerRun::default();
    for action in claimed {
        let outcome = perform(app, clients, &action).await;
        match outcome.status {
            "completed" => run.completed += 1,
            "completed_with_errors" => run.completed_with_errors += 1,
            "queued" => run.retried += 1,
            _ => run.failed += 1,
        }
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        store::finish(&mut c, action.id, &outcome, app.clock.now()).await?;
        if outcome.verdict == Some("verified") && matches!(action.intent.as_str(), "freeze" | "revoke") {
            schedule_reverification(&mut c, &action, app.clock.now()).await?;
        }
        tx.commit().await?;
        if action.intent == "revoke"
            && outcome.verdict == Some("verified")
            && let Some(case_id) = action.case_id
        {
            lizhi_app::access::close_verified_access_items(app, case_id).await?;
        }
        if action.intent.starts_with("verify_") && outcome.verdict == Some("not_revoked") {
            run.drifted += 1;
            if let Some(case_id) = action.case_id {
                lizhi_app::access::alarm_drift(app, action.id, case_id, &action.connector).await?;
            }
        }
    }
    Ok(run)
}

/// Queues the read-only checks of a freeze or revocation a day and a week after it was seen done.
async fn schedule_reverification(
    c: &mut lizhi_store::Conn<'_>,
    action: &ClaimedAction,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    for (label, after) in REVERIFY_AFTER {
        let check = store::NewAction {
            case_id: action.case_id,
            employee_id: action.employee_id,
            connector_id: action.connector_id,
            account_id: action.account_id.clone(),
            intent: format!("verify_{}", action.intent),
            idempotency_key: format!("action:{}:verify:{label}", action.id),
            revoke_order: action.revoke_order,
        };
        store::enqueue_at(c, &[check], now + after, now).await?;
    }
    Ok(())
}

/// The intent an action performs (or, for `verify_*`, checks), and whether it only reads.
fn intent_of(name: &str) -> Option<(Intent, bool)> {
    match name.strip_prefix("verify_") {
        Some(base) => Intent::parse(base).map(|intent| (intent, true)),
        None => Intent::parse(name).map(|intent| (intent, false)),
    }
}

async fn perform(app: &App, clients: &Clients, action: &ClaimedAction) -> Outcome {
    let now = app.clock.now();
    let Some((intent, read_only)) = intent_of(&action.intent) else {
        return failed(now, format!("unknown intent {:?}", action.intent));
    };
    let attempt = match clients.get(app, &action.connector).await {
        Ok(configured) => {
            let observed = if read_only {
                configured.read_state(&action.account_id).await
            } else {
                attempt(&configured, intent, action).await
            };
            observed.map(|obs| (configured.done(intent, &obs), obs))
        }
        Err(e) => Err(e),
    };
    match attempt {
        Ok((verdict, observation)) => done(now, verdict, &observation),
        Err(error) => after_failure(now, action.attempts, &error),
    }
}

/// One attempt: read back first when the last outcome is unknown, then act only if still needed.
async fn attempt(configured: &Configured, intent: Intent, action: &ClaimedAction) -> Result<Observation, CallError> {
    if action.read_back_first {
        let observation = configured.read_state(&action.account_id).await?;
        if configured.done(intent, &observation) == Verdict::Verified {
            return Ok(observation);
        }
    }
    configured.apply(intent, &action.account_id).await
}

fn done(now: DateTime<Utc>, verdict: Verdict, observation: &Observation) -> Outcome {
    let (status, verdict_name) = match verdict {
        Verdict::Verified => ("completed", "verified"),
        Verdict::NotRevoked => ("completed_with_errors", "not_revoked"),
        Verdict::Unverifiable => ("completed_with_errors", "unverifiable"),
    };
    Outcome {
        status,
        read_back_first: false,
        error: (verdict != Verdict::Verified).then(|| "the read-back does not show the change".to_owned()),
        evidence: Some(redact(serde_json::to_value(observation).unwrap_or_default()).to_string()),
        verdict: Some(verdict_name),
        verified_at: (verdict == Verdict::Verified).then_some(now),
        next_attempt_at: now,
    }
}

fn failed(now: DateTime<Utc>, error: String) -> Outcome {
    Outcome {
        status: "failed",
        read_back_first: false,
        error: Some(error),
        evidence: None,
        verdict: None,
        verified_at: None,
        next_attempt_at: now,
    }
}

/// The retry policy: refusals that may pass later and unknown outcomes are tried again with backoff (an
/// unknown outcome reads back first); anything else, or too many attempts, gives up.
fn after_failure(now: DateTime<Utc>, attempts: i64, error: &CallError) -> Outcome {
    let read_back_first = matches!(error, CallError::Ambiguous { .. });
    if !error.worth_retrying() || attempts >= MAX_ATTEMPTS {
        return failed(now, format!("{} ({})", error, error.code()));
    }
    Outcome {
        status: "queued",
        read_back_first,
        error: Some(format!("{} ({})", error, error.code())),
        evidence: None,
        verdict: None,
        verified_at: None,
        next_attempt_at: now + backoff(attempts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_outcomes_are_retried_after_a_read_back_and_refusals_by_their_kind() {
        let now = Utc::now();
        let ambiguous = CallError::Ambiguous { system: "scim", message: "timeout".into() };
        let retry = after_failure(now, 1, &ambiguous);
        assert_eq!((retry.status, retry.read_back_first), ("queued", true));
        assert!(retry.next_attempt_at > now);
        let busy = CallError::Refused { system: "ldap", code: "51".into(), message: "busy".into(), retryable: true };
        assert_eq!(
            (after_failure(now, 1, &busy).status, after_failure(now, 1, &busy).read_back_first),
            ("queued", false)
        );
        assert_eq!(after_failure(now, MAX_ATTEMPTS, &busy).status, "failed");
        let denied = CallError::Refused { system: "ldap", code: "49".into(), message: "bad".into(), retryable: false };
        assert_eq!(after_failure(now, 1, &denied).status, "failed");
    }
}
