//! Validation, overrides, escaping, the certificate's reason and fonts.

use std::path::PathBuf;

use lizhi_docs::letters::{
    FieldValue, Fonts, Lang, Letter, LetterError, LetterKind, Template, render_html, render_pdf,
};

use super::{NAME, assert_contains_all, fonts, issue, pdf_text, sample, squash};

fn err_code<T>(result: Result<T, LetterError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

// ------------------------------------------------------------ validation

#[test]
fn letter_fields_are_checked_against_the_kind() {
    let kind = LetterKind::TerminationCertificate;
    assert_eq!(err_code(sample(kind, Lang::ZhCn).build()), "ok");
    assert_eq!(err_code(sample(kind, Lang::ZhCn).text("salary", "1").build()), "unknown_field");
    assert_eq!(err_code(sample(kind, Lang::ZhCn).text("termination_date", "昨天").build()), "duplicate_field");
    let no_position = Letter::new(kind, Lang::ZhCn, [("company", FieldValue::Text("公司".into()))]);
    assert_eq!(no_position, Err(LetterError::MissingField { field: "employee_name" }));
    let e = Letter::new(LetterKind::PublicNotice, Lang::En, [("publication_date", FieldValue::Text("soon".into()))]);
    assert_eq!(e, Err(LetterError::WrongType { field: "publication_date", expected: "date", found: "text" }));
    let bad_row = Letter::builder(LetterKind::WageSettlement, Lang::En).table("lines", [vec!["only one cell"]]).build();
    assert_eq!(bad_row, Err(LetterError::BadTableRow { field: "lines", row: 1, expected: 2, found: 1 }));
    let empty_required = Letter::builder(LetterKind::TerminationCertificate, Lang::En).text("company", "  ").build();
    assert_eq!(empty_required, Err(LetterError::MissingField { field: "company" }));
}

// -------------------------------------------------------------- templates

const CERTIFICATE_OVERRIDE: &str = "\
# 离职证明书

致有关单位：

兹有{{employee_name}}（工号 {{employee_no}}）于{{contract_start}}入职我司，担任{{position}}，
于{{termination_date}}与我司解除劳动合同，在我司工作年限为{{years_of_service}}。

>> {{company}}
>> 开具日期：{{issue_date}}
";

#[test]
fn admin_override_renders_in_html_and_pdf() {
    let letter = sample(LetterKind::TerminationCertificate, Lang::ZhCn).build().expect("valid");
    assert!(Template::parse(LetterKind::TerminationCertificate, CERTIFICATE_OVERRIDE).is_ok());
    let html = render_html(&letter, Some(CERTIFICATE_OVERRIDE)).expect("html");
    assert!(html.contains("<title>离职证明书</title>") && html.contains("<h1>离职证明书</h1>"), "{html}");
    assert!(html.contains("<p>致有关单位：</p>"), "{html}");
    assert!(html.contains("担任高级工程师，<br>于2026年3月20日"), "{html}");
    assert!(html.contains("<p class=\"signature\">离职示例科技有限公司<br>开具日期：2026年3月20日</p>"), "{html}");
    assert!(!html.contains("解除劳动合同证明"), "the built-in text leaked into the override:\n{html}");
    let text = pdf_text(&render_pdf(&letter, Some(CERTIFICATE_OVERRIDE), fonts()).expect("pdf"));
    assert_contains_all(&text, &["离职证明书", NAME, "4年8个月", "开具日期：2026年3月20日"], "override PDF");
}

#[test]
fn broken_overrides_are_rejected_with_their_codes() {
    let kind = LetterKind::TerminationCertificate;
    let letter = sample(kind, Lang::ZhCn).build().expect("valid");

    let unknown = format!("{CERTIFICATE_OVERRIDE}\n月薪：{{{{salary}}}}，奖金：{{{{ bonus }}}}\n");
    let e = render_html(&letter, Some(&unknown)).expect_err("unknown placeholders");
    assert_eq!(e, LetterError::UnknownPlaceholder { names: vec!["salary".into(), "bonus".into()] });
    assert_eq!(e.code(), "unknown_placeholder");
    assert_eq!(err_code(render_pdf(&letter, Some(&unknown), fonts())), "unknown_placeholder");

    let unclosed = format!("{CERTIFICATE_OVERRIDE}\n{{{{#if reason}}}}\n原因：{{{{reason}}}}\n");
    let e = Template::parse(kind, &unclosed).expect_err("unclosed if");
    assert_eq!(e.code(), "unclosed_if");
    assert_eq!(e.line(), Some(11));
    assert_eq!(err_code(render_html(&letter, Some(&unclosed))), "unclosed_if");

    let missing = CERTIFICATE_OVERRIDE.replace("{{years_of_service}}", "若干年");
    assert_eq!(
        Template::parse(kind, &missing),
        Err(LetterError::MissingPlaceholder { fields: vec!["years_of_service"] })
    );
    let stray = format!("{CERTIFICATE_OVERRIDE}{{{{/if}}}}\n");
    assert_eq!(err_code(Template::parse(kind, &stray)), "unexpected_tag");
}

// ------------------------------------------------ the certificate's reason

#[test]
fn certificate_states_a_reason_only_when_asked() {
    for lang in Lang::ALL {
        let word = match lang {
            Lang::ZhCn => "原因",
            Lang::En => "reason",
        };
        let without = sample(LetterKind::TerminationCertificate, lang).build().expect("valid");
        let html = render_html(&without, None).expect("html");
        let text = pdf_text(&render_pdf(&without, None, fonts()).expect("pdf"));
        for output in [&html, &text] {
            assert!(!output.to_lowercase().contains(word), "{word} without a reason:\n{output}");
        }

        let reason = match lang {
            Lang::ZhCn => "双方协商一致",
            Lang::En => "mutual agreement",
        };
        let with = sample(LetterKind::TerminationCertificate, lang).text("reason", reason).build().expect("valid");
        let html = render_html(&with, None).expect("html");
        let text = pdf_text(&render_pdf(&with, None, fonts()).expect("pdf"));
        for output in [&html, &text] {
            assert!(output.to_lowercase().contains(word), "no {word} although asked:\n{output}");
            assert!(squash(output).contains(&squash(reason)), "reason text missing:\n{output}");
        }
    }
}

// --------------------------------------------------------------- escaping

#[test]
fn html_escapes_values() {
    let letter = Letter::builder(LetterKind::TerminationCertificate, Lang::En)
        .text("company", "A&B <Holdings>")
        .text("employee_name", "<script>alert(1)</script> & \"Bob\" O'Neil")
        .text("employee_no", "E1")
        .date("contract_start", issue())
        .date("termination_date", issue())
        .text("position", "**not bold** {{company}} # heading")
        .text("years_of_service", "1")
        .date("issue_date", issue())
        .build()
        .expect("valid");
    let html = render_html(&letter, None).expect("html");
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Bob&quot; O&#39;Neil"), "{html}");
    assert!(html.contains("A&amp;B &lt;Holdings&gt;"), "{html}");
    // Values are never template syntax.
    assert!(html.contains("Position: **not bold** {{company}} # heading</li>"), "{html}");
}

#[test]
fn typst_markup_in_values_prints_literally() {
    let note = "#set page(width: 1pt) $x$ *bold* _under_ @ref <label> back\\slash ] [ // not a comment";
    let name = "#text(red)[王喆堃] `raw` ~ --";
    let letter = Letter::builder(LetterKind::WageSettlement, Lang::ZhCn)
        .text("company", "A&B \"公司\" #1")
        .text("employee_name", name)
        .text("employee_no", "E_1*")
        .date("period_start", issue())
        .date("period_end", issue())
        .table("lines", [["#strong[x] $1$", "1,000.00"]])
        .text("total", "¥1,000.00")
        .date("pay_date", issue())
        .date("issue_date", issue())
        .text("note", note)
        .build()
        .expect("valid");
    let pdf = render_pdf(&letter, None, fonts()).expect("pdf");
    let text = pdf_text(&pdf);
    assert_contains_all(&text, &[note, name, "A&B \"公司\" #1", "E_1*", "#strong[x] $1$"], "escaped PDF");
    // A page 1pt wide would break every line into single characters.
    assert!(text.contains("工资结算单"), "{text}");
}

// ------------------------------------------------------------------ fonts

#[test]
fn discovery_without_a_cjk_font_fails_clearly() {
    let empty = tempfile::tempdir().expect("temp dir");
    let dirs = [empty.path().to_path_buf()];
    let e = Fonts::discover_in(&dirs, false).expect_err("no fonts at all");
    assert_eq!(e, LetterError::NoCjkFont { searched: dirs.to_vec() });
    assert_eq!(e.code(), "no_cjk_font");
    let message = e.to_string();
    assert!(message.contains(&empty.path().display().to_string()) && message.contains("fonts-noto-cjk"), "{message}");

    let gone = [PathBuf::from("/nonexistent/lizhi-fonts")];
    assert_eq!(err_code(Fonts::discover_in(&gone, false)), "font_dir");
}

#[test]
fn discovery_prefers_a_font_that_has_rare_name_characters() {
    let fonts = fonts();
    assert!(!fonts.cjk_family().is_empty() && fonts.face_count() > 0, "{fonts:?}");
    fn shareable<T: Send + Sync + Clone>(_: &T) {}
    shareable(fonts);
    // Cheap to share: a clone is the same font set.
    let clone = fonts.clone();
    assert_eq!(clone.cjk_family(), fonts.cjk_family());
}

#[test]
fn characters_without_a_glyph_are_an_error() {
    // An Egyptian hieroglyph: no CJK or Latin font has it.
    let letter =
        sample(LetterKind::TerminationCertificate, Lang::ZhCn).text("reason", "\u{13000}").build().expect("valid");
    let e = render_pdf(&letter, None, fonts()).expect_err("missing glyph");
    assert_eq!(e, LetterError::MissingGlyph { chars: "\u{13000}".into() });
}
