//! `lizhi risk scan` and `lizhi risk backtest`: the absence rules over stored attendance data,
//! printed as CSV (the backtest contract) or JSON (with the explanations).

use super::Env;
use crate::cli::{RiskCommand, RiskCommon, RiskFormat};
use crate::ui;
use anyhow::{Context, Result, anyhow};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use lizhi_app::risk::{self, Finding, RiskQuery};
use lizhi_core::policy::Policy;
use lizhi_core::values::PolicyProfile;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Runs a `risk` subcommand.
pub async fn run(env: &Env, cmd: RiskCommand) -> Result<ExitCode> {
    let (common, format) = match &cmd {
        RiskCommand::Scan(a) => (&a.common, a.format),
        RiskCommand::Backtest(a) => (&a.common, a.format),
    };
    let query = query(common)?;
    let app = env.open().await?;
    let outcome = match &cmd {
        RiskCommand::Scan(a) => risk::scan(&app, &env.ctx(), a.as_of, &query).await,
        RiskCommand::Backtest(a) => risk::backtest(&app, &env.ctx(), a.from, a.to, &query).await,
    };
    app.db.close().await;
    let findings = outcome.map_err(ui::app_error(env.locale))?;
    let mut out = std::io::stdout().lock();
    match format {
        RiskFormat::Csv => out.write_all(&csv(&findings))?,
        RiskFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &findings)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn query(common: &RiskCommon) -> Result<RiskQuery> {
    let policy = common.policy.as_deref().map(load_policy).transpose()?;
    Ok(RiskQuery { legal_entity: common.legal_entity.clone(), policy, employee_no: None })
}

/// A candidate policy: the defaults of the profile the file names, overridden by the file.
fn load_policy(path: &Path) -> Result<Policy> {
    #[derive(serde::Deserialize)]
    struct Named {
        profile: String,
    }
    let named: Named = Figment::from(Toml::file_exact(path))
        .extract()
        .with_context(|| format!("{}: a policy file must name its `profile`", path.display()))?;
    let profile = PolicyProfile::parse(&named.profile).map_err(|_| {
        anyhow!("{}: unknown profile {:?} (CN-default, US-generic, UK, IN)", path.display(), named.profile)
    })?;
    let policy: Policy = Figment::from(Serialized::defaults(Policy::defaults(profile)))
        .merge(Toml::file_exact(path))
        .extract()
        .with_context(|| format!("{}: not a valid policy", path.display()))?;
    policy.validate().map_err(|e| anyhow!("{}: {} ({})", path.display(), e, e.code()))?;
    Ok(policy)
}

/// The backtest CSV contract: `date,employee_no,level,rules,consecutive_absent_workdays,first_absent_date`.
fn csv(findings: &[Finding]) -> Vec<u8> {
    let headers = ["date", "employee_no", "level", "rules", "consecutive_absent_workdays", "first_absent_date"];
    let rows: Vec<Vec<String>> = findings
        .iter()
        .map(|f| {
            let a = &f.assessment;
            vec![
                f.date.to_string(),
                f.employee_no.clone(),
                a.level.code().to_owned(),
                a.rules.iter().map(|r| r.rule.code()).collect::<Vec<_>>().join(";"),
                a.consecutive_absent_workdays.to_string(),
                a.first_absent_date.map(|d| d.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    let mut bytes = lizhi_docs::write_csv(&headers, &rows);
    // Machine-read contract: no byte order mark (write_csv adds one for Excel).
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    bytes
}
