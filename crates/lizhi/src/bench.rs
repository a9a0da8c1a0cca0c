//! `lizhi bench` (work in progress).

use crate::cli::BenchArgs;
use crate::commands::Env;
use std::process::ExitCode;

/// Runs the benchmark.
pub async fn run(_env: &Env, _args: BenchArgs) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
