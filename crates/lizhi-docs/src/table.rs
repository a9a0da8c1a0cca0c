//! The parsed form of a tabular file, shared by the CSV and XLSX readers.

use crate::error::{TableError, column_letter};
use crate::format::FileFormat;

/// A parsed sheet: trimmed header names and the non-blank data rows.
///
/// Import code looks columns up by name ([`Table::column`]) so the columns of
/// a file may come in any order and extra columns are simply never asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Header names, trimmed, without a byte order mark and without trailing
    /// empty header cells. In a table from [`read_table`] there is at least
    /// one, and none is empty or repeated.
    pub headers: Vec<String>,
    /// Data rows in file order; blank rows are left out.
    pub rows: Vec<Record>,
}

impl Table {
    /// The index of the column with exactly this header name, for use with
    /// [`Record::get`]; `None` lets the caller report a missing column.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }
}

/// One data row of a [`Table`].
///
/// Validation errors must point at the row the user sees, so each record
/// keeps its own row number instead of relying on its index in
/// [`Table::rows`] (blank rows are skipped but still counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The 1-based row number shown by Excel (header row = 1 when it is the
    /// first row, first data row = 2). For a CSV this is the record number,
    /// which equals the line number unless an earlier quoted cell spans
    /// several lines.
    pub row: usize,
    /// Trimmed cell values, exactly one per header; cells missing at the end
    /// of a short row are `""`.
    pub cells: Vec<String>,
}

impl Record {
    /// The cell in column `idx`, or `""` when there is none, so optional
    /// columns can be read without bounds checks.
    #[must_use]
    pub fn get(&self, idx: usize) -> &str {
        self.cells.get(idx).map_or("", String::as_str)
    }
}

/// Reads a CSV or XLSX file into a [`Table`].
///
/// This is the single entry point for imports: it hides encodings,
/// delimiters and cell types so that both formats yield identical tables for
/// the same data. The first non-blank row is the header row.
///
/// # Errors
///
/// A [`TableError`] when the file cannot be decoded or parsed, when it has
/// no header row, when the header row is unusable (empty or duplicate
/// names), or when a row has a value in a column without a header.
pub fn read_table(bytes: &[u8], format: FileFormat) -> Result<Table, TableError> {
    match format {
        FileFormat::Csv => crate::csv_read::read_csv(bytes),
        FileFormat::Xlsx => crate::xlsx_read::read_xlsx(bytes),
    }
}

/// Turns raw rows (as found in the file) into a [`Table`]: finds and checks
/// the header row, drops blank rows and squares the data rows up to the
/// header width.
pub(crate) struct TableBuilder {
    /// Absolute index of the first column, for column letters in errors
    /// (an XLSX sheet's data need not start in column A).
    col_offset: usize,
    headers: Option<Vec<String>>,
    rows: Vec<Record>,
}

impl TableBuilder {
    pub(crate) fn new(col_offset: usize) -> Self {
        TableBuilder { col_offset, headers: None, rows: Vec::new() }
    }

    /// Adds one row whose cells are already trimmed.
    pub(crate) fn push(&mut self, row: usize, mut cells: Vec<String>) -> Result<(), TableError> {
        if cells.iter().all(String::is_empty) {
            return Ok(());
        }
        let Some(headers) = &self.headers else {
            self.headers = Some(self.make_headers(row, cells)?);
            return Ok(());
        };
        let width = headers.len();
        if cells.len() > width {
            if let Some(extra) = cells[width..].iter().position(|c| !c.is_empty()) {
                return Err(TableError::ValueWithoutHeader {
                    row,
                    column: column_letter(self.col_offset + width + extra),
                });
            }
            cells.truncate(width);
        }
        cells.resize_with(width, String::new);
        self.rows.push(Record { row, cells });
        Ok(())
    }

    fn make_headers(&self, row: usize, mut cells: Vec<String>) -> Result<Vec<String>, TableError> {
        for cell in &mut cells {
            if cell.starts_with('\u{feff}') {
                *cell = cell.trim_start_matches('\u{feff}').trim().to_owned();
            }
        }
        let used = cells.iter().rposition(|c| !c.is_empty()).map_or(0, |last| last + 1);
        cells.truncate(used);
        for (i, name) in cells.iter().enumerate() {
            if name.is_empty() {
                return Err(TableError::EmptyHeader { row, column: column_letter(self.col_offset + i) });
            }
            if let Some(first) = cells[..i].iter().position(|earlier| earlier == name) {
                return Err(TableError::DuplicateHeader {
                    row,
                    column: column_letter(self.col_offset + i),
                    first_column: column_letter(self.col_offset + first),
                    name: name.clone(),
                });
            }
        }
        Ok(cells)
    }

    /// The finished table; [`TableError::EmptyFile`] if no row had content.
    pub(crate) fn finish(self) -> Result<Table, TableError> {
        let headers = self.headers.ok_or(TableError::EmptyFile)?;
        Ok(Table { headers, rows: self.rows })
    }

    /// How many cells the header row has, to size the next row's vector.
    pub(crate) fn width_hint(&self) -> usize {
        self.headers.as_ref().map_or(8, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn builder_uses_column_offset_in_errors() {
        let mut b = TableBuilder::new(2);
        let err = b.push(4, cells(&["a", "", "b"])).unwrap_err();
        assert_eq!(err, TableError::EmptyHeader { row: 4, column: "D".into() });
    }

    #[test]
    fn builder_strips_bom_from_headers_and_pads_rows() {
        let mut b = TableBuilder::new(0);
        b.push(1, cells(&["\u{feff}id", "name", "", ""])).unwrap();
        b.push(2, cells(&["1"])).unwrap();
        b.push(3, cells(&["2", "x", "", ""])).unwrap();
        let t = b.finish().unwrap();
        assert_eq!(t.headers, ["id", "name"]);
        assert_eq!(t.rows[0].cells, ["1", ""]);
        assert_eq!(t.rows[1].cells, ["2", "x"]);
        assert_eq!(t.rows[1].get(5), "");
    }
}
