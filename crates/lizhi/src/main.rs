//! `lizhi`: the one binary an installation needs — the web server plus the operator's tools
//! (demo, migrations, imports, exports, users, backups, configuration check, benchmark).
//!
//! Every command goes through `lizhi-app` use cases; this crate only parses arguments, loads the
//! configuration, draws progress and prints results.

mod bench;
mod bench_evidence;
mod bench_risk;
mod cli;
mod commands;
mod config;
mod logging;
mod progress;
mod ui;

use clap::Parser;
use cli::{Cli, Command, ServeArgs};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    lizhi_app::install_tls_provider();
    let locale = ui::locale();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, locale)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}: {e:#}", ui::tr(locale, "error", "错误"));
            ExitCode::FAILURE
        }
    }
}

/// Loads the configuration, starts logging and runs the chosen command.
async fn run(cli: Cli, locale: lizhi_app::i18n::Locale) -> anyhow::Result<ExitCode> {
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    let overrides = config::Overrides {
        database_url: cli.database_url,
        bind: match &command {
            Command::Serve(a) => a.bind.clone(),
            Command::Demo(a) => a.bind.clone(),
            _ => None,
        },
        public_url: match &command {
            Command::Serve(a) => a.public_url.clone(),
            _ => None,
        },
    };
    let loaded = config::load(cli.config.as_deref(), &overrides)?;
    let long_running = matches!(command, Command::Serve(_) | Command::Demo(_));
    // One-shot commands stay quiet unless asked: their result is printed, not logged.
    let filter = if long_running || loaded.source("log") != config::Source::Default {
        loaded.config.log.as_str()
    } else {
        "warn"
    };
    logging::init(filter);
    let env = commands::Env { loaded, locale };
    match command {
        Command::Serve(args) => commands::serve::run(&env, args).await,
        Command::Demo(args) => commands::demo::run(&env, args).await,
        Command::Migrate => commands::migrate::run(&env).await,
        Command::Import(args) => commands::data::import(&env, args).await,
        Command::Export(args) => commands::data::export(&env, args).await,
        Command::User(cmd) => commands::user::run(&env, cmd).await,
        Command::Backup(args) => commands::backup::run(&env, args).await,
        Command::CheckConfig => commands::check::run(&env).await,
        Command::Risk(cmd) => commands::risk::run(&env, cmd).await,
        Command::Case(cmd) => commands::case::run(&env, cmd).await,
        Command::Audit(cmd) => commands::audit::run(&env, cmd).await,
        Command::Evidence(cmd) => commands::evidence::run(&env, cmd).await,
        Command::Connectors(cmd) => commands::connectors::run(&env, cmd).await,
        Command::Bench(args) => bench::run(&env, args).await,
    }
}
