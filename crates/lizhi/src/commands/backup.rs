//! `lizhi backup`: a consistent copy of a SQLite database while the server keeps running
//! (`VACUUM INTO`; a plain file copy of a WAL database can be torn). PostgreSQL has pg_dump.

use super::Env;
use crate::config::UrlKind;
use crate::ui::{self, tr};
use anyhow::{Result, bail};
use std::process::ExitCode;

/// Exit code when the backend needs another tool: distinct from a failed backup.
const WRONG_TOOL: u8 = 2;

/// Writes the copy, refusing to overwrite anything.
pub async fn run(env: &Env, args: crate::cli::BackupArgs) -> Result<ExitCode> {
    let locale = env.locale;
    let config = env.config();
    config.validate()?;
    if UrlKind::of(&config.database_url) == Some(UrlKind::Postgres) {
        eprintln!(
            "{}\n\n    pg_dump \"$LIZHI_DATABASE_URL\" > {}\n",
            tr(
                locale,
                "This installation uses PostgreSQL: back it up with PostgreSQL's own tool, for example",
                "本实例使用 PostgreSQL：请用 PostgreSQL 自带的工具备份，例如"
            ),
            args.file.with_extension("sql").display()
        );
        return Ok(ExitCode::from(WRONG_TOOL));
    }
    if args.file.exists() {
        bail!("{} exists already; choose a new file name (a backup never overwrites)", args.file.display());
    }
    if let Some(parent) = args.file.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        bail!("the folder {} does not exist", parent.display());
    }
    let target = args
        .file
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path {} is not valid UTF-8", args.file.display()))?;
    let app = env.open().await?;
    let outcome = app.db.backup_to(target).await;
    app.db.close().await;
    outcome.map_err(|e| anyhow::anyhow!("backup failed: {}", ui::describe(locale, &lizhi_app::AppError::from(e))))?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    println!(
        "{}",
        tr(
            locale,
            format!(
                "Backup written to {} ({size} bytes). To restore: stop Lizhi, copy the file into place and point LIZHI_DATABASE_URL at it.",
                args.file.display()
            ),
            format!(
                "备份已写入 {}（{size} 字节）。恢复方法：停止 Lizhi，把该文件放回原处并让 LIZHI_DATABASE_URL 指向它。",
                args.file.display()
            )
        )
    );
    Ok(ExitCode::SUCCESS)
}
