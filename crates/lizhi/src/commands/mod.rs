//! One module per subcommand; each returns the process exit code or an error to print.

pub mod audit;
pub mod backup;
pub mod case;
pub mod check;
pub mod connectors;
pub mod data;
pub mod demo;
pub mod evidence;
pub mod migrate;
pub mod risk;
pub mod serve;
pub mod user;

use crate::config::{Config, Loaded};
use crate::ui;
use anyhow::{Result, anyhow};
use lizhi_app::i18n::Locale;
use lizhi_app::{App, Ctx};

/// What every command gets: the loaded configuration and the operator's language.
pub struct Env {
    /// Effective configuration and where each value came from.
    pub loaded: Loaded,
    /// Language of messages.
    pub locale: Locale,
}

impl Env {
    /// The effective configuration values.
    pub fn config(&self) -> &Config {
        &self.loaded.config
    }

    /// Validates the configuration, connects and applies pending migrations.
    pub async fn open(&self) -> Result<App> {
        open_url(self.config(), &self.config().database_url, self.locale).await
    }

    /// The operator's context: full rights, audited as `cli:<os user>`.
    pub fn ctx(&self) -> Ctx {
        Ctx::system(&format!("cli:{}", ui::os_user()))
    }
}

/// Connects to `url` (which may differ from the configured one, e.g. for the demo) and migrates.
pub async fn open_url(config: &Config, url: &str, locale: Locale) -> Result<App> {
    let effective = Config { database_url: url.to_owned(), ..config.clone() };
    effective.validate()?;
    let redacted = crate::config::redact_url(url);
    let max = effective.max_connections();
    tracing::info!(database = %redacted, max_connections = max, "opening database");
    let mut app = App::open(url, max)
        .await
        .map_err(|e| anyhow!("cannot open the database {redacted}: {}", ui::describe(locale, &e)))?;
    app.fonts = std::sync::Arc::new(lizhi_app::case_docs::FontCache::with_dirs(effective.font_dir_list()));
    app.secret = effective.secret()?;
    app.tsa = effective.tsa()?.map(std::sync::Arc::new);
    // The log's signing key exists from the first start on, so the first checkpoint never waits for it.
    lizhi_app::audit_log::ensure_key(&app).await.map_err(|e| anyhow!("{}", ui::describe(locale, &e)))?;
    Ok(app)
}
