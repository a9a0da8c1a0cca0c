//! The outbox as administrators see it: deliveries (webhook events, WeCom cards, e-mail) with their delivery
//! log, access actions that need attention, and retrying either. Retries are audited; payloads stay inside
//! (they may hold personal data), only what the other side answered is shown.

use crate::audit::{change, record};
use crate::{App, AppError, Ctx};
use lizhi_core::auth::Permission;
use lizhi_store::access::{self as actions, ActionView};
use lizhi_store::outbox as store;
pub use lizhi_store::outbox::{Attempt, DeliveryFilter, DeliveryView};

/// Deliveries, newest first (`limit` at most 500).
pub async fn list(app: &App, ctx: &Ctx, filter: &DeliveryFilter) -> Result<Vec<DeliveryView>, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut filter = filter.clone();
    filter.limit = if filter.limit <= 0 { 100 } else { filter.limit.min(500) };
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn.conn(), &filter).await?)
}

/// One delivery and its log.
pub async fn detail(app: &App, ctx: &Ctx, id: i64) -> Result<(DeliveryView, Vec<Attempt>), AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let row = store::get(&mut c, id).await?.ok_or(AppError::NotFound)?;
    Ok((row, store::attempts_of(&mut c, id).await?))
}

/// Queues a delivery again now: a failed one retried, a delivered one sent again (redelivery; the receiver
/// deduplicates on the event id). A delivery in progress cannot be retried.
pub async fn retry_delivery(app: &App, ctx: &Ctx, id: i64) -> Result<(), AppError> {
    ctx.require(Permission::ManageUsers)?;
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let row = store::get(&mut c, id).await?.ok_or(AppError::NotFound)?;
    if !store::requeue(&mut c, id, now).await? {
        return Err(AppError::invalid("status", "not_retryable"));
    }
    let detail = serde_json::json!({"channel": row.channel, "from": row.status, "key": row.idempotency_key});
    record(app, &mut c, ctx, &[change(ctx, "outbox.retry", "outbox", &id.to_string(), None, Some(&detail))]).await?;
    lizhi_store::wake::announce(&mut c).await?;
    tx.commit().await?;
    app.outbox_signal.notify_one();
    Ok(())
}

/// Access actions given up or unconfirmed, newest first.
pub async fn needing_attention(app: &App, ctx: &Ctx, limit: i64) -> Result<Vec<ActionView>, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = app.db.acquire().await?;
    Ok(actions::needing_attention(&mut conn.conn(), limit).await?)
}

/// Queues an access action again now; it reads the account first, so nothing is done twice.
pub async fn retry_action(app: &App, ctx: &Ctx, id: i64) -> Result<(), AppError> {
    ctx.require(Permission::ManageUsers)?;
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let case = actions::case_of(&mut c, id).await?.ok_or(AppError::NotFound)?;
    if !actions::retry(&mut c, id, now).await? {
        return Err(AppError::invalid("status", "not_retryable"));
    }
    let detail = serde_json::json!({"action": id, "case": case});
    record(app, &mut c, ctx, &[change(ctx, "access.retry", "access_action", &id.to_string(), None, Some(&detail))])
        .await?;
    lizhi_store::wake::announce(&mut c).await?;
    tx.commit().await?;
    app.outbox_signal.notify_one();
    Ok(())
}

/// How many deliveries each channel has in each status (`lizhi connectors status`).
pub async fn status_counts(app: &App, ctx: &Ctx) -> Result<Vec<(String, String, i64)>, AppError> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::all_counts(&mut conn.conn()).await?)
}

/// One notice a case caused, as its page shows it ("who was told").
#[derive(Debug, Clone, serde::Serialize)]
pub struct Told {
    /// `webhook`, `wecom` or `email`.
    pub channel: String,
    /// The event (`employee.departure_confirmed`, `approval`…).
    pub event: String,
    /// The connector or address.
    pub target: String,
    /// How many people a WeCom card is for (1 otherwise).
    pub recipients: usize,
    /// Delivery status.
    pub status: String,
    /// The last problem, if any.
    pub last_error: Option<String>,
}

/// The notices a case caused, oldest first (for whoever may see the case).
pub async fn of_case(app: &App, ctx: &Ctx, case_id: i64) -> Result<Vec<Told>, AppError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    crate::cases::visible_case(&mut c, ctx, case_id, false).await?;
    let filter = DeliveryFilter { case_id: Some(case_id), limit: 200, ..Default::default() };
    let mut rows = store::list(&mut c, &filter).await?;
    rows.reverse();
    // How many people each WeCom card is for, from its payload (one query for the case, not one per card).
    let cards: std::collections::HashMap<i64, usize> =
        store::payloads_of_case(&mut c, case_id, crate::events::WECOM_CHANNEL)
            .await?
            .into_iter()
            .map(|(id, payload)| {
                (id, serde_json::from_str::<crate::events::WeComCard>(&payload).map_or(0, |card| card.to.len()))
            })
            .collect();
    let mut out = Vec::new();
    for row in rows {
        out.push(Told {
            event: crate::events::subject_of_key(&row.idempotency_key).to_owned(),
            recipients: cards.get(&row.id).copied().unwrap_or(1),
            channel: row.channel,
            target: row.recipient,
            status: row.status,
            last_error: row.last_error,
        });
    }
    Ok(out)
}
