//! File format detection.

/// Which container a tabular file is in.
///
/// Imports and exports support exactly these two because they are what HR
/// staff can produce and open without extra software; everything else in this
/// crate dispatches on this enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// Delimited text (comma, tab or semicolon), in UTF-8, GB18030/GBK or
    /// UTF-16 with a byte order mark.
    Csv,
    /// An Office Open XML workbook; only the first worksheet is used.
    Xlsx,
}

impl FileFormat {
    /// The format named by a file name's extension (case-insensitive:
    /// `.csv`, `.xlsx`); `None` for anything else.
    ///
    /// Uploads through the browser carry a file name, which is a more
    /// reliable statement of intent than the content (a CSV can start with
    /// any bytes), so callers should prefer this and fall back to
    /// [`FileFormat::sniff`] when there is no usable name.
    #[must_use]
    pub fn from_file_name(name: &str) -> Option<FileFormat> {
        let (_, ext) = name.rsplit_once('.')?;
        if ext.eq_ignore_ascii_case("csv") {
            Some(FileFormat::Csv)
        } else if ext.eq_ignore_ascii_case("xlsx") {
            Some(FileFormat::Xlsx)
        } else {
            None
        }
    }

    /// The format guessed from the content: XLSX is a ZIP container (it
    /// starts with `PK\x03\x04`); anything else is treated as CSV.
    ///
    /// Used when a file arrives without a name (a raw request body, a pipe
    /// on the command line). Text has no reliable signature, so CSV is the
    /// fallback and decoding problems surface later as
    /// [`TableError`](crate::TableError)s rather than here.
    #[must_use]
    pub fn sniff(bytes: &[u8]) -> FileFormat {
        if bytes.starts_with(b"PK\x03\x04") { FileFormat::Xlsx } else { FileFormat::Csv }
    }

    /// The file name extension without the dot (`"csv"` / `"xlsx"`), so
    /// exports can name their downloads consistently.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }

    /// The MIME type to send with a download in this format.
    ///
    /// The CSV type declares UTF-8 because [`write_csv`](crate::write_csv)
    /// always writes UTF-8.
    #[must_use]
    pub fn content_type(self) -> &'static str {
        match self {
            FileFormat::Csv => "text/csv; charset=utf-8",
            FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_file_name_needs_a_dot() {
        assert_eq!(FileFormat::from_file_name("csv"), None);
        assert_eq!(FileFormat::from_file_name("a.tar.csv"), Some(FileFormat::Csv));
        assert_eq!(FileFormat::from_file_name("report.xlsx.bak"), None);
    }
}
