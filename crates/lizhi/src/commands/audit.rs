//! `lizhi audit …`: the tamper-evident audit log from the command line.

use super::Env;
use crate::cli::AuditCommand;
use crate::ui::{self, tr};
use anyhow::{Context, Result};
use lizhi_app::{App, audit_log, audit_verify};
use std::process::ExitCode;

/// Runs an `audit` subcommand.
pub async fn run(env: &Env, cmd: AuditCommand) -> Result<ExitCode> {
    let app = env.open().await?;
    let outcome = dispatch(env, &app, cmd).await;
    app.db.close().await;
    outcome
}

async fn dispatch(env: &Env, app: &App, cmd: AuditCommand) -> Result<ExitCode> {
    let fail = ui::app_error(env.locale);
    let l = env.locale;
    let ctx = env.ctx();
    match cmd {
        AuditCommand::Verify(a) => {
            let external = match &a.checkpoint {
                Some(path) => {
                    Some(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?)
                }
                None => None,
            };
            let report = audit_verify::verify(app, &ctx, external.as_deref()).await.map_err(&fail)?;
            println!("{}: {}", tr(l, "events", "事件"), report.events);
            println!(
                "{}: {} ({} {})",
                tr(l, "checkpoints", "检查点"),
                report.checkpoints,
                tr(l, "newest covers", "最新覆盖"),
                report.signed_size
            );
            println!("{}: {}", tr(l, "timestamps", "时间戳"), report.timestamps);
            for key in &report.keys {
                println!("{}: {key}", tr(l, "key", "公钥"));
            }
            if report.uncovered() > 0 {
                println!("{}: {}", tr(l, "not yet covered by a checkpoint", "尚未被检查点覆盖"), report.uncovered());
            }
            if report.ok() {
                println!(
                    "{}",
                    tr(l, "OK: the log matches every signed checkpoint.", "通过：日志与所有已签名检查点一致。")
                );
                return Ok(ExitCode::SUCCESS);
            }
            if let Some(first) = report.findings.first() {
                println!("{}: {first}", tr(l, "FAILED — first problem", "失败 — 第一个问题"));
            }
            for finding in report.findings.iter().skip(1) {
                println!("  {finding}");
            }
            Ok(ExitCode::FAILURE)
        }
        AuditCommand::Checkpoint => {
            audit_log::checkpoint(app).await.map_err(&fail)?;
            match audit_log::status(app, &ctx).await.map_err(&fail)?.note {
                Some(note) => print!("{note}"),
                None => println!("{}", tr(l, "The log is empty.", "日志为空。")),
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::RotateKey(a) => {
            let rotation = match (a.destroy_old, a.abandon_old) {
                (_, true) => audit_log::Rotation::Abandon,
                (true, false) => audit_log::Rotation::HandoverAndDestroy,
                (false, false) => audit_log::Rotation::Handover,
            };
            let key = audit_log::rotate_key(app, &ctx, rotation).await.map_err(&fail)?;
            println!("{}: {key}", tr(l, "new signing key", "新签名公钥"));
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Purge(a) => {
            let purged = audit_log::purge(app, &ctx, &a.entity_type, &a.entity_key).await.map_err(&fail)?;
            println!("{}: {purged}", tr(l, "events whose personal values were purged", "已清除个人信息的事件"));
            Ok(ExitCode::SUCCESS)
        }
    }
}
