//! The HTTP face of Lizhi: the JSON API under `/api/v1` (with its OpenAPI document), the
//! server-rendered pages, sign-in, CSRF, security headers and metrics.
//!
//! Every route is declared once in [`routes`] with the access it needs; the access check is
//! attached from that declaration, so no route can be added without deciding who may call it.

mod api;
mod api_cases;
mod api_connectors;
mod api_evidence;
mod api_outbox;
mod api_risk;
mod caller;
mod error;
mod forms;
mod middleware;
pub mod openapi;
pub(crate) mod pages;
pub mod routes;
mod views;
mod wecom_callback;

pub use caller::SESSION_COOKIE;
pub use routes::{Access, RouteSpec};

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// How the web layer is reached from outside.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Public base URL (e.g. `https://hr.example.com`); decides `Secure` cookies and the origin
    /// that state-changing requests must come from.
    pub public_url: Option<String>,
}

impl WebConfig {
    /// Whether cookies must carry `Secure` (only when served over https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests served.
    pub requests: AtomicU64,
    /// Responses with a 5xx status.
    pub server_errors: AtomicU64,
    /// Failed sign-ins.
    pub failed_logins: AtomicU64,
    /// Sum of request durations in microseconds.
    pub duration_micros: AtomicU64,
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub app: lizhi_app::App,
    /// Deployment settings.
    pub config: Arc<WebConfig>,
    /// Counters.
    pub metrics: Arc<Metrics>,
}

/// Builds the whole application router.
pub fn router(app: lizhi_app::App, config: WebConfig) -> axum::Router {
    let state = AppState { app, config: Arc::new(config), metrics: Arc::new(Metrics::default()) };
    routes::build(state).0
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    app: lizhi_app::App,
    config: WebConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let housekeeping_app = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = lizhi_app::auth::housekeeping(&housekeeping_app).await {
                tracing::warn!(error = %e, "session housekeeping failed");
            }
        }
    });
    axum::serve(listener, router(app, config).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
