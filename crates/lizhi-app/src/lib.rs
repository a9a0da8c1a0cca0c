//! Lizhi's use cases: one function per user action, each opening its transaction, checking the
//! caller's permission and scope, and writing its audit rows in that same transaction.
//!
//! The web layer and the CLI call only this crate; neither touches SQL or business rules.

pub mod access;
pub mod alumni;
pub mod assets;
pub mod audit;
pub mod audit_log;
pub mod audit_verify;
pub mod auth;
pub mod case_docs;
pub mod case_flow;
pub mod case_view;
pub mod cases;
mod clock;
pub mod connectors;
pub mod demo;
mod demo_attendance;
mod demo_calendar;
mod demo_cases;
mod error;
pub mod events;
pub mod evidence;
pub mod export;
pub mod i18n;
pub mod import;
pub mod mail;
pub mod outbox;
pub mod people;
pub mod reminders;
pub mod risk;
pub mod risk_board;
pub mod risk_scan;
pub mod risk_trial;
pub mod secrets;
pub mod wecom_approvals;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::AppError;
pub use lizhi_store::{Backend, Db, StoreError};

use lizhi_core::auth::Principal;
use std::sync::Arc;

/// Shared handle to everything a use case needs: the database, the clock and the fonts for documents.
#[derive(Clone)]
pub struct App {
    /// Database pool.
    pub db: Db,
    /// "Now", injectable so tests can move time.
    pub clock: Arc<dyn Clock>,
    /// Fonts for PDFs, found on first use (scanning the font folders takes a fraction of a second).
    pub fonts: Arc<case_docs::FontCache>,
    /// Whether reminders are also e-mailed (a mail server is configured).
    pub mail_enabled: bool,
    /// The instance secret that seals the log's signing key.
    pub secret: secrets::SecretKey,
    /// The timestamp authority, when one is configured.
    pub tsa: Option<Arc<audit_log::TsaSettings>>,
    /// The address people reach Lizhi at (`https://hr.example.com`), for links in WeCom cards.
    pub public_url: Option<String>,
    /// Woken after a commit that queued outbox work, so this instance's worker starts at once.
    pub outbox_signal: Arc<tokio::sync::Notify>,
}

impl App {
    /// Wraps a migrated database with the system clock.
    pub fn new(db: Db) -> App {
        App::with_clock(db, Arc::new(SystemClock))
    }

    /// Same, with a chosen clock.
    pub fn with_clock(db: Db, clock: Arc<dyn Clock>) -> App {
        App {
            db,
            clock,
            fonts: Arc::default(),
            mail_enabled: false,
            secret: secrets::SecretKey::ephemeral(),
            tsa: None,
            public_url: None,
            outbox_signal: Arc::default(),
        }
    }

    /// Connects, migrates and returns the app for a database URL.
    pub async fn open(url: &str, max_connections: u32) -> Result<App, AppError> {
        let db = Db::connect(url, max_connections).await?;
        db.migrate().await?;
        Ok(App::new(db))
    }
}

/// Who acts and under which request id; every use case that changes data takes one.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The caller; `None` for system work (the CLI acting as the operator, the demo seeder).
    pub principal: Option<Principal>,
    /// The audit actor label.
    pub actor: String,
    /// Correlates audit rows with logs.
    pub request_id: String,
}

impl Ctx {
    /// A signed-in user's context.
    pub fn user(principal: Principal, request_id: String) -> Ctx {
        Ctx { actor: principal.username.clone(), principal: Some(principal), request_id }
    }

    /// Operator work from the command line, with full rights (whoever runs the binary owns the data).
    pub fn system(actor: &str) -> Ctx {
        Ctx { principal: None, actor: actor.to_owned(), request_id: new_request_id() }
    }

    /// Fails unless the caller holds the permission (system contexts hold every permission).
    pub fn require(&self, permission: lizhi_core::auth::Permission) -> Result<(), AppError> {
        match &self.principal {
            None => Ok(()),
            Some(p) if p.can(permission) => Ok(()),
            Some(_) => Err(AppError::Forbidden),
        }
    }

    /// The reach of a permission for this caller.
    pub fn scope(&self, permission: lizhi_core::auth::Permission) -> Result<lizhi_core::auth::Scope, AppError> {
        match &self.principal {
            None => Ok(lizhi_core::auth::Scope::All),
            Some(p) => p.scope(permission).ok_or(AppError::Forbidden),
        }
    }
}

/// A fresh random request id (16 hex characters).
pub fn new_request_id() -> String {
    hex::encode(random_bytes::<8>())
}

/// Bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS generator failing is not recoverable in any useful way for a server.
    getrandom::fill(&mut buf).expect("operating system random generator unavailable");
    buf
}

/// Makes ring the process's TLS provider (HTTPS to timestamp authorities, SCIM, WeCom and webhooks; LDAPS)
/// unless one is installed already. Every HTTP client is built after this; calling it again is free.
pub fn install_tls_provider() {
    // An error only means a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
