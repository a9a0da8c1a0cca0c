//! `lizhi migrate`: apply pending schema migrations explicitly (servers also do it on start),
//! useful before a rolling upgrade of several instances.

use super::Env;
use crate::ui::{self, tr};
use anyhow::{Result, anyhow};
use lizhi_app::{AppError, Db};
use std::process::ExitCode;

/// Connects without the automatic migration of `App::open`, so the applied versions can be shown.
pub async fn run(env: &Env) -> Result<ExitCode> {
    let config = env.config();
    config.validate()?;
    let locale = env.locale;
    let db = Db::connect(&config.database_url, config.max_connections()).await.map_err(|e| {
        anyhow!("cannot open the database {}: {}", config.redacted_url(), ui::describe(locale, &AppError::from(e)))
    })?;
    let applied = db.migrate().await;
    db.close().await;
    let applied = applied.map_err(|e| anyhow!("{}", ui::describe(locale, &AppError::from(e))))?;
    if applied.is_empty() {
        println!(
            "{}",
            tr(
                locale,
                "The database schema is up to date; no migration applied.",
                "数据库结构已是最新，没有需要执行的迁移。"
            )
        );
    } else {
        let versions: Vec<String> = applied.iter().map(i64::to_string).collect();
        println!("{} {}", tr(locale, "Applied migrations:", "已执行迁移："), versions.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}
