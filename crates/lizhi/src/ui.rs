//! What the operator sees: the CLI's language, translated errors, aligned tables.

use lizhi_app::AppError;
use lizhi_app::i18n::{Locale, error_message, t_args};
use lizhi_app::import::{ImportReport, RowError};

/// The language of messages: `LIZHI_LANG`, else the POSIX locale (`LC_ALL`, `LC_MESSAGES`,
/// `LANG`); any `zh…` is Chinese, anything else English.
pub fn locale() -> Locale {
    locale_from(|name| std::env::var(name).ok())
}

/// [`locale`] over any variable lookup, so it can be tested without touching the environment.
pub fn locale_from(get: impl Fn(&str) -> Option<String>) -> Locale {
    for name in ["LIZHI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Some(value) = get(name).filter(|v| !v.trim().is_empty()) {
            return if value.trim().to_ascii_lowercase().starts_with("zh") { Locale::ZhCn } else { Locale::En };
        }
    }
    Locale::En
}

/// Picks the English or Chinese text of a CLI-only message (the shared Fluent files hold the
/// messages the web and the CLI have in common; these few belong to the terminal alone).
pub fn tr(locale: Locale, en: impl Into<String>, zh: impl Into<String>) -> String {
    match locale {
        Locale::En => en.into(),
        Locale::ZhCn => zh.into(),
    }
}

/// One line of an import error report: `row N, column C: message (“value”)`.
pub fn row_error_line(locale: Locale, e: &RowError) -> String {
    let message = error_message(locale, &e.code, None, None);
    let value = e.value.as_deref().map(|v| format!(" (“{v}”)")).unwrap_or_default();
    let place = match (e.row, e.column.as_deref()) {
        (Some(row), Some(col)) => tr(locale, format!("row {row}, column {col}"), format!("第 {row} 行，列 {col}")),
        (Some(row), None) => t_args(locale, "error-row", &[("row", &row.to_string())]).to_lowercase(),
        (None, Some(col)) => tr(locale, format!("column {col}"), format!("列 {col}")),
        (None, None) => tr(locale, "file", "文件"),
    };
    let sep = tr(locale, ": ", "：");
    format!("{place}{sep}{message}{value}")
}

/// Every line of an import error report, with a tail when more errors exist than were listed.
pub fn report_error_lines(locale: Locale, report: &ImportReport) -> Vec<String> {
    let mut lines: Vec<String> = report.errors.iter().map(|e| row_error_line(locale, e)).collect();
    let more = report.error_count.saturating_sub(report.errors.len());
    if more > 0 {
        lines.push(tr(locale, format!("… and {more} more problems"), format!("……另有 {more} 个问题")));
    }
    lines
}

/// A use-case error as one sentence in the operator's language, keeping driver details.
pub fn describe(locale: Locale, err: &AppError) -> String {
    match err {
        AppError::Invalid { field, code } => {
            format!("{} ({field})", error_message(locale, code, None, None))
        }
        AppError::Rejected(problems) => {
            let lines: Vec<String> = problems.iter().map(|p| row_error_line(locale, p)).collect();
            lines.join("; ")
        }
        AppError::Store(e) => format!("{} ({e})", error_message(locale, e.code(), None, None)),
        AppError::Conflict(what) => {
            format!("{} ({what})", error_message(locale, "conflict", None, None))
        }
        AppError::Table(t) => format!("{} ({t})", error_message(locale, t.code(), None, None)),
        other => format!("{} ({other})", error_message(locale, other.code(), None, None)),
    }
}

/// Wraps a use-case error into an `anyhow` error with the translated sentence.
pub fn app_error(locale: Locale) -> impl Fn(AppError) -> anyhow::Error {
    move |e| anyhow::anyhow!(describe(locale, &e))
}

/// Columns a terminal needs for `s` (CJK characters take two).
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let wide = matches!(c,
                '\u{1100}'..='\u{115F}' | '\u{2E80}'..='\u{A4CF}' | '\u{AC00}'..='\u{D7A3}' |
                '\u{F900}'..='\u{FAFF}' | '\u{FE30}'..='\u{FE4F}' | '\u{FF00}'..='\u{FF60}' |
                '\u{FFE0}'..='\u{FFE6}' | '\u{20000}'..='\u{3FFFD}');
            if wide { 2 } else { 1 }
        })
        .sum()
}

/// Renders rows under a header as left-aligned columns separated by two spaces.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| display_width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(display_width(cell));
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(widths[i].saturating_sub(display_width(cell)) + 2));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = line(header.to_vec());
    out.push('\n');
    out.push_str(&line(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().iter().map(String::as_str).collect()));
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// The operating-system user running the command, for the audit trail (`cli:<user>`).
pub fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_prefers_lizhi_lang_then_posix_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(locale_from(env(&[("LANG", "zh_CN.UTF-8")])), Locale::ZhCn);
        assert_eq!(locale_from(env(&[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "C")])), Locale::En);
        assert_eq!(locale_from(env(&[("LANG", "en_GB"), ("LIZHI_LANG", "zh-CN")])), Locale::ZhCn);
        assert_eq!(locale_from(env(&[])), Locale::En);
    }

    #[test]
    fn error_lines_name_row_and_column() {
        let e = RowError {
            row: Some(7),
            column: Some("hire_date".into()),
            code: "invalid_date".into(),
            value: Some("2024/13/01".into()),
        };
        let en = row_error_line(Locale::En, &e);
        assert!(en.starts_with("row 7, column hire_date: ") && en.contains("2024/13/01"), "{en}");
        let zh = row_error_line(Locale::ZhCn, &e);
        assert!(zh.starts_with("第 7 行，列 hire_date：") && zh.contains("日期"), "{zh}");
    }

    #[test]
    fn tables_align_wide_characters() {
        let t = table(&["name", "x"], &[vec!["王喆".into(), "1".into()], vec!["ab".into(), "2".into()]]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[2].find('1').map(|i| display_width(&lines[2][..i])), Some(6));
        assert_eq!(lines[3].find('2'), Some(6));
    }
}
