//! Integration tests for reading and writing tabular files.
//!
//! Every fixture is generated here (GBK through encoding_rs, UTF-16 by hand,
//! XLSX through rust_xlsxwriter) so the tests document exactly which bytes
//! are being accepted or rejected.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use calamine::{Reader, Xlsx};
use lizhi_docs::{FileFormat, Record, Table, TableError, read_table, write_csv, write_xlsx};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

// ---------------------------------------------------------------- helpers

fn csv(bytes: impl AsRef<[u8]>) -> Result<Table, TableError> {
    read_table(bytes.as_ref(), FileFormat::Csv)
}

fn csv_ok(bytes: impl AsRef<[u8]>) -> Table {
    csv(bytes).unwrap_or_else(|e| panic!("expected a table, got {e:?}"))
}

fn csv_err(bytes: impl AsRef<[u8]>) -> TableError {
    match csv(bytes) {
        Ok(table) => panic!("expected an error, got {table:?}"),
        Err(e) => e,
    }
}

fn xlsx_err(bytes: &[u8]) -> TableError {
    match read_table(bytes, FileFormat::Xlsx) {
        Ok(table) => panic!("expected an error, got {table:?}"),
        Err(e) => e,
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// (row, cells) of every record, for compact assertions.
fn rows(table: &Table) -> Vec<(usize, Vec<&str>)> {
    table.rows.iter().map(|r| (r.row, r.cells.iter().map(String::as_str).collect())).collect()
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, had_errors) = encoding_rs::GBK.encode(text);
    assert!(!had_errors, "fixture must be representable in GBK");
    bytes.into_owned()
}

fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    let mut out = if little_endian { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
    for unit in text.encode_utf16() {
        let bytes = if little_endian { unit.to_le_bytes() } else { unit.to_be_bytes() };
        out.extend_from_slice(&bytes);
    }
    out
}

fn workspace_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

// ---------------------------------------------------------- CSV: encodings

#[test]
fn utf8_bom_is_stripped_from_first_header() {
    let t = csv_ok(b"\xEF\xBB\xBFemployee_no,name\r\n1001,Zhang San\r\n");
    assert_eq!(t.headers, ["employee_no", "name"]);
    assert_eq!(t.column("employee_no"), Some(0));
    assert_eq!(rows(&t), [(2, vec!["1001", "Zhang San"])]);
}

#[test]
fn plain_utf8_with_chinese_is_used_as_is() {
    let t = csv_ok("工号,姓名\n1001,王喆\n".as_bytes());
    assert_eq!(t.headers, ["工号", "姓名"]);
    assert_eq!(t.rows[0].get(1), "王喆");
}

#[test]
fn gbk_csv_is_decoded() {
    // 喆 and 堃 are in GBK but not in GB2312, so this also proves we do not
    // decode with the narrower legacy table.
    let bytes = gbk("工号,姓名,部门\r\n1001,张三,研发部\r\n1002,王喆,销售部\r\n1003,李堃,\r\n");
    assert!(std::str::from_utf8(&bytes).is_err(), "fixture must not be valid UTF-8");
    let t = csv_ok(&bytes);
    assert_eq!(t.headers, ["工号", "姓名", "部门"]);
    assert_eq!(
        rows(&t),
        [(2, vec!["1001", "张三", "研发部"]), (3, vec!["1002", "王喆", "销售部"]), (4, vec!["1003", "李堃", ""]),]
    );
}

#[test]
fn gb18030_four_byte_sequences_are_decoded() {
    // U+20BB7 (𠮷) only exists in GB18030 as a four-byte sequence.
    let (bytes, _, had_errors) = encoding_rs::GB18030.encode("姓名\n吉𠮷\n");
    assert!(!had_errors);
    assert_eq!(csv_ok(&bytes).rows[0].get(0), "吉𠮷");
}

#[test]
fn undecodable_bytes_are_bad_encoding() {
    // 0x81 starts a GBK sequence but 0x20 cannot continue it.
    let err = csv_err(b"name\n\x81\x20x\n");
    assert_eq!(err.code(), "bad_encoding");
    assert_eq!(err.row(), None);
    // 0xFF is never valid in GB18030.
    assert_eq!(csv_err(b"name\n\xFF\n").code(), "bad_encoding");
    // A UTF-8 BOM promises UTF-8, so GBK after it is rejected, not guessed.
    let mut lying = b"\xEF\xBB\xBF".to_vec();
    lying.extend(gbk("姓名\n张三\n"));
    assert_eq!(csv_err(&lying).code(), "bad_encoding");
}

#[test]
fn utf16_le_tab_separated_unicode_text_is_read() {
    // What Excel writes for "Unicode Text (*.txt)".
    let bytes = utf16("工号\t姓名\t备注\r\n1001\t李堃\t\"a, b\"\r\n", true);
    let t = csv_ok(&bytes);
    assert_eq!(t.headers, ["工号", "姓名", "备注"]);
    assert_eq!(rows(&t), [(2, vec!["1001", "李堃", "a, b"])]);
}

#[test]
fn utf16_be_comma_separated_is_read() {
    let t = csv_ok(utf16("code,name\nCN1,上海\n", false));
    assert_eq!(rows(&t), [(2, vec!["CN1", "上海"])]);
}

#[test]
fn utf16_with_odd_length_is_bad_encoding() {
    let mut bytes = utf16("a,b\n1,2\n", true);
    bytes.push(b'x');
    assert_eq!(csv_err(&bytes).code(), "bad_encoding");
}

#[test]
fn utf16_without_bom_is_bad_encoding_not_garbage() {
    let bytes: Vec<u8> = "name\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_eq!(csv_err(&bytes).code(), "bad_encoding");
}

// --------------------------------------------------------- CSV: delimiters

#[test]
fn semicolon_delimiter_is_detected() {
    let t = csv_ok(b"code;name;note\nA;Alpha;1,5\n");
    assert_eq!(t.headers, ["code", "name", "note"]);
    assert_eq!(rows(&t), [(2, vec!["A", "Alpha", "1,5"])]);
}

#[test]
fn tab_delimiter_is_detected_in_utf8() {
    let t = csv_ok(b"code\tname\nA\tAlpha, Inc.\n");
    assert_eq!(rows(&t), [(2, vec!["A", "Alpha, Inc."])]);
}

#[test]
fn delimiters_inside_quoted_headers_do_not_count() {
    // Two semicolons inside quotes, one comma outside: comma wins.
    let t = csv_ok(b"\"a;b;c\",d\n1,2\n");
    assert_eq!(t.headers, ["a;b;c", "d"]);
    assert_eq!(rows(&t), [(2, vec!["1", "2"])]);
}

// ------------------------------------------------- CSV: quoting and layout

#[test]
fn quoted_cells_keep_newlines_delimiters_and_quotes() {
    let t = csv_ok(
        b"employee_no,contract_address,note\r\n\
          1001,\"Room 5, Building 2\r\nShanghai\",\"say \"\"hi\"\"\"\r\n\
          1002,\"  padded  \",x\r\n",
    );
    assert_eq!(
        rows(&t),
        [
            (2, vec!["1001", "Room 5, Building 2\nShanghai", "say \"hi\""]),
            // Rows count records, as Excel shows them, not physical lines.
            (3, vec!["1002", "padded", "x"]),
        ]
    );
}

#[test]
fn cells_are_trimmed_including_ideographic_space() {
    let t = csv_ok("name , code\n\u{3000}张三\u{3000} , A1 \n".as_bytes());
    assert_eq!(t.headers, ["name", "code"]);
    assert_eq!(rows(&t), [(2, vec!["张三", "A1"])]);
}

#[test]
fn stray_quote_inside_unquoted_cell_is_literal() {
    let t = csv_ok(b"size,name\n12\",x\n");
    assert_eq!(rows(&t), [(2, vec!["12\"", "x"])]);
}

#[test]
fn ragged_rows_are_padded() {
    let t = csv_ok(b"a,b,c\n1\n1,2\n1,2,3,,\n");
    assert_eq!(rows(&t), [(2, vec!["1", "", ""]), (3, vec!["1", "2", ""]), (4, vec!["1", "2", "3"])]);
    assert!(t.rows.iter().all(|r| r.cells.len() == 3));
}

#[test]
fn value_right_of_last_header_is_rejected() {
    let err = csv_err(b"a,b\n1,2\n1,2,,oops\n");
    assert_eq!(err.code(), "value_without_header");
    assert_eq!(err.row(), Some(3));
    assert_eq!(err.column(), Some("D"));
}

#[test]
fn blank_rows_are_skipped_but_counted() {
    let t = csv_ok(b"\r\n  \r\ncode,name\r\nA,1\r\n\r\n,,\r\n \t, \r\nB,2\rC,3\n\nD,4");
    assert_eq!(t.headers, ["code", "name"]);
    assert_eq!(rows(&t), [(4, vec!["A", "1"]), (8, vec!["B", "2"]), (9, vec!["C", "3"]), (11, vec!["D", "4"])]);
}

#[test]
fn record_get_out_of_range_is_empty() {
    let record = Record { row: 2, cells: strings(&["x"]) };
    assert_eq!(record.get(0), "x");
    assert_eq!(record.get(1), "");
}

#[test]
fn table_column_is_exact() {
    let t = csv_ok(b"code,name\n");
    assert_eq!(t.column("name"), Some(1));
    assert_eq!(t.column("Name"), None);
    assert_eq!(t.column("missing"), None);
    assert!(t.rows.is_empty());
}

// ------------------------------------------------------------ CSV: headers

#[test]
fn duplicate_header_is_rejected_after_trimming() {
    let err = csv_err(b"\n code ,name, code\n1,2,3\n");
    assert_eq!(err.code(), "duplicate_header");
    assert_eq!(err.row(), Some(2));
    assert_eq!(err.column(), Some("C"));
    assert!(err.to_string().contains("\"code\""), "{err}");
}

#[test]
fn empty_header_between_names_is_rejected() {
    let err = csv_err(b"code,,name\n1,2,3\n");
    assert_eq!(err.code(), "empty_header");
    assert_eq!((err.row(), err.column()), (Some(1), Some("B")));
    // A leading empty header cell is just as unusable.
    assert_eq!(csv_err(b" ,name\n").column(), Some("A"));
}

#[test]
fn trailing_empty_headers_are_ignored() {
    let t = csv_ok(b"code,name,,\n1,2,,\n");
    assert_eq!(t.headers, ["code", "name"]);
    assert_eq!(rows(&t), [(2, vec!["1", "2"])]);
}

#[test]
fn empty_files_have_no_header_row() {
    for bytes in [&b""[..], b"\xEF\xBB\xBF", b"\n\n  \r\n", b",,,\r\n, ,\t\r\n", b"\xFF\xFE"] {
        let err = csv_err(bytes);
        assert_eq!(err, TableError::EmptyFile, "{bytes:?}");
        assert_eq!(err.code(), "empty_file");
    }
}

// ----------------------------------------------------------- CSV: malformed

#[test]
fn unclosed_quote_is_malformed_with_its_row() {
    let err = csv_err(b"code,name\nA,ok\nB,\"unclosed\nC,more\n");
    assert_eq!(err.code(), "malformed_csv");
    assert_eq!(err.row(), Some(3));
    assert!(err.to_string().contains("row 3"), "{err}");
}

#[test]
fn text_after_closing_quote_is_malformed() {
    let err = csv_err(b"code,name\nA,\"ab\"c\n");
    assert_eq!(err.code(), "malformed_csv");
    assert!(matches!(err, TableError::MalformedCsv { row: 2, .. }), "{err:?}");
    assert_eq!(err.row(), Some(2));
    // Blanks between the closing quote and the delimiter are tolerated.
    assert_eq!(rows(&csv_ok(b"code,name\nA,\"ab\"  \n")), [(2, vec!["A", "ab"])]);
}

// -------------------------------------------------------------------- XLSX

/// A workbook like one typed by hand in Excel: numbers, dates, a blank row.
fn hand_made_xlsx() -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("员工").unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let headers = ["employee_no", "name", "hire_date", "fte", "active", "note", "last_login"];
    for (col, h) in (0u16..).zip(headers) {
        sheet.write_string(0, col, format!(" {h} ")).unwrap();
    }
    sheet.write_number(1, 0, 1001).unwrap();
    sheet.write_string(1, 1, "  张三 ").unwrap();
    sheet.write_datetime_with_format(1, 2, ExcelDateTime::from_ymd(2024, 3, 1).unwrap(), &date).unwrap();
    sheet.write_number(1, 3, 0.75).unwrap();
    sheet.write_boolean(1, 4, true).unwrap();
    let login = ExcelDateTime::from_ymd(2024, 3, 1).unwrap().and_hms(8, 30, 5).unwrap();
    sheet.write_datetime_with_format(1, 6, &login, &datetime).unwrap();
    // Row index 2 (Excel row 3) stays blank.
    sheet.write_string(3, 0, "A-7").unwrap();
    sheet.write_string(3, 1, "王喆").unwrap();
    sheet.write_datetime_with_format(3, 2, ExcelDateTime::from_ymd(1999, 12, 31).unwrap(), &date).unwrap();
    sheet.write_number(3, 3, 13_800_138_000.0).unwrap();
    sheet.write_boolean(3, 4, false).unwrap();
    sheet.write_string(3, 5, "x").unwrap();
    workbook.save_to_buffer().unwrap()
}

#[test]
fn xlsx_cells_render_as_text() {
    let bytes = hand_made_xlsx();
    assert_eq!(FileFormat::sniff(&bytes), FileFormat::Xlsx);
    let t = read_table(&bytes, FileFormat::Xlsx).unwrap();
    assert_eq!(t.headers, ["employee_no", "name", "hire_date", "fte", "active", "note", "last_login"]);
    assert_eq!(
        rows(&t),
        [
            (2, vec!["1001", "张三", "2024-03-01", "0.75", "true", "", "2024-03-01 08:30:05"]),
            (4, vec!["A-7", "王喆", "1999-12-31", "13800138000", "false", "x", ""]),
        ]
    );
}

#[test]
fn xlsx_data_away_from_a1_keeps_sheet_row_and_column_numbers() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, h) in (1u16..).zip(["code", "name"]) {
        sheet.write_string(2, col, h).unwrap();
    }
    sheet.write_string(4, 1, "A").unwrap();
    let t = read_table(&workbook.save_to_buffer().unwrap(), FileFormat::Xlsx).unwrap();
    assert_eq!(t.headers, ["code", "name"]);
    assert_eq!(rows(&t), [(5, vec!["A", ""])]);

    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, h) in (1u16..).zip(["code", "name", "code"]) {
        sheet.write_string(2, col, h).unwrap();
    }
    let err = xlsx_err(&workbook.save_to_buffer().unwrap());
    assert_eq!(err.code(), "duplicate_header");
    assert_eq!((err.row(), err.column()), (Some(3), Some("D")));
}

#[test]
fn xlsx_error_cell_is_malformed_with_row_and_column() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "employee_no").unwrap();
    sheet.write_string(0, 1, "fte").unwrap();
    sheet.write_string(1, 0, "1001").unwrap();
    sheet.write_number(1, 1, 1).unwrap();
    sheet.write_string(2, 0, "1002").unwrap();
    sheet.write_formula(2, 1, Formula::new("=1/0").set_result("#DIV/0!")).unwrap();
    let err = xlsx_err(&workbook.save_to_buffer().unwrap());
    assert_eq!(err.code(), "malformed_xlsx");
    assert_eq!((err.row(), err.column()), (Some(3), Some("B")));
    assert!(err.to_string().contains("B3") && err.to_string().contains("#DIV/0!"), "{err}");
}

#[test]
fn xlsx_uses_the_first_worksheet() {
    let mut workbook = Workbook::new();
    workbook.add_worksheet().set_name("first").unwrap().write_string(0, 0, "one").unwrap();
    workbook.add_worksheet().set_name("second").unwrap().write_string(0, 0, "two").unwrap();
    let t = read_table(&workbook.save_to_buffer().unwrap(), FileFormat::Xlsx).unwrap();
    assert_eq!(t.headers, ["one"]);
}

#[test]
fn empty_xlsx_is_empty_file() {
    let mut workbook = Workbook::new();
    workbook.add_worksheet();
    assert_eq!(xlsx_err(&workbook.save_to_buffer().unwrap()), TableError::EmptyFile);
}

/// A ZIP archive with uncompressed ("stored") entries, to build XLSX
/// packages that rust_xlsxwriter would never produce.
fn stored_zip(files: &[(&str, &str)]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let u16le = |n: usize| u16::try_from(n).unwrap().to_le_bytes();
    let u32le = |n: usize| u32::try_from(n).unwrap().to_le_bytes();
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, content) in files {
        let (name, data) = (name.as_bytes(), content.as_bytes());
        let crc = crc32(data).to_le_bytes();
        let offset = out.len();
        // Version 2.0, no flags, stored, zero time and date.
        let common = [&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0][..], &crc, &u32le(data.len()), &u32le(data.len())].concat();
        out.extend([&b"PK\x03\x04"[..], &common, &u16le(name.len()), &[0, 0], name, data].concat());
        central.extend(
            [&b"PK\x01\x02"[..], &[20, 0], &common, &u16le(name.len()), &[0; 12], &u32le(offset), name].concat(),
        );
    }
    let directory_offset = out.len();
    out.extend_from_slice(&central);
    let count = u16le(files.len());
    out.extend(
        [&b"PK\x05\x06"[..], &[0; 4], &count, &count, &u32le(central.len()), &u32le(directory_offset), &[0, 0]]
            .concat(),
    );
    out
}

/// A minimal XLSX package whose workbook lists `sheets` (XML `<sheet>`
/// elements) and whose `xl/worksheets/sheet1.xml` holds `sheet_data`.
fn minimal_xlsx(sheets: &str, sheet_data: &str) -> Vec<u8> {
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    let root_rels = format!(
        r#"<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let workbook_rels = format!(
        r#"<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
    );
    let workbook = format!(r#"<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{sheets}</sheets></workbook>"#);
    let sheet = format!(r#"<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>"#);
    stored_zip(&[
        ("_rels/.rels", &root_rels),
        ("xl/_rels/workbook.xml.rels", &workbook_rels),
        ("xl/workbook.xml", &workbook),
        ("xl/worksheets/sheet1.xml", &sheet),
    ])
}

#[test]
fn hand_built_xlsx_package_is_read() {
    // Inline strings and an ISO 8601 date cell (t="d"), which some tools write.
    let bytes = minimal_xlsx(
        r#"<sheet name="S" sheetId="1" r:id="rId1"/>"#,
        r#"<row r="1"><c r="A1" t="inlineStr"><is><t>hire_date</t></is></c><c r="B1" t="inlineStr"><is><t>no</t></is></c></row>
           <row r="2"><c r="A2" t="d"><v>2024-03-01T00:00:00</v></c><c r="B2"><v>1001</v></c></row>"#,
    );
    let t = read_table(&bytes, FileFormat::Xlsx).unwrap();
    assert_eq!(t.headers, ["hire_date", "no"]);
    assert_eq!(rows(&t), [(2, vec!["2024-03-01", "1001"])]);
}

#[test]
fn xlsx_cells_out_of_order_are_sorted() {
    let bytes = minimal_xlsx(
        r#"<sheet name="S" sheetId="1" r:id="rId1"/>"#,
        r#"<row r="3"><c r="B3" t="inlineStr"><is><t>b3</t></is></c><c r="A3" t="inlineStr"><is><t>a3</t></is></c></row>
           <row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" t="inlineStr"><is><t>b</t></is></c></row>"#,
    );
    let t = read_table(&bytes, FileFormat::Xlsx).unwrap();
    assert_eq!(t.headers, ["a", "b"]);
    assert_eq!(rows(&t), [(3, vec!["a3", "b3"])]);
}

#[test]
fn xlsx_stray_value_in_last_cell_is_reported_without_huge_allocation() {
    // A dense 1,048,576 x 16,384 grid would need hundreds of GiB.
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "code").unwrap();
    sheet.write_string(1, 0, "A").unwrap();
    sheet.write_string(1_048_575, 16_383, "oops").unwrap();
    let err = xlsx_err(&workbook.save_to_buffer().unwrap());
    assert_eq!(err.code(), "value_without_header");
    assert_eq!((err.row(), err.column()), (Some(1_048_576), Some("XFD")));
}

#[test]
fn workbook_without_worksheet_is_no_sheet() {
    let bytes = minimal_xlsx("", "");
    assert_eq!(xlsx_err(&bytes), TableError::NoSheet);
    assert_eq!(TableError::NoSheet.code(), "no_sheet");
}

#[test]
fn truncated_xlsx_is_malformed_not_a_panic() {
    let bytes = hand_made_xlsx();
    let len = bytes.len();
    let mut cuts: Vec<usize> = (0..len).step_by(len / 40).collect();
    cuts.extend([1, 4, 22, len / 2, len - 22, len - 1]);
    for cut in cuts {
        let err = xlsx_err(&bytes[..cut]);
        assert_eq!(err.code(), "malformed_xlsx", "cut at {cut} of {len}: {err}");
        assert_eq!(err.row(), None);
    }
}

#[test]
fn non_workbook_bytes_are_malformed_xlsx() {
    assert_eq!(xlsx_err(b"PK\x03\x04not really a zip").code(), "malformed_xlsx");
    assert_eq!(xlsx_err(b"code,name\nA,B\n").code(), "malformed_xlsx");
    assert!(xlsx_err(b"").to_string().starts_with("malformed XLSX"));
}

#[test]
fn xlsx_round_trip_through_write_xlsx() {
    let headers = ["employee_no", "name", "hire_date", "contract_address", "note"];
    let data = vec![
        strings(&["0012", "王喆", "2024-03-01", "上海市浦东新区\n世纪大道100号", "=1+1"]),
        strings(&["1001", "Zhang San", "2019-07-15", "", "-5"]),
        strings(&["A-9", "李堃"]),
    ];
    let bytes = write_xlsx("员工 Employees", &headers, &data).unwrap();
    let t = read_table(&bytes, FileFormat::Xlsx).unwrap();
    assert_eq!(t.headers, headers);
    assert_eq!(
        rows(&t),
        [
            // Text cells: leading zeros, dates and formula-like text survive.
            (2, vec!["0012", "王喆", "2024-03-01", "上海市浦东新区\n世纪大道100号", "=1+1"]),
            (3, vec!["1001", "Zhang San", "2019-07-15", "", "-5"]),
            (4, vec!["A-9", "李堃", "", "", ""]),
        ]
    );

    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(workbook.sheet_names(), ["员工 Employees"]);
    let styles = workbook.worksheet_style("员工 Employees").unwrap();
    let bold = |pos| styles.get(pos).and_then(|s| s.font.as_ref()).is_some_and(|f| f.is_bold());
    assert!(bold((0, 0)) && bold((0, 4)), "header cells are bold");
    assert!(!bold((1, 0)), "data cells are not bold");
    let formulas = workbook.worksheet_formula("员工 Employees").unwrap();
    assert!(formulas.used_cells().next().is_none(), "no formulas are written");
}

#[test]
fn write_xlsx_with_no_rows_has_only_headers() {
    let bytes = write_xlsx("Export", &["a", "b"], &[]).unwrap();
    assert_eq!(read_table(&bytes, FileFormat::Xlsx).unwrap(), Table { headers: strings(&["a", "b"]), rows: vec![] });
}

#[test]
fn write_xlsx_reports_write_failed() {
    let err = write_xlsx("this sheet name is longer than 31 chars", &["a"], &[]).unwrap_err();
    assert_eq!(err.code(), "write_failed");
    let too_long = vec!["x".repeat(40_000)];
    assert_eq!(write_xlsx("Export", &["a"], &[too_long]).unwrap_err().code(), "write_failed");
}

// --------------------------------------------------------------- write_csv

#[test]
fn write_csv_has_bom_crlf_and_rfc4180_quoting() {
    let bytes = write_csv(
        &["employee_no", "name", "address"],
        &[strings(&["1001", "王喆", "Room 5, Building 2\nShanghai"]), strings(&["1002", "Say \"hi\"", ""])],
    );
    let expected = "\u{feff}employee_no,name,address\r\n\
                    1001,王喆,\"Room 5, Building 2\nShanghai\"\r\n\
                    1002,\"Say \"\"hi\"\"\",\r\n";
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);
}

#[test]
fn write_csv_guards_against_formula_injection() {
    let cells = ["=SUM(A1:A9)", "+86 138", "-2", "@cmd", "\tx", "\ry", "a=b", "王=喆", " =x"];
    let bytes = write_csv(&["v"], &cells.iter().map(|c| vec![(*c).to_owned()]).collect::<Vec<_>>());
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert_eq!(
        lines,
        ["v", "'=SUM(A1:A9)", "'+86 138", "'-2", "'@cmd", "\"'\tx\"", "\"'\ry\"", "a=b", "王=喆", " =x", ""]
    );
}

#[test]
fn guarded_cells_read_back_as_written() {
    let values = ["+86 138 0013 8000", "-2", "=SUM(A1)", "@cmd", "'quoted", "'", "it's"];
    let rows: Vec<Vec<String>> = values.iter().map(|v| vec![(*v).to_owned()]).collect();
    let t = csv_ok(write_csv(&["v"], &rows));
    assert_eq!(t.rows.iter().map(|r| r.get(0).to_owned()).collect::<Vec<_>>(), values);
}

#[test]
fn write_csv_round_trips_through_read_table() {
    let data =
        vec![strings(&["1001", "王喆", "a,b;c", "line1\nline2", "q\"uote"]), strings(&["1002", "李堃", "", "", ""])];
    let headers = ["no", "name", "list", "text", "quote"];
    let t = csv_ok(write_csv(&headers, &data));
    assert_eq!(t.headers, headers);
    assert_eq!(t.rows.iter().map(|r| r.cells.clone()).collect::<Vec<_>>(), data);
    assert_eq!(t.rows[1].row, 3);
}

// ---------------------------------------------------------------- formats

#[test]
fn file_format_from_file_name() {
    assert_eq!(FileFormat::from_file_name("employees.csv"), Some(FileFormat::Csv));
    assert_eq!(FileFormat::from_file_name("员工.CSV"), Some(FileFormat::Csv));
    assert_eq!(FileFormat::from_file_name("C:\\Users\\hr\\Org.Units.XlSx"), Some(FileFormat::Xlsx));
    assert_eq!(FileFormat::from_file_name("employees.xls"), None);
    assert_eq!(FileFormat::from_file_name("employees.txt"), None);
    assert_eq!(FileFormat::from_file_name("xlsx"), None);
    assert_eq!(FileFormat::from_file_name(""), None);
}

#[test]
fn file_format_sniff() {
    assert_eq!(FileFormat::sniff(b"PK\x03\x04rest"), FileFormat::Xlsx);
    assert_eq!(FileFormat::sniff(b"PK\x03"), FileFormat::Csv);
    assert_eq!(FileFormat::sniff(b"code,name\n"), FileFormat::Csv);
    assert_eq!(FileFormat::sniff(b""), FileFormat::Csv);
    assert_eq!(FileFormat::sniff(&write_csv(&["a"], &[])), FileFormat::Csv);
    assert_eq!(FileFormat::sniff(&write_xlsx("S", &["a"], &[]).unwrap()), FileFormat::Xlsx);
}

#[test]
fn file_format_extension_and_content_type() {
    assert_eq!(FileFormat::Csv.extension(), "csv");
    assert_eq!(FileFormat::Xlsx.extension(), "xlsx");
    assert_eq!(FileFormat::Csv.content_type(), "text/csv; charset=utf-8");
    assert_eq!(FileFormat::Xlsx.content_type(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    for f in [FileFormat::Csv, FileFormat::Xlsx] {
        assert_eq!(FileFormat::from_file_name(&format!("x.{}", f.extension())), Some(f));
    }
}

// ------------------------------------------------------------ volume (speed is measured by `lizhi bench`)

#[test]
fn reads_100k_rows_with_correct_numbering() {
    let mut text = String::from(
        "employee_no,name,legal_entity,org_unit,manager_no,hire_date,email,mobile,position,contract_address,work_calendar\r\n",
    );
    for i in 0..100_000 {
        text.push_str(&format!(
            "{i},王喆{i},CN-SH,CN-RD,{},2020-01-01,user{i}@example.com,+86 138 0013 8000,工程师,\"上海市浦东新区, {i}号\",\r\n",
            i / 10
        ));
    }
    let t = csv_ok(text.as_bytes());
    assert_eq!(t.headers.len(), 11);
    assert_eq!(t.rows.len(), 100_000);
    let last = &t.rows[99_999];
    assert_eq!(last.row, 100_001);
    assert_eq!(last.get(0), "99999");
    assert_eq!(last.get(9), "上海市浦东新区, 99999号");
}

// ----------------------------------------------- documentation and samples

#[test]
fn import_formats_doc_lists_every_table_error_code() {
    let doc = std::fs::read_to_string(workspace_file("docs/import-formats.md")).unwrap();
    for code in TableError::CODES {
        assert!(doc.contains(&format!("`{code}`")), "docs/import-formats.md does not document `{code}`");
    }
}

fn sample(name: &str) -> Table {
    let path = workspace_file(&format!("docs/samples/{name}"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{name} should have a BOM so Excel shows Chinese correctly");
    let format = FileFormat::from_file_name(name).unwrap();
    read_table(&bytes, format).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Rows of a sample as maps from header to value.
fn sample_rows(name: &str, expected_headers: &[&str]) -> Vec<HashMap<String, String>> {
    let t = sample(name);
    assert_eq!(t.headers, expected_headers, "{name} headers");
    t.rows.iter().map(|r| t.headers.iter().cloned().zip(r.cells.iter().cloned()).collect()).collect()
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (s[..4].parse::<u32>(), s[5..7].parse::<u32>(), s[8..].parse::<u32>()) else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    (1..=12).contains(&m) && d >= 1 && d <= days[m as usize - 1]
}

#[test]
fn samples_are_consistent_with_each_other() {
    let entities = sample_rows("legal-entities.csv", &["code", "name", "country", "time_zone", "policy"]);
    let units = sample_rows("org-units.csv", &["code", "name", "parent_code", "legal_entity"]);
    let employees = sample_rows(
        "employees.csv",
        &[
            "employee_no",
            "name",
            "legal_entity",
            "org_unit",
            "manager_no",
            "hire_date",
            "email",
            "mobile",
            "position",
            "contract_address",
            "work_calendar",
        ],
    );

    let entity_codes: HashSet<&str> = entities.iter().map(|e| e["code"].as_str()).collect();
    assert_eq!(entity_codes.len(), 2);
    for e in &entities {
        let code = &e["code"];
        assert!(code.len() <= 32 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)));
        assert!(["CN-default", "US-generic", "UK", "IN"].contains(&e["policy"].as_str()));
        assert!(e["country"].len() == 2 && e["country"].bytes().all(|b| b.is_ascii_uppercase()));
    }
    let cn = entities.iter().find(|e| e["country"] == "CN").expect("a CN entity");
    assert_eq!((cn["time_zone"].as_str(), cn["policy"].as_str()), ("Asia/Shanghai", "CN-default"));
    let uk = entities.iter().find(|e| e["policy"] == "UK").expect("a UK entity");
    assert_eq!((uk["country"].as_str(), uk["time_zone"].as_str()), ("GB", "Europe/London"));

    let unit_entity: HashMap<&str, &str> =
        units.iter().map(|u| (u["code"].as_str(), u["legal_entity"].as_str())).collect();
    assert_eq!(unit_entity.len(), units.len(), "unit codes are unique");
    let parent: HashMap<&str, &str> = units.iter().map(|u| (u["code"].as_str(), u["parent_code"].as_str())).collect();
    for u in &units {
        assert!(entity_codes.contains(u["legal_entity"].as_str()), "{u:?}");
        let p = u["parent_code"].as_str();
        if !p.is_empty() {
            assert_eq!(unit_entity.get(p), Some(&u["legal_entity"].as_str()), "parent of {u:?}");
        }
    }
    for entity in &entity_codes {
        let depth = |start: &str| {
            let (mut code, mut depth) = (parent[start], 1);
            while !code.is_empty() {
                code = parent[code];
                depth += 1;
                assert!(depth <= units.len(), "org cycle above {start}");
            }
            depth
        };
        let max = units.iter().filter(|u| u["legal_entity"] == *entity).map(|u| depth(&u["code"])).max();
        assert_eq!(max, Some(3), "a 3-level tree for {entity}");
    }

    let manager: HashMap<&str, &str> =
        employees.iter().map(|e| (e["employee_no"].as_str(), e["manager_no"].as_str())).collect();
    assert_eq!(manager.len(), employees.len(), "employee numbers are unique");
    for e in &employees {
        let no = e["employee_no"].as_str();
        assert!(no.len() <= 32 && no.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b)));
        assert_eq!(unit_entity.get(e["org_unit"].as_str()), Some(&e["legal_entity"].as_str()), "{e:?}");
        assert!(is_date(&e["hire_date"]), "{e:?}");
        let m = e["manager_no"].as_str();
        assert!(m.is_empty() || manager.contains_key(m), "unknown manager in {e:?}");
        assert_ne!(m, no);
        let email = &e["email"];
        assert!(email.is_empty() || email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.')));
        let mobile = &e["mobile"];
        let digits = mobile.bytes().filter(u8::is_ascii_digit).count();
        assert!(
            mobile.is_empty()
                || ((7..=20).contains(&digits)
                    && mobile.trim_start_matches('+').bytes().all(|b| b.is_ascii_digit() || b == b' ' || b == b'-')),
            "{e:?}"
        );
        let mut seen = HashSet::new();
        let mut cur = no;
        while !manager[cur].is_empty() {
            assert!(seen.insert(cur), "manager cycle at {cur}");
            cur = manager[cur];
        }
    }
    assert!(employees.iter().any(|e| e["name"].contains('喆')));
    assert!(employees.iter().any(|e| !e["manager_no"].is_empty()));
    assert!(employees.iter().any(|e| e["name"].is_ascii()));
}
