//! Tabular file reading and writing for Lizhi's imports and exports.
//!
//! HR data arrives as whatever a spreadsheet program produced: CSV saved by
//! Excel on Chinese Windows (GBK/GB18030), "Unicode text" (UTF-16, tab
//! separated), European CSV with semicolons, or an XLSX workbook. This crate
//! turns all of those into one shape — a [`Table`] of trimmed header names and
//! numbered [`Record`]s — so the import code in the application only has to
//! validate values, and every problem it finds can name the row the user sees
//! in Excel or a text editor.
//!
//! The other direction ([`write_csv`], [`write_xlsx`]) produces files that
//! open correctly in Excel (UTF-8 BOM, text cells) and that do not execute
//! formulas smuggled in through user-entered data.
//!
//! The [`letters`] module renders the legal documents of separation cases
//! (notices, the termination certificate, the wage settlement) from
//! admin-overridable templates to print-ready HTML and to PDF.
//!
//! Errors are [`TableError`]s (and [`letters::LetterError`]s) with a stable
//! `code()`, because the application translates messages by code rather than
//! by English text.
//!
//! ```
//! use lizhi_docs::{FileFormat, read_table};
//!
//! let upload = "\u{feff}employee_no,name\r\n1001,王喆\r\n";
//! let table = read_table(upload.as_bytes(), FileFormat::Csv)?;
//! let name = table.column("name").expect("validated by the caller");
//! assert_eq!(table.rows[0].get(name), "王喆");
//! assert_eq!(table.rows[0].row, 2); // as Excel numbers it
//! # Ok::<(), lizhi_docs::TableError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod csv_read;
mod error;
mod format;
pub mod letters;
mod table;
mod write;
mod xlsx_read;

pub use error::TableError;
pub use format::FileFormat;
pub use table::{Record, Table, read_table};
pub use write::{write_csv, write_xlsx};
