//! The connector worker's loop, shared by `lizhi serve` and the benchmark: access actions first, then
//! deliveries; straight on while there is work (a revocation walks its systems in order, one step per
//! run), otherwise asleep until the tick or until a change on this instance wakes it.

use crate::clients::Clients;
use crate::{access_worker, deliveries};
use lizhi_app::App;
use std::time::Duration;

/// Runs until the task is dropped.
pub async fn run(app: App, tick: Duration) {
    let clients = Clients::new();
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if !run_once(&app, &clients).await {
            tokio::select! {
                _ = interval.tick() => {}
                () = app.outbox_signal.notified() => {}
            }
        }
    }
}

/// One pass of both workers; true when either found work.
pub async fn run_once(app: &App, clients: &Clients) -> bool {
    let mut busy = false;
    match access_worker::run_due(app, clients).await {
        Ok(run) if run != Default::default() => {
            busy = true;
            tracing::info!(
                completed = run.completed,
                unconfirmed = run.completed_with_errors,
                retried = run.retried,
                failed = run.failed,
                drifted = run.drifted,
                "access actions"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "the access worker could not run"),
    }
    match deliveries::run_due(app, clients).await {
        Ok(run) if run != Default::default() => {
            busy = true;
            tracing::info!(delivered = run.delivered, retried = run.retried, failed = run.failed, "deliveries");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "the delivery worker could not run"),
    }
    busy
}
