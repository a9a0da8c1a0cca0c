//! CSV and XLSX export.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::error::TableError;

/// Writes a CSV export: UTF-8 with a byte order mark, CRLF line ends and
/// RFC 4180 quoting.
///
/// The BOM makes Excel (especially on Chinese Windows, where it would
/// otherwise assume GBK) show non-ASCII names correctly; CRLF and RFC 4180
/// are what Excel and most tools expect. Cells containing a comma, quote,
/// semicolon, tab or line break are quoted, so the file also opens correctly
/// where Excel splits on semicolons.
///
/// A cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a
/// leading `'` so a spreadsheet shows it as text instead of evaluating it
/// (CSV formula injection: employee-entered text must never run as a
/// formula on an administrator's machine). A side effect is that negative
/// numbers are exported as `'-5`.
///
/// Rows shorter than `headers` are written as they are.
#[must_use]
pub fn write_csv(headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let estimate: usize = rows.iter().flatten().map(|c| c.len() + 1).sum::<usize>() + rows.len() * 2;
    let mut out = Vec::with_capacity(3 + 64 + estimate);
    out.extend_from_slice(b"\xEF\xBB\xBF");
    write_line(&mut out, headers.iter().copied());
    for row in rows {
        write_line(&mut out, row.iter().map(String::as_str));
    }
    out
}

fn write_line<'a>(out: &mut Vec<u8>, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_cell(out, cell);
    }
    out.extend_from_slice(b"\r\n");
}

fn write_cell(out: &mut Vec<u8>, cell: &str) {
    let guard = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = cell.bytes().any(|b| matches!(b, b'"' | b',' | b';' | b'\t' | b'\r' | b'\n'));
    if quote {
        out.push(b'"');
    }
    if guard {
        out.push(b'\'');
    }
    if quote {
        for part in cell.split_inclusive('"') {
            out.extend_from_slice(part.as_bytes());
            if part.ends_with('"') {
                out.push(b'"');
            }
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(cell.as_bytes());
    }
}

/// Writes an XLSX export with one worksheet named `sheet`: a bold header row
/// that stays visible when scrolling (frozen), and every value as a text
/// cell.
///
/// Text cells (in text-formatted columns) keep values exactly as Lizhi holds
/// them: employee numbers keep leading zeros, dates stay `YYYY-MM-DD`, long
/// digit strings are not turned into scientific notation, and nothing is
/// ever evaluated as a formula. A file exported this way, edited and
/// imported again reads back unchanged. Column widths are fitted to the
/// first rows.
///
/// # Errors
///
/// [`TableError::WriteFailed`] if `sheet` is not a valid worksheet name
/// (empty, longer than 31 characters or containing `[]:*?/\`), a value is
/// longer than Excel's 32,767 characters, or there are more rows or columns
/// than a worksheet holds.
pub fn write_xlsx(sheet: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, TableError> {
    build_xlsx(sheet, headers, rows).map_err(|e| TableError::WriteFailed { detail: e.to_string() })
}

fn build_xlsx(sheet: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(sheet)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let columns = headers.len().max(rows.iter().map(Vec::len).max().unwrap_or(0));
    for col in 0..columns {
        worksheet.set_column_format(col_num(col)?, &text)?;
    }
    for (col, name) in headers.iter().enumerate() {
        worksheet.write_string_with_format(0, col_num(col)?, *name, &bold)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let row_num = u32::try_from(i + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (col, value) in row.iter().enumerate() {
            if !value.is_empty() {
                worksheet.write_string_with_format(row_num, col_num(col)?, value, &text)?;
            }
        }
    }
    worksheet.set_freeze_panes(1, 0)?;
    worksheet.set_autofit_max_row(200);
    worksheet.set_autofit_max_width(300);
    worksheet.autofit();
    workbook.save_to_buffer()
}

fn col_num(col: usize) -> Result<u16, XlsxError> {
    u16::try_from(col).map_err(|_| XlsxError::RowColumnLimitError)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(value: &str) -> String {
        let mut out = Vec::new();
        write_cell(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quoting_and_guard() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a\"b"), "\"a\"\"b\"");
        assert_eq!(cell("\"\""), "\"\"\"\"\"\"");
        assert_eq!(cell("a;b"), "\"a;b\"");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
        assert_eq!(cell("\tx"), "\"'\tx\"");
        assert_eq!(cell("1-2"), "1-2");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn invalid_sheet_name_is_write_failed() {
        let err = write_xlsx("a/b", &["x"], &[]).unwrap_err();
        assert_eq!(err.code(), "write_failed");
    }
}
