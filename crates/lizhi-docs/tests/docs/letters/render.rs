//! Every kind in every language, to HTML and to PDF.

use lizhi_docs::letters::{Lang, Letter, LetterKind, Template, format_date, render_html, render_pdf};

use super::{NAME, absent, assert_contains_all, company, d, fonts, issue, pdf_text, required_facts, sample};

fn letter_date(kind: LetterKind, lang: Lang) -> String {
    match kind {
        LetterKind::PublicNotice => format_date(d(2026, 3, 25), lang),
        _ => format_date(issue(), lang),
    }
}

#[test]
fn builtin_templates_parse() {
    for kind in LetterKind::ALL {
        for lang in Lang::ALL {
            if let Err(e) = Template::builtin(kind, lang) {
                panic!("{} {}: {e}", kind.code(), lang.code());
            }
        }
    }
}

#[test]
fn every_kind_and_language_renders_html() {
    for kind in LetterKind::ALL {
        for lang in Lang::ALL {
            let what = format!("HTML of {} ({})", kind.code(), lang.code());
            let letter = sample(kind, lang).build().unwrap_or_else(|e| panic!("{what}: {e}"));
            let html = render_html(&letter, None).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(html.starts_with("<!DOCTYPE html>"), "{what}");
            assert!(html.contains(&format!("<html lang=\"{}\">", lang.code())), "{what}");
            assert!(html.contains("@page { size: A4"), "{what}");
            assert!(html.contains(&format!("<title>{}</title>", kind.title(lang))), "{what}");
            assert!(html.contains(&format!("<h1>{}</h1>", kind.title(lang))), "{what}");
            let lower = html.to_lowercase();
            for forbidden in ["<script", "<link", "src=", "url(", "http://", "https://", "@import"] {
                assert!(!lower.contains(forbidden), "{what} contains {forbidden}");
            }
            let mut facts = vec![NAME.to_owned(), company(lang).replace('&', "&amp;"), letter_date(kind, lang)];
            facts.extend(required_facts(kind, lang).into_iter().map(|f| f.replace('&', "&amp;")));
            let facts: Vec<&str> = facts.iter().map(String::as_str).collect();
            assert_contains_all(&html, &facts, &what);
        }
    }
}

#[test]
fn every_kind_and_language_renders_pdf() {
    for kind in LetterKind::ALL {
        for lang in Lang::ALL {
            let what = format!("PDF of {} ({})", kind.code(), lang.code());
            let letter = sample(kind, lang).build().unwrap_or_else(|e| panic!("{what}: {e}"));
            let pdf = render_pdf(&letter, None, fonts()).unwrap_or_else(|e| panic!("{what}: {e}"));
            let text = pdf_text(&pdf);
            let mut facts =
                vec![kind.title(lang).to_owned(), NAME.to_owned(), company(lang).to_owned(), letter_date(kind, lang)];
            facts.extend(required_facts(kind, lang));
            let facts: Vec<&str> = facts.iter().map(String::as_str).collect();
            assert_contains_all(&text, &facts, &what);
            // The name as a whole word on its own, not merely spread over a
            // line: poppler must read 喆 and 堃 back as themselves.
            assert!(text.contains(NAME), "{what}: name not extracted intact:\n{text}");
        }
    }
}

#[test]
fn lists_render_as_items_alone_and_as_phrases_inline() {
    let letter = sample(LetterKind::ReturnToWorkNotice, Lang::ZhCn).build().expect("valid");
    let html = render_html(&letter, None).expect("html");
    assert!(html.contains("<li>2026年3月2日</li>\n<li>2026年3月3日</li>\n<li>2026年3月4日</li>"), "{html}");

    let letter = sample(LetterKind::PublicNotice, Lang::En).build().expect("valid");
    let html = render_html(&letter, None).expect("html");
    assert!(html.contains("any reason: 2 March 2026, 3 March 2026, 4 March 2026."), "{html}");
}

#[test]
fn tables_have_translated_headers_and_aligned_amounts() {
    let letter = sample(LetterKind::WageSettlement, Lang::ZhCn).build().expect("valid");
    let html = render_html(&letter, None).expect("html");
    assert!(html.contains("<th>项目</th><th class=\"num\">金额</th>"), "{html}");
    assert!(html.contains("<td>未休年休假工资</td><td class=\"num\">2,758.62</td>"), "{html}");
    let text = pdf_text(&render_pdf(&letter, None, fonts()).expect("pdf"));
    assert_contains_all(&text, &["项目", "金额", "未休年休假工资", "2,758.62", "经办人签字"], "wage PDF");
}

#[test]
fn optional_sections_disappear_when_absent() {
    let letter = sample(LetterKind::TerminationNotice, Lang::ZhCn).build().expect("valid");
    let with = render_html(&letter, None).expect("html");
    assert!(with.contains("电子邮箱：hr@example.cn") && with.contains("编号：HR-2026-017"), "{with}");
    assert!(with.contains("并于2026年3月31日一次性支付"), "{with}");

    let letter = Letter::builder(LetterKind::TerminationNotice, Lang::ZhCn)
        .text("company", "公司")
        .text("employee_name", NAME)
        .text("employee_no", "E1")
        .text("position", "工程师")
        .dates("absent_dates", absent())
        .table("notices_served", [["第1次催告返岗通知书", "EMS", "2026年3月7日"]])
        .text("rule_clause", "第5.3条")
        .text("rule_text", "条文")
        .text("hr_contact_name", "刘晓")
        .text("hr_contact_phone", "1")
        .date("issue_date", issue())
        .list("items_to_return", Vec::<String>::new())
        .build()
        .expect("valid");
    let without = render_html(&letter, None).expect("html");
    for absent in ["电子邮箱", "编号", "备注", "事先将解除理由通知工会", "包括："] {
        assert!(!without.contains(absent), "{absent} shown although its field is absent:\n{without}");
    }
    assert!(without.contains("并在解除劳动合同时一次性支付"), "{without}");
}

#[test]
fn same_letter_gives_same_pdf_bytes() {
    let letter = sample(LetterKind::TerminationCertificate, Lang::ZhCn).build().expect("valid");
    let first = render_pdf(&letter, None, fonts()).expect("pdf");
    let second = render_pdf(&letter, None, fonts()).expect("pdf");
    assert!(first == second, "PDF output is not deterministic");
}
