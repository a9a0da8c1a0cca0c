//! `lizhi serve`: migrate, explain how to get the first admin, serve until Ctrl-C or SIGTERM.

use super::Env;
use crate::cli::ServeArgs;
use crate::config::Config;
use crate::ui::{self, tr};
use anyhow::{Context, Result};
use lizhi_app::App;
use lizhi_app::i18n::Locale;
use std::process::ExitCode;

/// Runs the server with the configured database.
pub async fn run(env: &Env, args: ServeArgs) -> Result<ExitCode> {
    let app = env.open().await?;
    let locale = env.locale;
    let no_users = lizhi_app::auth::no_users_yet(&app).await.map_err(ui::app_error(locale))?;
    if no_users && args.bootstrap_admin {
        match lizhi_app::auth::bootstrap_admin(&app, "admin").await.map_err(ui::app_error(locale))? {
            Some(password) => eprintln!(
                "{}\n\n    admin / {password}\n",
                tr(
                    locale,
                    "Created the first administrator. Its one-time password is shown only now:",
                    "已创建第一个管理员账号。一次性密码只显示这一次："
                )
            ),
            None => eprintln!(
                "{}",
                tr(
                    locale,
                    "Users exist already; --bootstrap-admin did nothing.",
                    "已有用户，--bootstrap-admin 未做任何事。"
                )
            ),
        }
    } else if no_users {
        eprintln!(
            "{}\n\n    lizhi user create admin --role admin\n\n{}",
            tr(
                locale,
                "No users yet. Create the first administrator with:",
                "尚无用户。请用以下命令创建第一个管理员："
            ),
            tr(
                locale,
                "It prints a one-time password. (Or restart with --bootstrap-admin.)",
                "命令会打印一次性密码。（也可以加 --bootstrap-admin 重新启动。）"
            )
        );
    } else if args.bootstrap_admin {
        eprintln!(
            "{}",
            tr(
                locale,
                "Users exist already; --bootstrap-admin did nothing.",
                "已有用户，--bootstrap-admin 未做任何事。"
            )
        );
    }
    let bind = env.config().bind.clone();
    serve_app(app, env.config(), &bind, locale, !args.no_scheduler).await
}

/// Binds, prints the URL and serves `app` (with the scan scheduler unless told not to) until a
/// shutdown signal, then closes the pool.
pub async fn serve_app(app: App, config: &Config, bind: &str, locale: Locale, scheduler: bool) -> Result<ExitCode> {
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind} (is another server using that port?)"))?;
    let addr = listener.local_addr().context("cannot read the listening address")?;
    let public_url = config.public_url();
    let local = format!("http://{addr}");
    println!("{} {}", tr(locale, "Lizhi is listening on", "Lizhi 正在监听"), local);
    if let Some(url) = &public_url {
        println!("{} {url}", tr(locale, "Public URL:", "公开地址："));
    }
    tracing::info!(%addr, public_url = public_url.as_deref().unwrap_or(""), "listening");
    let web = lizhi_web::WebConfig { public_url: public_url.clone() };
    let mailer = config.mailer().map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = App { mail_enabled: mailer.is_some(), public_url, ..app };
    let every = config.checkpoint_every();
    // One set of connector clients (WeCom tokens, member pacing) for the worker and the check-in sync.
    let clients = std::sync::Arc::new(lizhi_connectors::clients::Clients::new());
    let scheduler = scheduler.then(|| {
        [
            tokio::spawn(run_scheduler(app.clone(), instance_name(), mailer, every, clients.clone())),
            tokio::spawn(lizhi_connectors::worker::run(app.clone(), clients, CONNECTOR_TICK)),
        ]
    });
    let served = lizhi_web::serve(app.clone(), web, listener, shutdown).await;
    // A scan cut short rolls back; its claim is taken over once the lease runs out (an access action's too).
    for task in scheduler.into_iter().flatten() {
        task.abort();
    }
    app.db.close().await;
    served.context("the web server stopped with an error")?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// How often the connector worker looks for due work when nobody woke it: short, so a retry or an action
/// queued by another instance starts within seconds.
const CONNECTOR_TICK: std::time::Duration = std::time::Duration::from_secs(5);

/// How often WeCom check-ins are imported (when a WeCom connector has `"checkin_sync": true`).
const CHECKIN_SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// How often the scheduler looks for due scans.
const SCHEDULER_TICK: std::time::Duration = std::time::Duration::from_secs(60);

/// Names this process in the scans it claims: host and process id.
fn instance_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// Runs the daily risk scans that are due, the reminders, the audit log's checkpoints and timestamps, once a
/// minute. Every instance may run
/// this: each scan slot is claimed by one of them (see `lizhi_app::risk_scan`), and each reminder has a
/// unique dedupe key (see `lizhi_app::reminders`).
async fn run_scheduler(
    app: App,
    instance: String,
    mailer: Option<lizhi_connectors::SmtpMailer>,
    checkpoint_every: chrono::Duration,
    clients: std::sync::Arc<lizhi_connectors::clients::Clients>,
) {
    let mut tick = tokio::time::interval(SCHEDULER_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_checkin_sync = None;
    loop {
        tick.tick().await;
        match lizhi_app::risk_scan::run_due(&app, &instance).await {
            Ok(ran) => {
                for scan in ran {
                    tracing::info!(entity = %scan.legal_entity, as_of = %scan.as_of, status = %scan.status,
                        red = scan.red.unwrap_or(0), yellow = scan.yellow.unwrap_or(0), "daily risk scan");
                }
            }
            Err(e) => tracing::warn!(error = %e, "the risk scan scheduler could not run"),
        }
        match lizhi_app::reminders::run(&app).await {
            Ok(run) if run.sent > 0 => tracing::info!(sent = run.sent, escalated = run.escalated, "reminders"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the reminder job could not run"),
        }
        match lizhi_app::audit_log::checkpoint_if_due(&app, checkpoint_every).await {
            Ok(Some(c)) => tracing::info!(tree_size = c.tree_size, "audit log checkpoint signed"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, code = e.code(), "the audit log could not be signed"),
        }
        // Check-ins from WeCom, hourly: the punches the next scan reads (importing again changes nothing).
        if last_checkin_sync.is_none_or(|at: std::time::Instant| at.elapsed() >= CHECKIN_SYNC_EVERY) {
            last_checkin_sync = Some(std::time::Instant::now());
            for (code, outcome) in lizhi_connectors::checkins::sync_recent(&app, &clients).await {
                match outcome {
                    Ok(r) => {
                        tracing::info!(connector = %code, fetched = r.fetched, new = r.import.created, "WeCom check-ins")
                    }
                    Err(e) => tracing::warn!(connector = %code, error = %e, "WeCom check-ins could not be synced"),
                }
            }
        }
        if let Err(e) = lizhi_app::audit_log::timestamp_latest(&app).await {
            tracing::warn!(error = %e, "the audit log could not be timestamped; will retry");
        }
        if let Some(mailer) = &mailer {
            match lizhi_app::mail::deliver_due(&app, mailer).await {
                Ok(d) if d.sent + d.retried + d.failed > 0 => {
                    tracing::info!(sent = d.sent, retried = d.retried, failed = d.failed, "reminder e-mail")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the e-mail worker could not run"),
            }
        }
    }
}

/// Installs the Ctrl-C and SIGTERM handlers now and returns a future that resolves on either,
/// so in-flight requests finish before the process exits. Installing them before the listening
/// address is printed means a supervisor that signals right after start-up still gets a clean stop.
pub fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot install the Ctrl-C handler")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            tracing::info!("shutdown requested, finishing open requests");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            tracing::info!("shutdown requested, finishing open requests");
        })
    }
}
