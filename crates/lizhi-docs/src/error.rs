//! The error type shared by reading and writing.

/// Why a file could not be read or written.
///
/// Imports are all-or-nothing and the user has to fix the file, so every
/// variant says where the problem is (row and column, where one applies) and
/// has a stable [`code`](TableError::code) the application translates; the
/// `Display` text is an English message for logs and developers only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// There is no header row: the file is empty or has only blank rows.
    #[error("the file has no header row (it is empty or contains only blank rows)")]
    EmptyFile,

    /// The bytes are not text in any encoding we accept.
    #[error("the file is not readable text: {detail}")]
    BadEncoding {
        /// What was wrong (English).
        detail: &'static str,
    },

    /// The CSV's quoting is broken (an unclosed quote, or text after a
    /// closing quote).
    #[error("malformed CSV in row {row}: {detail}")]
    MalformedCsv {
        /// Row (1-based, header = 1) where the offending record starts.
        row: usize,
        /// What was wrong (English).
        detail: &'static str,
    },

    /// The XLSX workbook cannot be opened (corrupt or truncated ZIP, not a
    /// workbook at all) or a cell holds an Excel error value such as `#N/A`.
    #[error("malformed XLSX: {detail}")]
    MalformedXlsx {
        /// Row of the offending cell, if the problem is in one cell.
        row: Option<usize>,
        /// Column letter of the offending cell, if the problem is in one cell.
        column: Option<String>,
        /// What was wrong (English).
        detail: String,
    },

    /// The workbook has no worksheet to read.
    #[error("the workbook contains no worksheet")]
    NoSheet,

    /// Two header cells have the same name, so a column name would be
    /// ambiguous.
    #[error("header {name:?} in row {row}, column {column} repeats column {first_column}")]
    DuplicateHeader {
        /// Row of the header.
        row: usize,
        /// Column letter of the repeated name.
        column: String,
        /// Column letter where the name first appears.
        first_column: String,
        /// The repeated header name.
        name: String,
    },

    /// A header cell is empty although a later header cell is not.
    #[error("empty header cell in row {row}, column {column}")]
    EmptyHeader {
        /// Row of the header.
        row: usize,
        /// Column letter of the empty header cell.
        column: String,
    },

    /// A data row has a value to the right of the last named column.
    #[error("row {row}, column {column} has a value but the column has no header")]
    ValueWithoutHeader {
        /// Row of the value.
        row: usize,
        /// Column letter of the value.
        column: String,
    },

    /// Producing an export failed (for example an invalid sheet name or more
    /// rows than a worksheet holds).
    #[error("could not write the file: {detail}")]
    WriteFailed {
        /// What was wrong (English).
        detail: String,
    },
}

impl TableError {
    /// Every code [`code`](TableError::code) can return, so the application
    /// can check that each one has a translation.
    pub const CODES: &'static [&'static str] = &[
        "empty_file",
        "bad_encoding",
        "malformed_csv",
        "malformed_xlsx",
        "no_sheet",
        "duplicate_header",
        "empty_header",
        "value_without_header",
        "write_failed",
    ];

    /// A stable snake_case identifier for the kind of error.
    ///
    /// The application translates error messages and API clients branch on
    /// errors by this code, so a code never changes once released.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            TableError::EmptyFile => "empty_file",
            TableError::BadEncoding { .. } => "bad_encoding",
            TableError::MalformedCsv { .. } => "malformed_csv",
            TableError::MalformedXlsx { .. } => "malformed_xlsx",
            TableError::NoSheet => "no_sheet",
            TableError::DuplicateHeader { .. } => "duplicate_header",
            TableError::EmptyHeader { .. } => "empty_header",
            TableError::ValueWithoutHeader { .. } => "value_without_header",
            TableError::WriteFailed { .. } => "write_failed",
        }
    }

    /// The 1-based row (header row = 1) the problem is in, if it is in one
    /// row, so an import report can point the user at it.
    #[must_use]
    pub fn row(&self) -> Option<usize> {
        match self {
            TableError::MalformedCsv { row, .. }
            | TableError::DuplicateHeader { row, .. }
            | TableError::EmptyHeader { row, .. }
            | TableError::ValueWithoutHeader { row, .. } => Some(*row),
            TableError::MalformedXlsx { row, .. } => *row,
            TableError::EmptyFile
            | TableError::BadEncoding { .. }
            | TableError::NoSheet
            | TableError::WriteFailed { .. } => None,
        }
    }

    /// The spreadsheet column letter (`A`, `B`, …, `AA`) the problem is in,
    /// if it is in one column, for the same reason as [`row`](TableError::row).
    /// Letters are used because the offending column may have no usable
    /// header name.
    #[must_use]
    pub fn column(&self) -> Option<&str> {
        match self {
            TableError::DuplicateHeader { column, .. }
            | TableError::EmptyHeader { column, .. }
            | TableError::ValueWithoutHeader { column, .. } => Some(column),
            TableError::MalformedXlsx { column, .. } => column.as_deref(),
            TableError::EmptyFile
            | TableError::BadEncoding { .. }
            | TableError::MalformedCsv { .. }
            | TableError::NoSheet
            | TableError::WriteFailed { .. } => None,
        }
    }
}

/// The spreadsheet letter of a 0-based column index (0 → `A`, 26 → `AA`).
pub(crate) fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        // `rem` < 26, so the cast cannot truncate.
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    letters.into_iter().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(51), "AZ");
        assert_eq!(column_letter(52), "BA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
        assert_eq!(column_letter(16383), "XFD");
    }

    #[test]
    fn codes_are_unique_snake_case_and_listed() {
        let samples = [
            TableError::EmptyFile,
            TableError::BadEncoding { detail: "x" },
            TableError::MalformedCsv { row: 1, detail: "x" },
            TableError::MalformedXlsx { row: None, column: None, detail: "x".into() },
            TableError::NoSheet,
            TableError::DuplicateHeader { row: 1, column: "B".into(), first_column: "A".into(), name: "x".into() },
            TableError::EmptyHeader { row: 1, column: "A".into() },
            TableError::ValueWithoutHeader { row: 2, column: "C".into() },
            TableError::WriteFailed { detail: "x".into() },
        ];
        let codes: Vec<&str> = samples.iter().map(TableError::code).collect();
        assert_eq!(codes, TableError::CODES);
        for code in codes {
            assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{code}");
        }
    }
}
