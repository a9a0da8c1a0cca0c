//! `lizhi check-config`: shows what the server would run with and where each value came from,
//! then proves the database answers — the first thing to run when a deployment misbehaves.

use super::Env;
use crate::config::{KEYS, Source, UrlKind};
use crate::ui::{self, tr};
use anyhow::Result;
use lizhi_app::{AppError, Db};
use std::process::ExitCode;
use std::time::Instant;

/// Prints the effective configuration (password redacted), validates it and pings the database.
pub async fn run(env: &Env) -> Result<ExitCode> {
    let locale = env.locale;
    let loaded = &env.loaded;
    let config = &loaded.config;
    match &loaded.file {
        Some(path) => println!("{} {}", tr(locale, "config file:", "配置文件："), path.display()),
        None => println!(
            "{}",
            tr(
                locale,
                "config file: none (./lizhi.toml not found, --config not given)",
                "配置文件：无（未找到 ./lizhi.toml，也未指定 --config）"
            )
        ),
    }
    let unset = tr(locale, "(not set)", "（未设置）");
    let rows: Vec<Vec<String>> = KEYS
        .iter()
        .map(|&key| {
            let (value, source) = match key {
                "database_url" => (config.redacted_url(), loaded.source(key).to_string()),
                "bind" => (config.bind.clone(), loaded.source(key).to_string()),
                "public_url" => {
                    (config.public_url.clone().unwrap_or_else(|| unset.clone()), loaded.source(key).to_string())
                }
                "max_connections" => {
                    let source = match loaded.source(key) {
                        Source::Default => tr(locale, "default for this backend", "该数据库类型的默认值"),
                        other => other.to_string(),
                    };
                    (config.max_connections().to_string(), source)
                }
                "font_dirs" => {
                    (config.font_dirs.clone().unwrap_or_else(|| unset.clone()), loaded.source(key).to_string())
                }
                "smtp_url" => (
                    config.smtp_url.as_deref().map(crate::config::redact_url).unwrap_or_else(|| unset.clone()),
                    loaded.source(key).to_string(),
                ),
                "mail_from" => {
                    (config.mail_from.clone().unwrap_or_else(|| unset.clone()), loaded.source(key).to_string())
                }
                "secret_key_file" => (config.secret_key_path().display().to_string(), loaded.source(key).to_string()),
                "secret_key" => (
                    if config.secret_key.is_some() { "***".to_owned() } else { unset.clone() },
                    loaded.source(key).to_string(),
                ),
                "tsa_url" => (config.tsa_url.clone().unwrap_or_else(|| unset.clone()), loaded.source(key).to_string()),
                "tsa_ca_file" => {
                    (config.tsa_ca_file.clone().unwrap_or_else(|| unset.clone()), loaded.source(key).to_string())
                }
                "checkpoint_minutes" => {
                    (config.checkpoint_every().num_minutes().to_string(), loaded.source(key).to_string())
                }
                _ => (config.log.clone(), loaded.source(key).to_string()),
            };
            vec![key.to_owned(), value, source]
        })
        .collect();
    let header = [tr(locale, "key", "键"), tr(locale, "value", "值"), tr(locale, "from", "来源")];
    println!("{}", ui::table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows));

    let problems = config.problems();
    if !problems.is_empty() {
        eprintln!("\n{}", tr(locale, "The configuration is invalid:", "配置无效："));
        for p in &problems {
            eprintln!("  - {p}");
        }
        return Ok(ExitCode::FAILURE);
    }
    let backend = match UrlKind::of(&config.database_url) {
        Some(UrlKind::Postgres) => "PostgreSQL",
        _ => "SQLite",
    };
    if let Some(path) = crate::config::sqlite_path(&config.database_url)
        && !path.exists()
    {
        // Connecting would create an empty database: a check must not leave one behind.
        println!(
            "\n{}",
            tr(
                locale,
                format!("database: SQLite file {} does not exist yet; it is created on first start", path.display()),
                format!("数据库：SQLite 文件 {} 尚不存在，首次启动时会自动创建", path.display())
            )
        );
        return Ok(ExitCode::SUCCESS);
    }
    let started = Instant::now();
    let connected = match Db::connect(&config.database_url, 1).await {
        Ok(db) => {
            let ping = db.ping().await;
            db.close().await;
            ping
        }
        Err(e) => Err(e),
    };
    match connected {
        Ok(()) => {
            println!(
                "\n{}",
                tr(
                    locale,
                    format!("database: {backend}, connected in {} ms", started.elapsed().as_millis()),
                    format!("数据库：{backend}，连接用时 {} 毫秒", started.elapsed().as_millis())
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!(
                "\n{} {}",
                tr(locale, format!("Cannot connect to {backend} at"), format!("无法连接 {backend}：")),
                config.redacted_url()
            );
            eprintln!("  {}", ui::describe(locale, &AppError::from(e)));
            Ok(ExitCode::FAILURE)
        }
    }
}
