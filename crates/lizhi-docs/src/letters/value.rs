//! Field values and the validated [`Letter`].

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::error::LetterError;
use super::kinds::{FieldSpec, FieldType, Lang, LetterKind};

/// The value of one field of a letter.
///
/// Values are typed (dates are dates, not preformatted text) so that every
/// document writes them the same way in its own language and so a template
/// can make a list into a bulleted list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// Free text; newlines become line breaks.
    Text(String),
    /// A calendar date.
    Date(NaiveDate),
    /// A whole number.
    Number(u64),
    /// A list of texts.
    List(Vec<String>),
    /// A list of dates.
    DateList(Vec<NaiveDate>),
    /// Table rows, each with one cell per column of the field.
    Table(Vec<Vec<String>>),
}

impl FieldValue {
    /// A short English name of the value's type for error messages.
    fn type_name(&self) -> &'static str {
        match self {
            FieldValue::Text(_) => "text",
            FieldValue::Date(_) => "date",
            FieldValue::Number(_) => "number",
            FieldValue::List(_) => "list",
            FieldValue::DateList(_) => "date list",
            FieldValue::Table(_) => "table",
        }
    }

    /// Whether the value carries nothing (blank text, empty list or table):
    /// such a value counts as absent, both for required fields and for
    /// `{{#if}}`.
    fn is_empty(&self) -> bool {
        match self {
            FieldValue::Text(t) => t.trim().is_empty(),
            FieldValue::Date(_) | FieldValue::Number(_) => false,
            FieldValue::List(items) => items.iter().all(|i| i.trim().is_empty()),
            FieldValue::DateList(dates) => dates.is_empty(),
            FieldValue::Table(rows) => rows.is_empty(),
        }
    }
}

/// Writes a date the way a formal letter in `lang` does: `2026年3月5日` or
/// `5 March 2026`.
///
/// Public so the caller can format dates that go into text or table cells
/// (for example the receipt date of a served notice) exactly like the dates
/// the letter formats itself.
#[must_use]
pub fn format_date(date: NaiveDate, lang: Lang) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    match lang {
        Lang::ZhCn => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
        Lang::En => format!("{} {} {}", date.day(), MONTHS[date.month0() as usize], date.year()),
    }
}

/// A letter ready to render: its kind, language and field values, checked
/// against the kind's field list.
///
/// Construction is the only place values are validated, so a `Letter` that
/// exists always has every required fact with the right type, and the
/// renderers never have to guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    kind: LetterKind,
    lang: Lang,
    fields: BTreeMap<&'static str, FieldValue>,
}

impl Letter {
    /// Checks the fields against `kind` and builds the letter.
    ///
    /// Fails on a field the kind does not have, a field given twice, a value
    /// of the wrong type, a table row with the wrong number of cells, or a
    /// required field that is absent or empty. Optional fields given empty
    /// are treated as absent.
    pub fn new<N: AsRef<str>>(
        kind: LetterKind,
        lang: Lang,
        fields: impl IntoIterator<Item = (N, FieldValue)>,
    ) -> Result<Letter, LetterError> {
        let mut checked = BTreeMap::new();
        for (name, value) in fields {
            let name = name.as_ref();
            let spec = kind
                .field(name)
                .ok_or_else(|| LetterError::UnknownField { kind: kind.code(), field: name.to_owned() })?;
            if checked.contains_key(spec.name) {
                return Err(LetterError::DuplicateField { field: name.to_owned() });
            }
            check_type(spec, &value)?;
            // Empty values stay until every field is seen, so that giving a
            // field twice is caught even when the first one was empty.
            checked.insert(spec.name, value);
        }
        checked.retain(|_, v| !v.is_empty());
        if let Some(missing) = kind.fields().iter().find(|f| f.required && !checked.contains_key(f.name)) {
            return Err(LetterError::MissingField { field: missing.name });
        }
        Ok(Letter { kind, lang, fields: checked })
    }

    /// Starts a builder, the convenient way to set typed fields one by one.
    pub fn builder(kind: LetterKind, lang: Lang) -> LetterBuilder {
        LetterBuilder { kind, lang, fields: Vec::new() }
    }

    /// The document kind.
    #[must_use]
    pub fn kind(&self) -> LetterKind {
        self.kind
    }

    /// The language.
    #[must_use]
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The value of a field, `None` when absent (or given empty).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.fields.get(name)
    }
}

fn check_type(spec: &'static FieldSpec, value: &FieldValue) -> Result<(), LetterError> {
    let ok = match (spec.ty, value) {
        (FieldType::Text, FieldValue::Text(_))
        | (FieldType::Date, FieldValue::Date(_))
        | (FieldType::Number, FieldValue::Number(_))
        | (FieldType::List, FieldValue::List(_))
        | (FieldType::DateList, FieldValue::DateList(_)) => true,
        (FieldType::Table(columns), FieldValue::Table(rows)) => {
            for (i, row) in rows.iter().enumerate() {
                if row.len() != columns.len() {
                    return Err(LetterError::BadTableRow {
                        field: spec.name,
                        row: i + 1,
                        expected: columns.len(),
                        found: row.len(),
                    });
                }
            }
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(LetterError::WrongType { field: spec.name, expected: spec.ty.name(), found: value.type_name() })
    }
}

/// Collects typed fields for a [`Letter`]; [`build`](LetterBuilder::build)
/// validates them all at once.
#[derive(Debug, Clone)]
#[must_use]
pub struct LetterBuilder {
    kind: LetterKind,
    lang: Lang,
    fields: Vec<(String, FieldValue)>,
}

impl LetterBuilder {
    /// Sets a field to any value.
    pub fn value(mut self, name: impl Into<String>, value: FieldValue) -> Self {
        self.fields.push((name.into(), value));
        self
    }

    /// Sets a text field.
    pub fn text(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.value(name, FieldValue::Text(value.into()))
    }

    /// Sets a date field.
    pub fn date(self, name: impl Into<String>, value: NaiveDate) -> Self {
        self.value(name, FieldValue::Date(value))
    }

    /// Sets a number field.
    pub fn number(self, name: impl Into<String>, value: u64) -> Self {
        self.value(name, FieldValue::Number(value))
    }

    /// Sets a list field.
    pub fn list<S: Into<String>>(self, name: impl Into<String>, items: impl IntoIterator<Item = S>) -> Self {
        self.value(name, FieldValue::List(items.into_iter().map(Into::into).collect()))
    }

    /// Sets a date-list field.
    pub fn dates(self, name: impl Into<String>, dates: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.value(name, FieldValue::DateList(dates.into_iter().collect()))
    }

    /// Sets a table field; each row must have one cell per column.
    pub fn table<R, S>(self, name: impl Into<String>, rows: impl IntoIterator<Item = R>) -> Self
    where
        R: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let rows = rows.into_iter().map(|r| r.into_iter().map(Into::into).collect()).collect();
        self.value(name, FieldValue::Table(rows))
    }

    /// Validates every field (see [`Letter::new`]) and builds the letter.
    pub fn build(self) -> Result<Letter, LetterError> {
        Letter::new(self.kind, self.lang, self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn dates_are_written_per_language() {
        assert_eq!(format_date(d(2026, 3, 5), Lang::ZhCn), "2026年3月5日");
        assert_eq!(format_date(d(2026, 12, 31), Lang::En), "31 December 2026");
    }

    #[test]
    fn empty_optional_is_absent_and_duplicate_is_rejected() {
        let base = || {
            Letter::builder(LetterKind::WageSettlement, Lang::En)
                .text("company", "ACME")
                .text("employee_name", "A")
                .text("employee_no", "1")
                .date("period_start", d(2026, 3, 1))
                .date("period_end", d(2026, 3, 5))
                .table("lines", [["Wages", "100.00"]])
                .text("total", "100.00")
                .date("pay_date", d(2026, 3, 5))
                .date("issue_date", d(2026, 3, 5))
        };
        let letter = base().text("note", "  ").build().expect("valid");
        assert_eq!(letter.get("note"), None);
        let e = base().text("total", "1").build().expect_err("duplicate");
        assert_eq!(e.code(), "duplicate_field");
    }
}
