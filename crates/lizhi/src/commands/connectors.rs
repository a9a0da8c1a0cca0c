//! `lizhi connectors …`: register the systems Lizhi revokes access in, and list them.

use super::Env;
use crate::cli::ConnectorsCommand;
use crate::ui::{self, tr};
use anyhow::{Result, anyhow};
use lizhi_app::connectors::{self, ConnectorInput};
use std::process::ExitCode;

/// Runs a `connectors` subcommand.
pub async fn run(env: &Env, cmd: ConnectorsCommand) -> Result<ExitCode> {
    let app = env.open().await?;
    let outcome = dispatch(env, &app, cmd).await;
    app.db.close().await;
    outcome
}

async fn dispatch(env: &Env, app: &lizhi_app::App, cmd: ConnectorsCommand) -> Result<ExitCode> {
    let l = env.locale;
    let ctx = env.ctx();
    match cmd {
        ConnectorsCommand::Put(a) => {
            let mut settings = serde_json::Map::new();
            for pair in &a.settings {
                let (key, value) = pair.split_once('=').ok_or_else(|| anyhow!("expected KEY=VALUE, got {pair:?}"))?;
                // `agent_id=1000002` is a number, `events=["pay.stop_requested"]` a list, anything else text.
                let value = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
                settings.insert(key.trim().to_owned(), value);
            }
            let secret = if a.secret_stdin { Some(crate::config::read_secret_line()?) } else { None };
            let input = ConnectorInput {
                kind: a.kind,
                name: a.name,
                settings,
                secret,
                revoke_order: a.order,
                enabled: Some(!a.disabled),
            };
            let check = &lizhi_connectors::configured::check_settings;
            let created = connectors::put_checked(app, &ctx, &a.code, &input, check).await.map_err(ui::app_error(l))?;
            println!("{} {}", if created { tr(l, "created", "已创建") } else { tr(l, "updated", "已更新") }, a.code);
            Ok(ExitCode::SUCCESS)
        }
        ConnectorsCommand::Test(a) => {
            let outcome =
                lizhi_connectors::configured::test_registered(app, &ctx, &a.code).await.map_err(ui::app_error(l))?;
            match outcome {
                Ok(checked) => {
                    println!("{} {}: {checked}", tr(l, "OK", "正常"), a.code);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{} {} ({}): {e}", tr(l, "FAILED", "失败"), a.code, e.code());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        ConnectorsCommand::Status => {
            let counts = lizhi_app::access::status(app, &ctx).await.map_err(ui::app_error(l))?;
            let rows: Vec<Vec<String>> =
                counts.into_iter().map(|(code, status, n)| vec![code, status, n.to_string()]).collect();
            let header = [tr(l, "connector", "连接器"), tr(l, "status", "状态"), tr(l, "actions", "操作数")];
            println!("{}", ui::table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows));
            let deliveries = lizhi_app::outbox::status_counts(app, &ctx).await.map_err(ui::app_error(l))?;
            let rows: Vec<Vec<String>> =
                deliveries.into_iter().map(|(channel, status, n)| vec![channel, status, n.to_string()]).collect();
            let header = [tr(l, "channel", "渠道"), tr(l, "status", "状态"), tr(l, "deliveries", "投递数")];
            println!("{}", ui::table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows));
            Ok(ExitCode::SUCCESS)
        }
        ConnectorsCommand::SyncCheckins(a) => {
            let clients = lizhi_connectors::clients::Clients::new();
            let report = lizhi_connectors::checkins::sync(app, &ctx, &clients, &a.code, a.from, a.to)
                .await
                .map_err(ui::app_error(l))?;
            println!(
                "{}: {} {}, {} {}, {} {}, {} {}",
                a.code,
                report.employees,
                tr(l, "employees", "名员工"),
                report.fetched,
                tr(l, "check-ins", "条打卡"),
                report.missed,
                tr(l, "missed (not punches)", "条缺卡（不算打卡）"),
                report.import.created,
                tr(l, "new punches", "条新打卡")
            );
            Ok(ExitCode::SUCCESS)
        }
        ConnectorsCommand::List => {
            let items = connectors::list(app, &ctx).await.map_err(ui::app_error(l))?;
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|k| {
                    vec![
                        k.revoke_order.to_string(),
                        k.code.clone(),
                        k.kind.clone(),
                        k.name.clone(),
                        if k.has_secret { tr(l, "stored", "已保存") } else { "—".into() },
                        if k.enabled { tr(l, "on", "启用") } else { tr(l, "off", "停用") },
                        k.settings.to_string(),
                    ]
                })
                .collect();
            let header = [
                tr(l, "order", "顺序"),
                tr(l, "code", "代码"),
                tr(l, "kind", "类型"),
                tr(l, "name", "名称"),
                tr(l, "secret", "密钥"),
                tr(l, "state", "状态"),
                tr(l, "settings", "设置"),
            ];
            println!("{}", ui::table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows));
            Ok(ExitCode::SUCCESS)
        }
    }
}
