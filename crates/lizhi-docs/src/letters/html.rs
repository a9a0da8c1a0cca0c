//! The print-ready HTML writer.

use std::fmt::Write as _;

use super::blocks::{Block, Inline};
use super::kinds::Lang;

/// Our own style sheet: A4 pages, formal serif type, no external resources
/// (the page must print identically offline and pass a strict CSP).
const CSS: &str = "\
@page { size: A4; margin: 25mm 20mm 25mm 20mm;
  @bottom-center { content: counter(page) \" / \" counter(pages); font-size: 9pt; } }
* { box-sizing: border-box; }
html { background: #fff; color: #000; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; font-size: 12pt; line-height: 1.75; }
body.zh { font-family: \"Noto Serif CJK SC\", \"Source Han Serif SC\", \"Songti SC\", \"SimSun\", serif; }
body.en { font-family: \"Noto Serif\", \"DejaVu Serif\", \"Times New Roman\", \"Noto Serif CJK SC\", serif; }
main.letter { width: 170mm; max-width: 100%; margin: 0 auto; padding: 15mm 0; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 1.2em; letter-spacing: 0.08em; line-height: 1.4; }
body.en h1 { letter-spacing: 0; }
h2 { font-size: 13pt; margin: 1.2em 0 0.4em; break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 0.8em; orphans: 2; widows: 2; }
body.zh p:not(.signature) { text-align: justify; }
ul { margin: 0 0 0.8em; padding-left: 2em; }
li { margin: 0 0 0.2em; }
.signature { text-align: right; margin: 2.5em 0 0.8em; break-inside: avoid; page-break-inside: avoid; }
table { width: 100%; border-collapse: collapse; margin: 0.4em 0 1em; }
th, td { border: 0.75pt solid #000; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { font-weight: bold; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
@media print { main.letter { width: auto; padding: 0; } }
";

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn inlines(items: &[Inline], out: &mut String) {
    for item in items {
        match item {
            Inline::Break => out.push_str("<br>"),
            Inline::Text { text, bold: true } => {
                out.push_str("<strong>");
                escape(text, out);
                out.push_str("</strong>");
            }
            Inline::Text { text, bold: false } => escape(text, out),
        }
    }
}

/// Writes the whole page.
pub(crate) fn page(blocks: &[Block], lang: Lang, title: &str) -> String {
    let class = match lang {
        Lang::ZhCn => "zh",
        Lang::En => "en",
    };
    let mut out = String::with_capacity(8 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"");
    out.push_str(lang.code());
    out.push_str("\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    escape(title, &mut out);
    out.push_str("</title>\n<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body class=\"");
    out.push_str(class);
    out.push_str("\">\n<main class=\"letter\">\n");
    for block in blocks {
        match block {
            Block::Title(items) => wrap("h1", items, &mut out),
            Block::Heading(items) => wrap("h2", items, &mut out),
            Block::Paragraph(items) => wrap("p", items, &mut out),
            Block::Signature(items) => {
                out.push_str("<p class=\"signature\">");
                inlines(items, &mut out);
                out.push_str("</p>\n");
            }
            Block::List(entries) => {
                out.push_str("<ul>\n");
                for entry in entries {
                    wrap("li", entry, &mut out);
                }
                out.push_str("</ul>\n");
            }
            Block::Table { columns, rows } => {
                out.push_str("<table>\n<thead><tr>");
                for column in *columns {
                    let _ = write!(out, "<th{}>", if column.numeric { " class=\"num\"" } else { "" });
                    escape(column.header(lang), &mut out);
                    out.push_str("</th>");
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for (cell, column) in row.iter().zip(columns.iter()) {
                        let _ = write!(out, "<td{}>", if column.numeric { " class=\"num\"" } else { "" });
                        escape(cell.trim(), &mut out);
                        out.push_str("</td>");
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
        }
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn wrap(tag: &str, items: &[Inline], out: &mut String) {
    let _ = write!(out, "<{tag}>");
    inlines(items, out);
    let _ = writeln!(out, "</{tag}>");
}
