//! XLSX reading through calamine.
//!
//! Cells are streamed rather than loaded as a calamine `Range`: a range is a
//! dense rectangle, so a single stray value far away (say in `XFD1048576`)
//! would make it allocate billions of cells and abort the process. Streaming
//! keeps memory proportional to the cells that actually hold values.

use std::io::Cursor;

use calamine::{DataRef, ExcelDateTime, ExcelDateTimeType, Reader, SheetType, Xlsx};

use crate::error::{TableError, column_letter};
use crate::table::{Table, TableBuilder};

const SECONDS_PER_DAY: f64 = 86_400.0;

pub(crate) fn read_xlsx(bytes: &[u8]) -> Result<Table, TableError> {
    let malformed = |detail: String| TableError::MalformedXlsx { row: None, column: None, detail };
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| malformed(format!("the file is not a readable XLSX workbook ({e})")))?;
    let is_1904 = workbook.has_1904_epoch();
    let sheet = workbook
        .sheets_metadata()
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or(TableError::NoSheet)?;
    let unreadable = |e| malformed(format!("worksheet {sheet:?} cannot be read ({e})"));

    // Non-empty cells as (0-based row, 0-based column, text).
    let mut cells: Vec<(u32, u32, String)> = Vec::new();
    let mut reader = workbook.worksheet_cells_reader(&sheet).map_err(unreadable)?;
    while let Some(cell) = reader.next_cell().map_err(unreadable)? {
        let (row, col) = cell.get_position();
        let text = render(cell.get_value(), is_1904).map_err(|error| {
            let (row, column) = (row as usize + 1, column_letter(col as usize));
            TableError::MalformedXlsx {
                detail: format!("cell {column}{row} contains the Excel error {error}"),
                row: Some(row),
                column: Some(column),
            }
        })?;
        if !text.is_empty() {
            cells.push((row, col, text));
        }
    }
    // Files written by Excel are already in order; this is cheap then and
    // makes odd writers harmless. Stable, so a repeated cell keeps the last value.
    cells.sort_by_key(|&(row, col, _)| (row, col));

    let Some(first_col) = cells.iter().map(|&(_, col, _)| col).min() else {
        return Err(TableError::EmptyFile);
    };
    let mut builder = TableBuilder::new(first_col as usize);
    let mut cells = cells.into_iter().peekable();
    while let Some((row, col, text)) = cells.next() {
        let mut values = Vec::with_capacity(builder.width_hint());
        place(&mut values, (col - first_col) as usize, text);
        while let Some((_, col, text)) = cells.next_if(|&(next_row, _, _)| next_row == row) {
            place(&mut values, (col - first_col) as usize, text);
        }
        builder.push(row as usize + 1, values)?;
    }
    builder.finish()
}

/// Puts `text` at `index`, filling any gap with empty cells.
fn place(values: &mut Vec<String>, index: usize, text: String) {
    if index < values.len() {
        values[index] = text;
    } else {
        values.resize_with(index, String::new);
        values.push(text);
    }
}

/// The text of one cell; `Err` with the error value for error cells.
fn render(cell: &DataRef<'_>, is_1904: bool) -> Result<String, String> {
    Ok(match cell {
        DataRef::Empty => String::new(),
        DataRef::SharedString(s) => s.trim().to_owned(),
        DataRef::String(s) => s.trim().to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => render_float(*f),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) => render_datetime(dt, is_1904),
        DataRef::DateTimeIso(s) => render_iso_datetime(s.trim()),
        DataRef::DurationIso(s) => s.trim().to_owned(),
        DataRef::Error(e) => return Err(e.to_string()),
    })
}

/// Shortest round-trip text; whole numbers have no fraction (`1001`, not
/// `1001.0`) because employee numbers are often typed as numbers.
fn render_float(f: f64) -> String {
    if f == 0.0 {
        // Avoids "-0".
        "0".to_owned()
    } else {
        // `Display` for f64 never adds ".0" and never uses an exponent.
        f.to_string()
    }
}

/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` when there is a time of day,
/// `HH:MM:SS` for a time without a date, `H:MM:SS` for a duration.
fn render_datetime(dt: &ExcelDateTime, is_1904: bool) -> String {
    let value = dt.as_f64();
    if !value.is_finite() || value < 0.0 {
        return render_float(value);
    }
    // Round to whole seconds first so 12:59:59.9996 shows as 13:00:00.
    let seconds = (value * SECONDS_PER_DAY).round();
    if dt.is_duration() {
        // Whole seconds of a finite non-negative duration; f64 → u64 saturates.
        let total = seconds as u64;
        return format!("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
    }
    let rounded = ExcelDateTime::new(seconds / SECONDS_PER_DAY, ExcelDateTimeType::DateTime, is_1904);
    let (year, month, day, hour, minute, second, _) = rounded.to_ymd_hms_milli();
    if seconds < SECONDS_PER_DAY {
        format!("{hour:02}:{minute:02}:{second:02}")
    } else if hour == 0 && minute == 0 && second == 0 {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
    }
}

/// ISO 8601 date/time text (`t="d"` cells) in the same shapes as
/// [`render_datetime`].
fn render_iso_datetime(s: &str) -> String {
    let Some((date, time)) = s.split_once('T') else {
        return s.to_owned();
    };
    let time = time.trim_end_matches('Z');
    let time = time.split_once('.').map_or(time, |(whole, _)| whole);
    if time.trim_start_matches(['0', ':']).is_empty() {
        date.to_owned()
    } else if date.is_empty() {
        time.to_owned()
    } else {
        format!("{date} {time}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(value: f64) -> String {
        render_datetime(&ExcelDateTime::new(value, ExcelDateTimeType::DateTime, false), false)
    }

    #[test]
    fn floats() {
        assert_eq!(render_float(1001.0), "1001");
        assert_eq!(render_float(-0.0), "0");
        assert_eq!(render_float(3.25), "3.25");
        assert_eq!(render_float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(render_float(13_800_138_000.0), "13800138000");
    }

    #[test]
    fn datetimes() {
        assert_eq!(dt(45943.0), "2025-10-13");
        assert_eq!(dt(45943.5), "2025-10-13 12:00:00");
        assert_eq!(dt(45943.0 + 90.0 / 86_400.0), "2025-10-13 00:01:30");
        // 23:59:59.9999 rounds up into the next day.
        assert_eq!(dt(45943.0 + 86_399.999_9 / 86_400.0), "2025-10-14");
        assert_eq!(dt(0.375), "09:00:00");
        assert_eq!(render_datetime(&ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false), false), "36:00:00");
        assert_eq!(render_datetime(&ExcelDateTime::new(0.0, ExcelDateTimeType::DateTime, true), true), "00:00:00");
        assert_eq!(render_datetime(&ExcelDateTime::new(1.0, ExcelDateTimeType::DateTime, true), true), "1904-01-02");
    }

    #[test]
    fn iso_datetimes() {
        assert_eq!(render_iso_datetime("2024-03-01T00:00:00"), "2024-03-01");
        assert_eq!(render_iso_datetime("2024-03-01T08:30:00.000Z"), "2024-03-01 08:30:00");
        assert_eq!(render_iso_datetime("2024-03-01"), "2024-03-01");
    }
}
