//! The error type of letter validation, template parsing and rendering.

use std::path::PathBuf;

/// Why a letter could not be built, a template could not be accepted, or a
/// document could not be rendered.
///
/// Letters are legal documents: a letter with a missing fact or a template
/// that silently drops a field must never be produced, so every problem is an
/// error rather than a best-effort output. Each variant has a stable
/// [`code`](LetterError::code) the application translates (the admin template
/// editor shows it next to the offending line); the `Display` text is English
/// for logs and developers only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LetterError {
    /// A field was given that the document kind does not have (usually a
    /// typo in the caller, which would otherwise be silently ignored).
    #[error("{kind} has no field {field:?}")]
    UnknownField {
        /// The document kind's code.
        kind: &'static str,
        /// The field name that was given.
        field: String,
    },

    /// A required field was not given, or was given empty.
    #[error("required field {field:?} is missing or empty")]
    MissingField {
        /// The field name.
        field: &'static str,
    },

    /// The same field was given twice.
    #[error("field {field:?} was given more than once")]
    DuplicateField {
        /// The field name.
        field: String,
    },

    /// A field was given a value of the wrong type (for example text where a
    /// date is expected).
    #[error("field {field:?} expects a {expected} value, got {found}")]
    WrongType {
        /// The field name.
        field: &'static str,
        /// The type the kind declares.
        expected: &'static str,
        /// The type that was given.
        found: &'static str,
    },

    /// A table row has a different number of cells than the table has
    /// columns.
    #[error("table {field:?}, row {row}: expected {expected} cells, got {found}")]
    BadTableRow {
        /// The field name.
        field: &'static str,
        /// 1-based row number within the table.
        row: usize,
        /// Number of columns the kind declares.
        expected: usize,
        /// Number of cells given.
        found: usize,
    },

    /// The template uses placeholders that the document kind does not have.
    #[error("unknown placeholders: {}", names.join(", "))]
    UnknownPlaceholder {
        /// Every unknown name, in order of first appearance.
        names: Vec<String>,
    },

    /// A required field never appears in the template, so the document would
    /// silently lack a fact (for example a certificate without its
    /// termination date).
    #[error("the template never shows required fields: {}", fields.join(", "))]
    MissingPlaceholder {
        /// Every required field that is missing.
        fields: Vec<&'static str>,
    },

    /// An `{{#if field}}` has no matching `{{/if}}`.
    #[error("line {line}: {{{{#if {field}}}}} is never closed with {{{{/if}}}}")]
    UnclosedIf {
        /// The condition's field name.
        field: String,
        /// 1-based template line of the `{{#if}}`.
        line: usize,
    },

    /// An `{{else}}` or `{{/if}}` without an open `{{#if}}`, or a second
    /// `{{else}}`.
    #[error("line {line}: {tag} without a matching {{{{#if}}}}")]
    UnexpectedTag {
        /// The tag as written.
        tag: String,
        /// 1-based template line.
        line: usize,
    },

    /// A `{{` without `}}` on the same line, or a placeholder that is not a
    /// field name.
    #[error("line {line}: malformed placeholder {text:?}")]
    MalformedPlaceholder {
        /// The offending text.
        text: String,
        /// 1-based template line.
        line: usize,
    },

    /// A table placeholder shares its line with other text; tables are
    /// blocks and must stand alone.
    #[error("line {line}: table {field:?} must be alone on its line")]
    TablePlacement {
        /// The table field.
        field: String,
        /// 1-based template line.
        line: usize,
    },

    /// No font that covers Chinese text (including the rarer name characters
    /// 喆 and 堃) was found, so a PDF would show empty boxes instead of names.
    #[error(
        "no font covering Chinese text (including 喆 and 堃) was found in {}; install a CJK font such as \
         the Debian package fonts-noto-cjk, or configure a font folder",
        display_paths(searched)
    )]
    NoCjkFont {
        /// The folders that were searched.
        searched: Vec<PathBuf>,
    },

    /// A configured font folder does not exist or cannot be read.
    #[error("font folder {} cannot be read: {detail}", path.display())]
    FontDir {
        /// The configured folder.
        path: PathBuf,
        /// The operating system's message.
        detail: String,
    },

    /// Some characters of the document have no glyph in any available font;
    /// printing would show empty boxes (typically in a name).
    #[error("no font has a glyph for: {chars}")]
    MissingGlyph {
        /// The characters without a glyph, each once.
        chars: String,
    },

    /// typst reported errors or warnings while typesetting (warnings count,
    /// because an unknown font family or similar silently degrades a legal
    /// document).
    #[error("typesetting failed: {}", messages.join("; "))]
    Typesetting {
        /// typst's messages.
        messages: Vec<String>,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no folder".to_owned();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

impl LetterError {
    /// Every code [`code`](LetterError::code) can return, so the application
    /// can check that each one has a translation.
    pub const CODES: &'static [&'static str] = &[
        "unknown_field",
        "missing_field",
        "duplicate_field",
        "wrong_type",
        "bad_table_row",
        "unknown_placeholder",
        "missing_placeholder",
        "unclosed_if",
        "unexpected_tag",
        "malformed_placeholder",
        "table_placement",
        "no_cjk_font",
        "font_dir",
        "missing_glyph",
        "typesetting",
    ];

    /// A stable snake_case identifier for the kind of error.
    ///
    /// The application translates messages and API clients branch on errors
    /// by this code, so a code never changes once released.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            LetterError::UnknownField { .. } => "unknown_field",
            LetterError::MissingField { .. } => "missing_field",
            LetterError::DuplicateField { .. } => "duplicate_field",
            LetterError::WrongType { .. } => "wrong_type",
            LetterError::BadTableRow { .. } => "bad_table_row",
            LetterError::UnknownPlaceholder { .. } => "unknown_placeholder",
            LetterError::MissingPlaceholder { .. } => "missing_placeholder",
            LetterError::UnclosedIf { .. } => "unclosed_if",
            LetterError::UnexpectedTag { .. } => "unexpected_tag",
            LetterError::MalformedPlaceholder { .. } => "malformed_placeholder",
            LetterError::TablePlacement { .. } => "table_placement",
            LetterError::NoCjkFont { .. } => "no_cjk_font",
            LetterError::FontDir { .. } => "font_dir",
            LetterError::MissingGlyph { .. } => "missing_glyph",
            LetterError::Typesetting { .. } => "typesetting",
        }
    }

    /// The 1-based template line the problem is on, if it is on one line, so
    /// the template editor can point the admin at it.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        match self {
            LetterError::UnclosedIf { line, .. }
            | LetterError::UnexpectedTag { line, .. }
            | LetterError::MalformedPlaceholder { line, .. }
            | LetterError::TablePlacement { line, .. } => Some(*line),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_listed() {
        let samples = [
            LetterError::UnknownField { kind: "k", field: "x".into() },
            LetterError::MissingField { field: "x" },
            LetterError::DuplicateField { field: "x".into() },
            LetterError::WrongType { field: "x", expected: "date", found: "text" },
            LetterError::BadTableRow { field: "x", row: 1, expected: 2, found: 1 },
            LetterError::UnknownPlaceholder { names: vec!["x".into()] },
            LetterError::MissingPlaceholder { fields: vec!["x"] },
            LetterError::UnclosedIf { field: "x".into(), line: 1 },
            LetterError::UnexpectedTag { tag: "{{/if}}".into(), line: 1 },
            LetterError::MalformedPlaceholder { text: "{{".into(), line: 1 },
            LetterError::TablePlacement { field: "x".into(), line: 1 },
            LetterError::NoCjkFont { searched: vec![] },
            LetterError::FontDir { path: PathBuf::from("/x"), detail: "gone".into() },
            LetterError::MissingGlyph { chars: "x".into() },
            LetterError::Typesetting { messages: vec![] },
        ];
        let codes: Vec<&str> = samples.iter().map(LetterError::code).collect();
        assert_eq!(codes, LetterError::CODES);
        for code in codes {
            assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{code}");
        }
    }

    #[test]
    fn no_cjk_font_message_names_folders_and_package() {
        let e = LetterError::NoCjkFont { searched: vec![PathBuf::from("/usr/share/fonts")] };
        let text = e.to_string();
        assert!(text.contains("/usr/share/fonts") && text.contains("fonts-noto-cjk"), "{text}");
    }
}
