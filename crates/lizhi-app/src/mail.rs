//! E-mail through the outbox: reminders are queued in the transaction that writes them and delivered by a
//! worker, with exponential backoff and jitter, so a mail server that is down delays mail but loses none.

use crate::{App, AppError};
use chrono::Duration;
use lizhi_store::outbox as store;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

/// Something that sends one e-mail (SMTP in production).
pub trait Mailer: Send + Sync {
    /// Sends a plain-text message; the error says what went wrong, without secrets.
    fn send<'a>(
        &'a self,
        to: &'a str,
        subject: &'a str,
        body: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// What an e-mail outbox row carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmailPayload {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// The outbox channel of e-mail.
pub const CHANNEL: &str = "email";
/// Attempts before a message is given up (about a day of backoff).
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed message is reserved for the worker sending it.
const LEASE: Duration = Duration::minutes(5);

/// What one delivery run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// Sent.
    pub sent: usize,
    /// Failed and queued again.
    pub retried: usize,
    /// Failed for good.
    pub failed: usize,
}

/// The wait before attempt `attempts + 1`: 1, 2, 4 … minutes (at most 6 hours), ±20% so that many
/// instances do not retry in step.
pub fn backoff(attempts: i64) -> Duration {
    let base = 60i64.saturating_mul(1 << attempts.clamp(0, 20)).min(6 * 3600);
    let jitter = i64::from(u16::from_le_bytes(crate::random_bytes::<2>())) % (base / 5 + 1);
    let sign = if crate::random_bytes::<1>()[0] & 1 == 0 { 1 } else { -1 };
    Duration::seconds(base + sign * jitter)
}

/// Sends every queued e-mail that is due (several instances may run this at once).
pub async fn deliver_due(app: &App, mailer: &dyn Mailer) -> Result<Delivery, AppError> {
    let now = app.clock.now();
    let claimed = {
        let mut tx = app.db.begin().await?;
        let rows = store::claim(&mut tx.conn(), CHANNEL, 20, now, now + LEASE).await?;
        tx.commit().await?;
        rows
    };
    let mut out = Delivery::default();
    for row in claimed {
        let outcome = match serde_json::from_str::<EmailPayload>(&row.payload) {
            Ok(mail) => mailer.send(&row.recipient, &mail.subject, &mail.body).await,
            Err(e) => Err(format!("unreadable payload: {e}")),
        };
        let later = app.clock.now();
        let mut conn = app.db.acquire().await?;
        match outcome {
            Ok(()) => {
                store::finish(&mut conn.conn(), row.id, "completed", None, later, later).await?;
                out.sent += 1;
            }
            Err(e) if row.attempts >= MAX_ATTEMPTS => {
                tracing::warn!(outbox = row.id, error = %e, "e-mail given up");
                store::finish(&mut conn.conn(), row.id, "failed", Some(&e), later, later).await?;
                out.failed += 1;
            }
            Err(e) => {
                tracing::info!(outbox = row.id, attempts = row.attempts, error = %e, "e-mail will be retried");
                store::finish(&mut conn.conn(), row.id, "queued", Some(&e), later + backoff(row.attempts), later)
                    .await?;
                out.retried += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for attempts in 0..12 {
            let base = (60i64 << attempts).min(6 * 3600);
            for _ in 0..50 {
                let s = backoff(attempts).num_seconds();
                assert!(s >= base - base / 5 && s <= base + base / 5, "attempt {attempts}: {s} vs {base}");
            }
        }
    }
}
