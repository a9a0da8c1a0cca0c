//! `lizhi import` and `lizhi export`: the same all-or-nothing import and the same export layout
//! the web UI uses, for scripts and for files too large to upload comfortably.

use super::Env;
use crate::cli::{ExportArgs, ImportArgs};
use crate::progress::Bar;
use crate::ui::{self, tr};
use anyhow::{Context, Result, bail};
use lizhi_app::i18n::Locale;
use lizhi_app::import::{ImportKind, ImportReport};
use lizhi_docs::FileFormat;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

/// Checks a file and applies it unless `--dry-run`; exit code 1 when the file has problems.
pub async fn import(env: &Env, args: ImportArgs) -> Result<ExitCode> {
    let locale = env.locale;
    let kind = ImportKind::from(args.kind);
    let from_stdin = args.file.as_os_str() == "-";
    let bytes = if from_stdin {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("cannot read the file from standard input")?;
        buf
    } else {
        std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?
    };
    // The name decides CSV or XLSX; standard input has none, so the content is sniffed.
    let file_name = if from_stdin { String::new() } else { args.file.display().to_string() };
    let app = env.open().await?;
    let bar = Bar::for_stderr();
    let outcome = lizhi_app::import::run(&app, &env.ctx(), kind, &file_name, &bytes, !args.dry_run, &bar).await;
    bar.finish();
    app.db.close().await;
    let report = outcome.map_err(ui::app_error(locale))?;
    let shown = if from_stdin { "stdin".to_owned() } else { args.file.display().to_string() };
    if report.is_clean() {
        println!("{}", summary(locale, &report, &shown));
        Ok(ExitCode::SUCCESS)
    } else {
        for line in ui::report_error_lines(locale, &report) {
            println!("{line}");
        }
        eprintln!(
            "{}",
            tr(
                locale,
                format!(
                    "{}: {} problem(s) found in {} rows; nothing was imported.",
                    shown, report.error_count, report.rows
                ),
                format!("{}：在 {} 行中发现 {} 个问题；未导入任何数据。", shown, report.rows, report.error_count),
            )
        );
        Ok(ExitCode::FAILURE)
    }
}

/// The one-line result of a clean import or dry run.
fn summary(locale: Locale, r: &ImportReport, file: &str) -> String {
    let kind = r.kind.name();
    match (r.applied, locale) {
        (true, Locale::ZhCn) => format!(
            "已从 {file} 导入 {kind}：{} 行 —— 新建 {}，更新 {}，未变 {}。",
            r.rows, r.created, r.updated, r.unchanged
        ),
        (true, _) => format!(
            "Imported {kind} from {file}: {} rows — {} created, {} updated, {} unchanged.",
            r.rows, r.created, r.updated, r.unchanged
        ),
        (false, Locale::ZhCn) => format!(
            "已检查 {file}（试运行，未写入）：{} 行 —— 将新建 {}，将更新 {}，未变 {}。",
            r.rows, r.created, r.updated, r.unchanged
        ),
        (false, _) => format!(
            "Checked {kind} in {file} (dry run, nothing written): {} rows — {} would be created, {} would be updated, {} unchanged.",
            r.rows, r.created, r.updated, r.unchanged
        ),
    }
}

/// Writes an export to a file or standard output.
pub async fn export(env: &Env, args: ExportArgs) -> Result<ExitCode> {
    let locale = env.locale;
    let kind = ImportKind::from(args.kind);
    let format = match (args.format, &args.output) {
        (Some(f), _) => FileFormat::from(f),
        (None, Some(path)) => FileFormat::from_file_name(&path.display().to_string()).unwrap_or(FileFormat::Csv),
        (None, None) => FileFormat::Csv,
    };
    if args.output.is_none() && format == FileFormat::Xlsx && std::io::stdout().is_terminal() {
        bail!("refusing to write an XLSX workbook to the terminal: add -o FILE.xlsx or redirect the output");
    }
    let app = env.open().await?;
    let bytes = lizhi_app::export::export(&app, &env.ctx(), kind, format).await;
    app.db.close().await;
    let bytes = bytes.map_err(ui::app_error(locale))?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "{}",
                tr(
                    locale,
                    format!("Wrote {} ({} bytes).", path.display(), bytes.len()),
                    format!("已写入 {}（{} 字节）。", path.display(), bytes.len())
                )
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes).and_then(|()| out.flush()).context("cannot write to standard output")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
