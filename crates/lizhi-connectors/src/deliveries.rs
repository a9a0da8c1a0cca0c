//! The worker that delivers the outbox's webhook events and WeCom cards. Every attempt goes into the
//! delivery log with what the other side answered. A delivery whose outcome is unknown (no answer, lost
//! response) is retried with backoff, and the retry cannot be a duplicate on the other side: a webhook
//! receiver deduplicates on the stable `X-Lizhi-Delivery` id, and WeCom's duplicate check suppresses the
//! same card sent again within four hours. A row given up stays `failed` until an operator retries it.

use crate::access::CallError;
use crate::clients::Clients;
use crate::configured::Configured;
use crate::wecom::client::retry_after_secs;
use chrono::{DateTime, Duration, Utc};
use lizhi_app::events::{CardUpdate, EventBody, WEBHOOK_CHANNEL, WECOM_CHANNEL, WECOM_UPDATE_CHANNEL, WeComCard};
use lizhi_app::mail::{MAX_ATTEMPTS, backoff};
use lizhi_app::{App, AppError};
use lizhi_store::outbox::{self as store, Attempt, OutboxRow};
use serde_json::json;

/// How long a claimed row is reserved for the worker delivering it.
const LEASE: Duration = Duration::minutes(5);
/// Rows claimed per channel and run.
const BATCH: i64 = 20;
/// WeCom's longest duplicate-check window: a retried card within it is not shown twice.
const WECOM_DEDUPE_SECS: u32 = 4 * 3600;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeliveryRun {
    /// Delivered (a WeCom card some recipients could not get is `completed_with_errors`).
    pub delivered: usize,
    /// To be tried again.
    pub retried: usize,
    /// Given up.
    pub failed: usize,
}

/// One attempt's result.
struct Attempted {
    /// `None` when delivered.
    error: Option<CallError>,
    http_status: Option<i64>,
    /// What the other side answered (kept as the row's evidence and in the log).
    answer: serde_json::Value,
    /// Delivered, but not to everyone.
    warning: Option<String>,
}

/// Delivers every due webhook event and WeCom card (several instances may run this at once).
pub async fn run_due(app: &App, clients: &Clients) -> Result<DeliveryRun, AppError> {
    let mut run = DeliveryRun::default();
    for channel in [WEBHOOK_CHANNEL, WECOM_CHANNEL, WECOM_UPDATE_CHANNEL] {
        let now = app.clock.now();
        let mut conn = app.db.acquire().await?;
        let due = store::any_due(&mut conn.conn(), channel, now).await?;
        drop(conn);
        if !due {
            continue;
        }
        let claimed = {
            let mut tx = app.db.begin().await?;
            let rows = store::claim(&mut tx.conn(), channel, BATCH, now, now + LEASE).await?;
            tx.commit().await?;
            rows
        };
        for row in claimed {
            let started_at = app.clock.now();
            let clock = std::time::Instant::now();
            let attempted = match channel {
                WEBHOOK_CHANNEL => webhook(app, clients, &row).await,
                WECOM_CHANNEL => wecom(app, clients, &row).await,
                _ => card_update(app, clients, &row).await,
            };
            let duration_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
            finish(app, &row, attempted, started_at, duration_ms, &mut run).await?;
        }
    }
    Ok(run)
}

async fn finish(
    app: &App,
    row: &OutboxRow,
    attempted: Attempted,
    started_at: DateTime<Utc>,
    duration_ms: i64,
    run: &mut DeliveryRun,
) -> Result<(), AppError> {
    let now = app.clock.now();
    let (status, outcome, retry_at, error) = match &attempted.error {
        None => {
            run.delivered += 1;
            let status = if attempted.warning.is_some() { "completed_with_errors" } else { "completed" };
            (status, "delivered", now, attempted.warning.clone())
        }
        Some(error) => {
            let text = format!("{error} ({})", error.code());
            if error.worth_retrying() && row.attempts < MAX_ATTEMPTS {
                run.retried += 1;
                let wait =
                    retry_after_secs(error).map_or_else(|| backoff(row.attempts), |s| Duration::seconds(s as i64));
                ("queued", "retry", now + wait, Some(text))
            } else {
                run.failed += 1;
                tracing::warn!(outbox = row.id, channel = %row.channel, error = %text, "delivery given up");
                ("failed", "failed", now, Some(text))
            }
        }
    };
    let detail = json!({"answer": attempted.answer, "error": error}).to_string();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let attempt = Attempt {
        attempt: row.attempts,
        started_at,
        outcome: outcome.into(),
        http_status: attempted.http_status,
        duration_ms,
        detail: Some(detail),
    };
    store::record_attempt(&mut c, row.id, &attempt).await?;
    if !attempted.answer.is_null() {
        store::set_evidence(&mut c, row.id, &attempted.answer.to_string()).await?;
    }
    store::finish(&mut c, row.id, status, error.as_deref(), retry_at, now).await?;
    tx.commit().await?;
    Ok(())
}

/// An attempt without an answer to keep (the error says whether to try again).
fn refused(error: CallError) -> Attempted {
    Attempted { error: Some(error), http_status: None, answer: serde_json::Value::Null, warning: None }
}

fn given_up(code: &str, message: impl Into<String>) -> Attempted {
    refused(CallError::Refused { system: "outbox", code: code.into(), message: message.into(), retryable: false })
}

async fn webhook(app: &App, clients: &Clients, row: &OutboxRow) -> Attempted {
    let Ok(event) = serde_json::from_str::<EventBody>(&row.payload) else {
        return given_up("unreadable_payload", "the queued event is not readable");
    };
    let target = match clients.get(app, &row.recipient).await {
        Ok(client) => client,
        Err(error) => {
            return refused(error);
        }
    };
    let Configured::Webhook(target) = target.as_ref() else {
        return given_up("not_a_webhook", format!("connector {} is not a webhook any more", row.recipient));
    };
    // The stored payload is sent byte for byte: it is what the signature covers.
    match target.deliver(&event.kind, &event.id, &row.payload, app.clock.now().timestamp()).await {
        Ok(answer) => Attempted {
            error: None,
            http_status: Some(i64::from(answer.status)),
            answer: json!({"status": answer.status, "body": answer.excerpt}),
            warning: None,
        },
        Err(failure) => Attempted {
            http_status: failure.answer.as_ref().map(|a| i64::from(a.status)),
            answer: failure.answer.map_or(serde_json::Value::Null, |a| json!({"status": a.status, "body": a.excerpt})),
            error: Some(failure.error),
            warning: None,
        },
    }
}

async fn wecom(app: &App, clients: &Clients, row: &OutboxRow) -> Attempted {
    let Ok(card) = serde_json::from_str::<WeComCard>(&row.payload) else {
        return given_up("unreadable_payload", "the queued card is not readable");
    };
    let Some(base) = app.public_url.as_deref() else {
        return given_up("no_public_url", "set public_url: a WeCom card must link to the case page");
    };
    let client = match clients.get(app, &card.connector).await {
        Ok(client) => client,
        Err(error) => {
            return refused(error);
        }
    };
    let Configured::WeCom(client) = client.as_ref() else {
        return given_up("not_wecom", format!("connector {} is not WeCom any more", card.connector));
    };
    let url = format!("{}{}", base.trim_end_matches('/'), card.path);
    let to: Vec<&str> = card.to.iter().map(String::as_str).collect();
    let dedupe = Some((true, WECOM_DEDUPE_SECS));
    let sent = match &card.approval {
        Some(buttons) => {
            let approve = [("approve", buttons.approve.as_str())];
            let (title, text) = (&card.title, &card.description);
            client
                .send_button_card(&to, &buttons.task_id, title, text, &url, &approve, Some(&buttons.reject), dedupe)
                .await
        }
        None => client.send_text_card(&to, &card.title, &card.description, &url, None, dedupe).await,
    };
    match sent {
        Ok(report) => {
            let missed: Vec<&str> =
                report.invalid_users.iter().chain(&report.unlicensed_users).map(String::as_str).collect();
            Attempted {
                error: None,
                http_status: None,
                answer: serde_json::to_value(&report).unwrap_or_default(),
                warning: (!missed.is_empty()).then(|| format!("not delivered to: {}", missed.join(", "))),
            }
        }
        Err(error) => refused(error),
    }
}

async fn card_update(app: &App, clients: &Clients, row: &OutboxRow) -> Attempted {
    let Ok(update) = serde_json::from_str::<CardUpdate>(&row.payload) else {
        return given_up("unreadable_payload", "the queued card update is not readable");
    };
    let client = match clients.get(app, &update.connector).await {
        Ok(client) => client,
        Err(error) => {
            return refused(error);
        }
    };
    let Configured::WeCom(client) = client.as_ref() else {
        return given_up("not_wecom", format!("connector {} is not WeCom any more", update.connector));
    };
    match client.update_button_card(&[update.userid.as_str()], &update.response_code, &update.replace_name).await {
        Ok(()) => Attempted {
            error: None,
            http_status: None,
            answer: json!({"updated": update.userid, "replace_name": update.replace_name}),
            warning: None,
        },
        Err(error) => refused(error),
    }
}
