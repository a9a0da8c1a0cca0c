//! Tests of the letters: every kind in every language to HTML and PDF, with
//! the PDF read back by poppler's `pdftotext`, so what is checked is what a
//! printer would print, not what we meant to write.

mod render;
mod rules;

use std::io::Write as _;
use std::process::Command;
use std::sync::OnceLock;

use chrono::NaiveDate;
use lizhi_docs::letters::{Fonts, Lang, Letter, LetterBuilder, LetterKind, format_date};

/// A name with two characters that GB2312-only fonts lack.
pub const NAME: &str = "王喆堃";
pub const COMPANY_ZH: &str = "离职示例科技有限公司";
pub const COMPANY_EN: &str = "Lizhi Example Technology Co., Ltd.";

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

pub const ISSUE: (i32, u32, u32) = (2026, 3, 20);

pub fn issue() -> NaiveDate {
    d(ISSUE.0, ISSUE.1, ISSUE.2)
}

/// The fonts of this machine, scanned once for the whole test binary.
pub fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        Fonts::discover(&[]).unwrap_or_else(|e| panic!("PDF tests need a CJK font (CI installs fonts-noto-cjk): {e}"))
    })
}

/// The text of a PDF as poppler extracts it with `-layout`.
pub fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().expect("temp file");
    file.write_all(pdf).expect("write PDF");
    let output = match Command::new("pdftotext").arg("-layout").arg(file.path()).arg("-").output() {
        Ok(output) => output,
        Err(e) => panic!(
            "cannot run pdftotext ({e}): install the Debian package poppler-utils, as .ci/run does, \
             to check the text of generated PDFs"
        ),
    };
    assert!(output.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("pdftotext writes UTF-8")
}

/// Text without any whitespace, so checks do not depend on where lines wrap
/// or how `-layout` spaces justified text.
pub fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Asserts that `haystack` (squashed) contains each needle (squashed).
#[track_caller]
pub fn assert_contains_all(haystack: &str, needles: &[&str], what: &str) {
    let squashed = squash(haystack);
    for needle in needles {
        assert!(squashed.contains(&squash(needle)), "{what} lacks {needle:?}:\n{haystack}");
    }
}

pub fn company(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => COMPANY_ZH,
        Lang::En => COMPANY_EN,
    }
}

fn contact(b: LetterBuilder) -> LetterBuilder {
    b.text("hr_contact_name", "刘晓")
        .text("hr_contact_phone", "010-8888 6666")
        .text("hr_contact_email", "hr@example.cn")
}

fn rule(b: LetterBuilder, lang: Lang) -> LetterBuilder {
    match lang {
        Lang::ZhCn => b
            .text("rule_clause", "《员工手册》（2025年版）第5.3条")
            .text("rule_text", "员工连续旷工3个工作日及以上的，属于严重违反公司规章制度，公司可以解除劳动合同。"),
        Lang::En => b.text("rule_clause", "Clause 5.3 of the Employee Handbook (2025 edition)").text(
            "rule_text",
            "Absence without leave on 3 or more consecutive workdays is a serious violation of the company's rules, \
             for which the company may terminate the labour contract.",
        ),
    }
}

pub fn absent() -> Vec<NaiveDate> {
    vec![d(2026, 3, 2), d(2026, 3, 3), d(2026, 3, 4)]
}

fn notices(lang: Lang) -> Vec<Vec<String>> {
    let row =
        |doc: &str, method: &str, date: NaiveDate| vec![doc.to_owned(), method.to_owned(), format_date(date, lang)];
    match lang {
        Lang::ZhCn => vec![
            row("第1次催告返岗通知书", "EMS 1234567890123", d(2026, 3, 7)),
            row("第2次催告返岗通知书", "EMS 1234567890456", d(2026, 3, 12)),
        ],
        Lang::En => vec![
            row("Notice to return to work no. 1", "EMS 1234567890123", d(2026, 3, 7)),
            row("Notice to return to work no. 2", "EMS 1234567890456", d(2026, 3, 12)),
        ],
    }
}

/// A complete letter of each kind, with every optional field that makes
/// sense set (the certificate's reason is left out: see the rules tests).
pub fn sample(kind: LetterKind, lang: Lang) -> LetterBuilder {
    let zh = lang == Lang::ZhCn;
    let b = Letter::builder(kind, lang)
        .text("company", company(lang))
        .text("reference", "HR-2026-017")
        .text("employee_name", NAME)
        .text("employee_no", "E1024");
    match kind {
        LetterKind::ReturnToWorkNotice => {
            let b = b
                .text("position", if zh { "高级工程师" } else { "Senior Engineer" })
                .text("contract_address", "北京市海淀区中关村大街1号 100080")
                .number("notice_sequence", 2)
                .dates("absent_dates", absent())
                .number("response_days", 3)
                .date("issue_date", issue());
            contact(rule(b, lang))
        }
        LetterKind::UnionNotice => {
            let b = b
                .text(
                    "union_name",
                    if zh {
                        "离职示例科技有限公司工会委员会"
                    } else {
                        "Trade Union Committee of Lizhi Example"
                    },
                )
                .text("position", if zh { "高级工程师" } else { "Senior Engineer" })
                .dates("absent_dates", absent())
                .table("notices_served", notices(lang))
                .number("reply_workdays", 5)
                .date("issue_date", issue());
            contact(rule(b, lang))
        }
        LetterKind::TerminationNotice => {
            let b = b
                .text("position", if zh { "高级工程师" } else { "Senior Engineer" })
                .dates("absent_dates", absent())
                .table("notices_served", notices(lang))
                .date("union_notified_on", d(2026, 3, 16))
                .date("final_pay_date", d(2026, 3, 31))
                .list("items_to_return", if zh { ["工卡", "笔记本电脑"] } else { ["badge", "laptop"] })
                .date("issue_date", issue());
            contact(rule(b, lang))
        }
        LetterKind::PublicNotice => {
            let attempts = vec![
                vec![
                    format_date(d(2026, 3, 21), lang),
                    "EMS 1234567890789".into(),
                    if zh { "查无此人，退回" } else { "Returned: addressee unknown" }.into(),
                ],
                vec![
                    format_date(d(2026, 3, 23), lang),
                    if zh { "上门送达" } else { "Delivery in person" }.into(),
                    if zh { "无人应答" } else { "Nobody answered" }.into(),
                ],
            ];
            let b = b
                .text("position", if zh { "高级工程师" } else { "Senior Engineer" })
                .dates("absent_dates", absent())
                .table("service_attempts", attempts)
                .date("decision_date", issue())
                .text("collect_address", "北京市海淀区中关村大街1号 人力资源部")
                .date("publication_date", d(2026, 3, 25))
                .text(
                    "rule_clause",
                    if zh {
                        "《员工手册》（2025年版）第5.3条"
                    } else {
                        "clause 5.3 of the Employee Handbook"
                    },
                );
            contact(b)
        }
        LetterKind::TerminationCertificate => b
            .text("id_number", "110101199001011234")
            .date("contract_start", d(2021, 7, 1))
            .date("contract_end", d(2027, 6, 30))
            .date("termination_date", d(2026, 3, 20))
            .text("position", if zh { "高级工程师" } else { "Senior Engineer" })
            .text("years_of_service", if zh { "4年8个月" } else { "4 years 8 months" })
            .date("issue_date", issue()),
        LetterKind::WageSettlement => b
            .text("department", if zh { "研发部" } else { "Research and Development" })
            .date("period_start", d(2026, 3, 1))
            .date("period_end", d(2026, 3, 20))
            .table(
                "lines",
                if zh {
                    [
                        ["3月1日至3月20日基本工资", "12,000.00"],
                        ["未休年休假工资", "2,758.62"],
                        ["社会保险个人部分", "-1,230.00"],
                    ]
                } else {
                    [
                        ["Base wage 1 to 20 March", "12,000.00"],
                        ["Untaken annual leave", "2,758.62"],
                        ["Employee social insurance", "-1,230.00"],
                    ]
                },
            )
            .text("total", "¥13,528.62")
            .date("pay_date", d(2026, 3, 31))
            .text("payment_method", if zh { "转账至工资卡" } else { "Bank transfer to the salary account" })
            .date("issue_date", issue()),
    }
}

/// Facts each kind must state, beyond the title, name, company and date.
pub fn required_facts(kind: LetterKind, lang: Lang) -> Vec<String> {
    let zh = lang == Lang::ZhCn;
    let date = |y, m, day| format_date(d(y, m, day), lang);
    let facts: Vec<String> = match (kind, zh) {
        (LetterKind::ReturnToWorkNotice, true) => {
            vec![
                "自收到本通知之日起3日内".into(),
                date(2026, 3, 2),
                "第三十九条第（二）项".into(),
                "010-8888 6666".into(),
            ]
        }
        (LetterKind::ReturnToWorkNotice, false) => {
            vec![
                "Within 3 days of receiving this notice".into(),
                date(2026, 3, 2),
                "Article 39(2)".into(),
                "010-8888 6666".into(),
            ]
        }
        (LetterKind::UnionNotice, true) => {
            vec!["第四十三条".into(), "第三十九条第（二）项".into(), "5个工作日内".into(), date(2026, 3, 12)]
        }
        (LetterKind::UnionNotice, false) => {
            vec!["Article 43".into(), "Article 39(2)".into(), "within 5 workdays".into(), date(2026, 3, 12)]
        }
        (LetterKind::TerminationNotice, true) => vec![
            "自送达你之日起生效".into(),
            "第三十九条第（二）项".into(),
            "十五日内".into(),
            "三十日内".into(),
            "解除劳动合同证明".into(),
            "工卡、笔记本电脑".into(),
        ],
        (LetterKind::TerminationNotice, false) => vec![
            "takes effect on the day it is served on you".into(),
            "Article 39(2)".into(),
            "Within 15 days".into(),
            "within 30 days".into(),
            "certificate of termination".into(),
            "badge, laptop".into(),
        ],
        (LetterKind::PublicNotice, true) => {
            vec![
                "经过三十日，即视为送达".into(),
                "下落不明".into(),
                format!("{}、{}", date(2026, 3, 2), date(2026, 3, 3)),
            ]
        }
        (LetterKind::PublicNotice, false) => {
            vec![
                "deemed served 30 days after".into(),
                "whereabouts are unknown".into(),
                format!("{}, {}", date(2026, 3, 2), date(2026, 3, 3)),
            ]
        }
        (LetterKind::TerminationCertificate, true) => {
            vec![date(2021, 7, 1), date(2027, 6, 30), date(2026, 3, 20), "高级工程师".into(), "4年8个月".into()]
        }
        (LetterKind::TerminationCertificate, false) => {
            vec![
                date(2021, 7, 1),
                date(2027, 6, 30),
                date(2026, 3, 20),
                "Senior Engineer".into(),
                "4 years 8 months".into(),
            ]
        }
        (LetterKind::WageSettlement, _) => {
            vec!["12,000.00".into(), "-1,230.00".into(), "¥13,528.62".into(), date(2026, 3, 31)]
        }
    };
    facts
}
