//! The connector worker's loop, shared by `lizhi serve` and the benchmark: access actions first, then
//! deliveries; straight on while there is work (a revocation walks its systems in order, one step per
//! run), otherwise asleep until the tick or until queued work wakes it: a change on this instance, or on
//! PostgreSQL any instance's commit (see `lizhi_store::wake`).

use crate::clients::Clients;
use crate::{access_worker, deliveries};
use lizhi_app::App;
use std::sync::Arc;
use std::time::Duration;

/// Runs until the task is dropped, with connector clients it may share (see [`Clients`]).
pub async fn run(app: App, clients: Arc<Clients>, tick: Duration) {
    let listening = tokio::spawn(forward_announcements(app.clone()));
    let _stop_listening = AbortOnDrop(listening);
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

/// Wakes this instance's worker when another instance announces work (PostgreSQL only). A lost
/// connection is retried; meanwhile the tick keeps the worker going.
async fn forward_announcements(app: App) {
    loop {
        match lizhi_store::wake::listen(&app.db).await {
            Ok(None) => return,
            Ok(Some(mut listener)) => loop {
                match listener.recv().await {
                    Ok(_) => app.outbox_signal.notify_one(),
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the outbox notifications; listening again");
                        break;
                    }
                }
            },
            Err(e) => tracing::warn!(error = %e, "cannot listen for outbox notifications"),
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

/// Stops the listener with the loop that started it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
