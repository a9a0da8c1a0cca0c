//! Translations (Fluent), shared by the web pages, the API error messages and the CLI.
//!
//! Bidi isolation marks are switched off: they would otherwise end up inside attributes, file
//! names and PDFs.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;
use unic_langid::langid;

/// A language Lizhi speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Locale {
    /// Simplified Chinese.
    ZhCn,
    /// English.
    En,
}

impl Locale {
    /// Every supported locale.
    pub const ALL: [Locale; 2] = [Locale::ZhCn, Locale::En];

    /// BCP 47 tag (`zh-CN`, `en`), used in cookies, the database and `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    /// Parses a tag loosely: any `zh…` is Chinese, any `en…` English.
    pub fn parse(raw: &str) -> Option<Locale> {
        let lower = raw.trim().to_ascii_lowercase();
        if lower.starts_with("zh") {
            Some(Locale::ZhCn)
        } else if lower.starts_with("en") {
            Some(Locale::En)
        } else {
            None
        }
    }

    /// Picks the best locale from an `Accept-Language` header (by q-value), English otherwise.
    pub fn negotiate(accept_language: &str) -> Locale {
        let mut best: Option<(f32, Locale)> = None;
        for part in accept_language.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("");
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            if let Some(locale) = Locale::parse(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, locale));
            }
        }
        best.map_or(Locale::En, |(_, l)| l)
    }
}

const ZH_CN: &str = include_str!("../locales/zh-CN.ftl");
const EN: &str = include_str!("../locales/en.ftl");

fn bundle(locale: Locale) -> &'static FluentBundle<FluentResource> {
    static ZH: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    static EN_B: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    let (cell, source, id) = match locale {
        Locale::ZhCn => (&ZH, ZH_CN, langid!("zh-CN")),
        Locale::En => (&EN_B, EN, langid!("en")),
    };
    cell.get_or_init(|| {
        let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(res, _)| res);
        let mut b = FluentBundle::new_concurrent(vec![id]);
        b.set_use_isolating(false);
        // Our own files; a duplicate id would be caught by the key-parity test.
        let _ = b.add_resource(resource);
        b
    })
}

/// The message `key` in `locale`, with arguments; the key itself when missing (visible, not silent).
pub fn t_args(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    let b = bundle(locale);
    let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
        return key.to_owned();
    };
    let mut fargs = FluentArgs::new();
    for (name, value) in args {
        fargs.set(*name, FluentValue::from(*value));
    }
    let mut errors = Vec::new();
    b.format_pattern(pattern, Some(&fargs), &mut errors).into_owned()
}

/// The message `key` in `locale`.
pub fn t(locale: Locale, key: &str) -> String {
    t_args(locale, key, &[])
}

/// Whether a message exists (used for optional per-code texts).
pub fn has(locale: Locale, key: &str) -> bool {
    bundle(locale).has_message(key)
}

/// Every message id in a locale's file, for the parity test.
pub fn keys(locale: Locale) -> Vec<String> {
    let source = match locale {
        Locale::ZhCn => ZH_CN,
        Locale::En => EN,
    };
    let mut keys: Vec<String> = source
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && l.contains(" ="))
        .filter_map(|l| l.split(" =").next().map(|k| k.trim().to_owned()))
        .collect();
    keys.sort();
    keys
}

/// A translated error message for a stable error code, with the column and value when known.
pub fn error_message(locale: Locale, code: &str, column: Option<&str>, value: Option<&str>) -> String {
    let key = format!("error-{code}");
    let base = if has(locale, &key) { t(locale, &key) } else { t_args(locale, "error-unknown", &[("code", code)]) };
    match (column, value) {
        (Some(c), Some(v)) => {
            t_args(locale, "error-with-column-value", &[("message", &base), ("column", c), ("value", v)])
        }
        (Some(c), None) => t_args(locale, "error-with-column", &[("message", &base), ("column", c)]),
        _ => base,
    }
}

/// A rule's fact as a sentence in the user's language (the core keeps facts structured).
pub fn describe_fact(locale: Locale, fact: &lizhi_core::absence::Fact) -> String {
    use lizhi_core::absence::{Excuse, Fact};
    use lizhi_core::calendar::NotScheduledReason;
    let d = |date: &chrono::NaiveDate| date.format("%Y-%m-%d").to_string();
    match fact {
        Fact::AccountedForOn { date, by } => {
            let by = match by {
                Excuse::Punch => t(locale, "fact-by-punch"),
                Excuse::ApprovedLeave { kind } => t_args(locale, "fact-by-leave", &[("kind", kind)]),
            };
            t_args(locale, "fact-accounted_for_on", &[("date", &d(date)), ("by", &by)])
        }
        Fact::NoEarlierScheduledDay { hire_date } => {
            t_args(locale, "fact-no_earlier_scheduled_day", &[("hire_date", &d(hire_date))])
        }
        Fact::MissingOn { date } => t_args(locale, "fact-missing_on", &[("date", &d(date))]),
        Fact::MakeUpWorkday { date, name } => {
            t_args(locale, "fact-make_up_workday", &[("date", &d(date)), ("name", name)])
        }
        Fact::PendingLeaveOn { date, kind } => {
            t_args(locale, "fact-pending_leave_on", &[("date", &d(date)), ("kind", kind)])
        }
        Fact::RejectedLeaveOn { date, kind } => {
            t_args(locale, "fact-rejected_leave_on", &[("date", &d(date)), ("kind", kind)])
        }
        Fact::NotScheduled { date, reason } => {
            let why = match reason {
                NotScheduledReason::Holiday { name } => t_args(locale, "reason-holiday", &[("name", name)]),
                other => t(locale, &format!("reason-{}", other.code())),
            };
            t_args(locale, "fact-not_scheduled", &[("date", &d(date)), ("reason", &why)])
        }
        Fact::PunchOnUnscheduledDay { date } => t_args(locale, "fact-punch_on_unscheduled_day", &[("date", &d(date))]),
        Fact::CumulativeAbsence { threshold, window_days, dates } => {
            let dates: Vec<String> = dates.iter().map(d).collect();
            t_args(
                locale,
                "fact-cumulative_absence",
                &[
                    ("count", &dates.len().to_string()),
                    ("threshold", &threshold.to_string()),
                    ("window_days", &window_days.to_string()),
                    ("dates", &dates.join(", ")),
                ],
            )
        }
        Fact::ActivityDrop { recent_avg, baseline_avg, ratio, recent_days, baseline_days } => t_args(
            locale,
            "fact-activity_drop",
            &[
                ("recent_avg", &format!("{recent_avg:.1}")),
                ("baseline_avg", &format!("{baseline_avg:.1}")),
                ("percent", &format!("{:.0}", ratio * 100.0)),
                ("recent_days", &recent_days.to_string()),
                ("baseline_days", &baseline_days.to_string()),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locales_have_the_same_keys() {
        let zh = keys(Locale::ZhCn);
        let en = keys(Locale::En);
        let only_zh: Vec<_> = zh.iter().filter(|k| !en.contains(k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !zh.contains(k)).collect();
        assert!(only_zh.is_empty() && only_en.is_empty(), "zh only: {only_zh:?}, en only: {only_en:?}");
        assert!(zh.len() > 50);
    }

    #[test]
    fn every_message_parses_and_formats() {
        for locale in Locale::ALL {
            let source = if locale == Locale::En { EN } else { ZH_CN };
            if let Err((_, errs)) = FluentResource::try_new(source.to_owned()) {
                panic!("{locale:?}: {errs:?}");
            }
            for key in keys(locale) {
                assert_ne!(t(locale, &key), key, "{locale:?} {key}");
            }
        }
    }

    #[test]
    fn negotiation_follows_q_values() {
        assert_eq!(Locale::negotiate("zh-CN,zh;q=0.9,en;q=0.8"), Locale::ZhCn);
        assert_eq!(Locale::negotiate("en-GB,en;q=0.9,zh-CN;q=0.5"), Locale::En);
        assert_eq!(Locale::negotiate("fr-FR, zh;q=0.7, en;q=0.3"), Locale::ZhCn);
        assert_eq!(Locale::negotiate(""), Locale::En);
    }

    #[test]
    fn facts_read_as_sentences_in_both_languages() {
        use lizhi_core::absence::Fact;
        let date = chrono::NaiveDate::from_ymd_opt(2026, 10, 10).expect("date");
        let fact = Fact::MakeUpWorkday { date, name: "国庆调休".into() };
        assert_eq!(describe_fact(Locale::ZhCn, &fact), "2026-10-10 为调休上班日（国庆调休）。");
        assert_eq!(describe_fact(Locale::En, &fact), "2026-10-10 is a make-up workday (国庆调休).");
    }

    #[test]
    fn errors_are_translated_without_isolation_marks() {
        let zh = error_message(Locale::ZhCn, "invalid_date", Some("hire_date"), Some("2024/01/05"));
        assert!(zh.contains("hire_date") && zh.contains("2024/01/05") && zh.contains("日期"), "{zh}");
        assert!(!zh.contains('\u{2068}'));
        let en = error_message(Locale::En, "unknown_manager", Some("manager_no"), Some("E9"));
        assert!(en.contains("manager") && en.contains("E9"), "{en}");
    }
}
