//! `lizhi evidence …`: export an evidence bundle, or check one offline.

use super::Env;
use crate::cli::EvidenceCommand;
use crate::ui::{self, tr};
use anyhow::{Context, Result, anyhow};
use lizhi_app::evidence;
use lizhi_core::evidence::Outcome;
use std::process::ExitCode;

/// Runs an `evidence` subcommand.
pub async fn run(env: &Env, cmd: EvidenceCommand) -> Result<ExitCode> {
    let l = env.locale;
    match cmd {
        EvidenceCommand::Export(a) => {
            let app = env.open().await?;
            let outcome = async {
                let ctx = super::case::ctx(env, &app, &a.who).await?;
                let bundle = if a.employee {
                    evidence::export_employee(&app, &ctx, &a.subject).await
                } else {
                    let id: i64 = a.subject.parse().map_err(|_| anyhow!("{:?} is not a case id", a.subject))?;
                    evidence::export_case(&app, &ctx, id).await
                }
                .map_err(ui::app_error(l))?;
                std::fs::write(&a.output, &bundle.bytes)
                    .with_context(|| format!("cannot write {}", a.output.display()))?;
                println!(
                    "{} {} ({} {}, {} bytes)",
                    tr(l, "wrote", "已写入"),
                    a.output.display(),
                    bundle.events,
                    tr(l, "events", "条事件"),
                    bundle.bytes.len()
                );
                Ok(ExitCode::SUCCESS)
            }
            .await;
            app.db.close().await;
            outcome
        }
        EvidenceCommand::Verify(a) => {
            let bytes = std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
            let keys = match &a.keys {
                Some(path) => {
                    Some(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?)
                }
                None => None,
            };
            let report = evidence::verify_zip(&bytes, keys.as_deref()).map_err(|e| anyhow!("{e}"))?;
            for (dimension, outcome) in &report.results {
                let (verdict, detail) = match outcome {
                    Outcome::Pass(d) => ("PASS", d),
                    Outcome::Fail(d) => ("FAIL", d),
                    Outcome::Skip(d) => ("SKIP", d),
                };
                println!("{}: {verdict} {detail}", dimension.name());
            }
            Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
