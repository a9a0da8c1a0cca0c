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
    fn errors_are_translated_without_isolation_marks() {
        let zh = error_message(Locale::ZhCn, "invalid_date", Some("hire_date"), Some("2024/01/05"));
        assert!(zh.contains("hire_date") && zh.contains("2024/01/05") && zh.contains("日期"), "{zh}");
        assert!(!zh.contains('\u{2068}'));
        let en = error_message(Locale::En, "unknown_manager", Some("manager_no"), Some("E9"));
        assert!(en.contains("manager") && en.contains("E9"), "{en}");
    }
}
