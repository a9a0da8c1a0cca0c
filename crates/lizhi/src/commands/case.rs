//! `lizhi case …`: separation cases from the command line, with the same rules as the API.

use super::Env;
use crate::cli::{ActAs, CaseCommand};
use crate::ui;
use anyhow::{Result, anyhow};
use lizhi_app::cases::{self, BoardQuery, Command, OpenCase};
use lizhi_app::{App, Ctx, auth, case_flow, case_view};
use lizhi_core::case::approval::Decision;
use std::io::Write;
use std::process::ExitCode;

/// Runs a `case` subcommand.
pub async fn run(env: &Env, cmd: CaseCommand) -> Result<ExitCode> {
    let app = env.open().await?;
    let outcome = dispatch(env, &app, cmd).await;
    app.db.close().await;
    outcome
}

pub(crate) async fn ctx(env: &Env, app: &App, who: &ActAs) -> Result<Ctx> {
    match &who.as_user {
        None => Ok(env.ctx()),
        Some(name) => {
            let principal =
                auth::principal_named(app, name).await.map_err(|_| anyhow!("no enabled user named {name:?}"))?;
            Ok(Ctx::user(principal, lizhi_app::new_request_id()))
        }
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// `KEY=VALUE` pairs as a JSON object: numbers and booleans as such, everything else as text.
fn fields(action: &str, pairs: &[String]) -> Result<serde_json::Value> {
    let mut map = serde_json::Map::new();
    map.insert("action".into(), action.into());
    for pair in pairs {
        let (key, raw) = pair.split_once('=').ok_or_else(|| anyhow!("expected KEY=VALUE, got {pair:?}"))?;
        let value = match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => v,
            _ => raw.into(),
        };
        map.insert(key.trim().to_owned(), value);
    }
    Ok(serde_json::Value::Object(map))
}

async fn dispatch(env: &Env, app: &App, cmd: CaseCommand) -> Result<ExitCode> {
    let fail = ui::app_error(env.locale);
    match cmd {
        CaseCommand::List(a) => {
            let ctx = ctx(env, app, &a.who).await?;
            let query = BoardQuery { state: a.state, case_type: a.case_type, ..Default::default() };
            let lines = cases::list(app, &ctx, &query).await.map_err(fail)?;
            if a.json {
                let rows: Vec<serde_json::Value> = lines
                    .iter()
                    .map(|l| {
                        serde_json::json!({"id": l.case.id, "employee_no": l.employee_no, "case_type": l.case.case_type,
                            "state": l.case.state, "deadline": l.case.deadline, "open_items": l.open_items,
                            "overdue_items": l.overdue_items})
                    })
                    .collect();
                print_json(&rows)?;
            } else {
                let rows: Vec<Vec<String>> = lines
                    .iter()
                    .map(|l| {
                        vec![
                            l.case.id.to_string(),
                            l.employee_no.clone(),
                            l.employee_name.clone(),
                            l.case.case_type.clone(),
                            l.case.state.clone(),
                            l.case.deadline.map(|d| d.to_string()).unwrap_or_default(),
                            format!("{}/{}", l.overdue_items, l.open_items),
                        ]
                    })
                    .collect();
                let header = ["id", "employee_no", "name", "type", "state", "deadline", "overdue/open items"];
                println!("{}", ui::table(&header, &rows));
            }
        }
        CaseCommand::Open(a) => {
            let ctx = ctx(env, app, &a.who).await?;
            let input = OpenCase {
                employee_no: a.employee_no,
                case_type: a.case_type,
                first_absent_date: a.first_absent_date,
                effective_on: a.effective_on,
            };
            let id = cases::open(app, &ctx, &input).await.map_err(&fail)?;
            print_json(&case_view::get(app, &ctx, id).await.map_err(fail)?)?;
        }
        CaseCommand::Show(a) => {
            let ctx = ctx(env, app, &a.who).await?;
            print_json(&case_view::get(app, &ctx, a.id).await.map_err(fail)?)?;
        }
        CaseCommand::Act(a) => {
            let ctx = ctx(env, app, &a.who).await?;
            let body = fields(&a.action, &a.fields)?;
            let command: Command = serde_json::from_value(body).map_err(|e| anyhow!("{}: {e}", a.action))?;
            cases::act(app, &ctx, a.id, &command).await.map_err(&fail)?;
            print_json(&case_view::get(app, &ctx, a.id).await.map_err(fail)?)?;
        }
        CaseCommand::Decide(a) => {
            if a.who.as_user.is_none() {
                return Err(anyhow!("a decision is a person's: name the approver with --as USER"));
            }
            let ctx = ctx(env, app, &a.who).await?;
            let decision = Decision::parse(&a.decision).ok_or_else(|| anyhow!("expected approve or reject"))?;
            case_flow::decide(app, &ctx, a.id, decision, a.comment.as_deref()).await.map_err(&fail)?;
            print_json(&case_view::get(app, &ctx, a.id).await.map_err(fail)?)?;
        }
        CaseCommand::Access(a) => {
            let ctx = ctx(env, app, &a.who).await?;
            let queued = lizhi_app::access::request(app, &ctx, a.id, &a.intent).await.map_err(&fail)?;
            let rows = lizhi_app::access::matrix(app, &ctx, a.id).await.map_err(&fail)?;
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({"system": r.connector, "account_id": r.account_id, "intent": r.intent,
                        "status": r.status, "verdict": r.verdict})
                })
                .collect();
            print_json(&serde_json::json!({"queued": queued, "items": items}))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
