//! The document kinds, their typed field lists and their built-in templates.

/// The language a letter is written in.
///
/// The language decides the built-in template, how dates, lists and table
/// headers are written, and the hyphenation and line-breaking rules of the
/// PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Simplified Chinese as used in mainland China.
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// Both languages, for code that has to cover every template.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag (`zh-CN`, `en`), used in the HTML `lang` attribute and
    /// as the stable identifier in settings.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language for a BCP 47 tag written by [`code`](Lang::code), so
    /// settings can store the tag.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code().eq_ignore_ascii_case(code))
    }
}

/// One column of a table-valued field. The header is fixed per kind and
/// language so a caller cannot mislabel, for example, the amount column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Stable identifier of the column.
    pub key: &'static str,
    /// Header in Chinese.
    pub zh: &'static str,
    /// Header in English.
    pub en: &'static str,
    /// Whether cells are numbers (right-aligned), such as amounts.
    pub numeric: bool,
}

impl Column {
    /// The header in the given language.
    #[must_use]
    pub fn header(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::ZhCn => self.zh,
            Lang::En => self.en,
        }
    }
}

/// The type of a field, which decides how a value is checked and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Free text (a name, an address, a clause). Newlines become line breaks.
    Text,
    /// A calendar date, written in the letter's language (2026年3月5日, 5 March 2026).
    Date,
    /// A whole number such as a count of days.
    Number,
    /// A list of texts: a bulleted list on a `- {{field}}` line, a joined
    /// phrase (、 or ", ") elsewhere.
    List,
    /// A list of dates, written like [`List`](FieldType::List).
    DateList,
    /// A table with fixed columns; its placeholder must be alone on a line.
    Table(&'static [Column]),
}

impl FieldType {
    /// A short English name of the type for error messages.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Date => "date",
            FieldType::Number => "number",
            FieldType::List => "list",
            FieldType::DateList => "date list",
            FieldType::Table(_) => "table",
        }
    }
}

/// A field of a document kind: what a caller must or may supply and what a
/// template may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The name used in code and in template placeholders.
    pub name: &'static str,
    /// The value type.
    pub ty: FieldType,
    /// Whether every letter of the kind must have it (and every template must
    /// show it).
    pub required: bool,
    /// What the field holds (English), for the template editor's help.
    pub about: &'static str,
}

const fn req(name: &'static str, ty: FieldType, about: &'static str) -> FieldSpec {
    FieldSpec { name, ty, required: true, about }
}

const fn opt(name: &'static str, ty: FieldType, about: &'static str) -> FieldSpec {
    FieldSpec { name, ty, required: false, about }
}

use FieldType::{Date, DateList, List, Number, Table, Text};

const NOTICES_SERVED: &[Column] = &[
    Column { key: "document", zh: "送达文书", en: "Document", numeric: false },
    Column { key: "method", zh: "送达方式", en: "Method of service", numeric: false },
    Column { key: "received_on", zh: "签收（送达）日期", en: "Received on", numeric: false },
];

const SERVICE_ATTEMPTS: &[Column] = &[
    Column { key: "date", zh: "日期", en: "Date", numeric: false },
    Column { key: "method", zh: "送达方式", en: "Method of service", numeric: false },
    Column { key: "result", zh: "结果", en: "Outcome", numeric: false },
];

const WAGE_LINES: &[Column] = &[
    Column { key: "item", zh: "项目", en: "Item", numeric: false },
    Column { key: "amount", zh: "金额", en: "Amount", numeric: true },
];

const COMPANY: FieldSpec = req("company", Text, "Employer's full registered name.");
const REFERENCE: FieldSpec = opt("reference", Text, "Document number in the company's register.");
const EMPLOYEE_NAME: FieldSpec = req("employee_name", Text, "Employee's full legal name.");
const EMPLOYEE_NO: FieldSpec = req("employee_no", Text, "Employee number.");
const POSITION: FieldSpec = req("position", Text, "Position (job title) under the labour contract.");
const ABSENT_DATES: FieldSpec =
    req("absent_dates", DateList, "Scheduled workdays absent without leave or explanation.");
const RULE_CLAUSE: FieldSpec =
    req("rule_clause", Text, "The company rule and clause on absenteeism, e.g. 《员工手册》第5.3条.");
const RULE_TEXT: FieldSpec = req("rule_text", Text, "Verbatim text of that clause.");
const NOTICES: FieldSpec =
    req("notices_served", Table(NOTICES_SERVED), "Return-to-work notices served, with method and proven receipt date.");
const HR_NAME: FieldSpec = req("hr_contact_name", Text, "Name of the HR contact person.");
const HR_PHONE: FieldSpec = req("hr_contact_phone", Text, "Telephone of the HR contact.");
const HR_EMAIL: FieldSpec = opt("hr_contact_email", Text, "E-mail of the HR contact.");
const ISSUE_DATE: FieldSpec = req("issue_date", Date, "Date the document is issued.");
const NOTE: FieldSpec = opt("note", Text, "Additional remarks, shown in their own section.");

const RETURN_TO_WORK: &[FieldSpec] = &[
    COMPANY,
    REFERENCE,
    EMPLOYEE_NAME,
    EMPLOYEE_NO,
    POSITION,
    req("contract_address", Text, "Service address agreed in the labour contract."),
    req("notice_sequence", Number, "Which notice this is (1 for the first, 2 for the second)."),
    ABSENT_DATES,
    RULE_CLAUSE,
    RULE_TEXT,
    req("response_days", Number, "Days, counted from receipt of the notice, to return or explain."),
    HR_NAME,
    HR_PHONE,
    HR_EMAIL,
    ISSUE_DATE,
    NOTE,
];

const UNION: &[FieldSpec] = &[
    COMPANY,
    REFERENCE,
    req("union_name", Text, "The trade union (or local federation) notified."),
    EMPLOYEE_NAME,
    EMPLOYEE_NO,
    POSITION,
    ABSENT_DATES,
    NOTICES,
    RULE_CLAUSE,
    RULE_TEXT,
    req("reply_workdays", Number, "Workdays the union is asked to reply within."),
    HR_NAME,
    HR_PHONE,
    HR_EMAIL,
    ISSUE_DATE,
    NOTE,
];

const TERMINATION: &[FieldSpec] = &[
    COMPANY,
    REFERENCE,
    EMPLOYEE_NAME,
    EMPLOYEE_NO,
    POSITION,
    ABSENT_DATES,
    NOTICES,
    RULE_CLAUSE,
    RULE_TEXT,
    opt("union_notified_on", Date, "Date the trade union was notified (LCL art. 43)."),
    opt("final_pay_date", Date, "Date the final wages are paid."),
    opt("items_to_return", List, "Company property to return (badge, laptop, …)."),
    HR_NAME,
    HR_PHONE,
    HR_EMAIL,
    ISSUE_DATE,
    NOTE,
];

const PUBLIC: &[FieldSpec] = &[
    COMPANY,
    REFERENCE,
    EMPLOYEE_NAME,
    EMPLOYEE_NO,
    POSITION,
    ABSENT_DATES,
    RULE_CLAUSE,
    req("service_attempts", Table(SERVICE_ATTEMPTS), "Earlier attempts to serve the decision and their outcome."),
    req("decision_date", Date, "Date the termination decision was made."),
    opt("collect_address", Text, "Where the employee can collect the documents."),
    HR_NAME,
    HR_PHONE,
    HR_EMAIL,
    req("publication_date", Date, "Date of publication; service is deemed 30 days later."),
    NOTE,
];

const CERTIFICATE: &[FieldSpec] = &[
    COMPANY,
    REFERENCE,
    EMPLOYEE_NAME,
    EMPLOYEE_NO,
    opt("id_number", Text, "Identity document number, if the company states it."),
    req("contract_start", Date, "First day of the labour contract."),
    opt("contract_end", Date, "Agreed end of a fixed-term contract; absent for an open-ended one."),
    req("termination_date", Date, "Date the contract was terminated."),
    POSITION,
    req("years_of_service", Text, "Years of service, written in the letter's language."),
    opt("reason", Text, "Reason for termination, ONLY if the employee asked for it (LCL art. 50)."),
    ISSUE_DATE,
];

const WAGES: &[FieldSpec] = &[
    COMPANY,
    REFERENCE,
    EMPLOYEE_NAME,
    EMPLOYEE_NO,
    opt("department", Text, "Department."),
    req("period_start", Date, "First day covered by the settlement."),
    req("period_end", Date, "Last day covered (the termination date)."),
    req("lines", Table(WAGE_LINES), "Wage items and amounts; deductions as negative amounts."),
    req("total", Text, "Net amount payable, with currency."),
    req("pay_date", Date, "Date the amount is paid."),
    opt("payment_method", Text, "How it is paid (bank transfer to the salary account, …)."),
    ISSUE_DATE,
    NOTE,
];

/// The kinds of letter a separation case produces.
///
/// Each kind has a fixed, typed field list ([`fields`](LetterKind::fields))
/// so the case logic cannot forget a legally required fact, and a built-in
/// template per language that an admin may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LetterKind {
    /// 催告返岗通知书: asks an absent employee to return or explain, within a
    /// period counted from receipt.
    ReturnToWorkNotice,
    /// 解除劳动合同通知工会函: notifies the union before termination (LCL art. 43).
    UnionNotice,
    /// 解除劳动合同通知书: the termination under LCL art. 39(2), effective on service.
    TerminationNotice,
    /// 公告: public announcement when the employee's whereabouts are unknown.
    PublicNotice,
    /// 解除劳动合同证明: the certificate of termination (LCL art. 50).
    TerminationCertificate,
    /// Wage settlement sheet for the final pay.
    WageSettlement,
}

impl LetterKind {
    /// Every kind, for code that has to cover all of them.
    pub const ALL: [LetterKind; 6] = [
        LetterKind::ReturnToWorkNotice,
        LetterKind::UnionNotice,
        LetterKind::TerminationNotice,
        LetterKind::PublicNotice,
        LetterKind::TerminationCertificate,
        LetterKind::WageSettlement,
    ];

    /// A stable snake_case identifier, used in settings (template overrides)
    /// and the database.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            LetterKind::ReturnToWorkNotice => "return_to_work_notice",
            LetterKind::UnionNotice => "union_notice",
            LetterKind::TerminationNotice => "termination_notice",
            LetterKind::PublicNotice => "public_notice",
            LetterKind::TerminationCertificate => "termination_certificate",
            LetterKind::WageSettlement => "wage_settlement",
        }
    }

    /// The kind for a code written by [`code`](LetterKind::code).
    #[must_use]
    pub fn from_code(code: &str) -> Option<LetterKind> {
        LetterKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The typed field list: what a [`Letter`](super::Letter) of this kind
    /// must or may contain and what a template may show.
    #[must_use]
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            LetterKind::ReturnToWorkNotice => RETURN_TO_WORK,
            LetterKind::UnionNotice => UNION,
            LetterKind::TerminationNotice => TERMINATION,
            LetterKind::PublicNotice => PUBLIC,
            LetterKind::TerminationCertificate => CERTIFICATE,
            LetterKind::WageSettlement => WAGES,
        }
    }

    /// The specification of one field, if the kind has it.
    #[must_use]
    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// The built-in template text, shown to admins as the starting point of
    /// an override and used when there is none.
    #[must_use]
    pub fn builtin_template(self, lang: Lang) -> &'static str {
        macro_rules! pick {
            ($file:literal) => {
                match lang {
                    Lang::ZhCn => include_str!(concat!("../../letters/zh-CN/", $file, ".txt")),
                    Lang::En => include_str!(concat!("../../letters/en/", $file, ".txt")),
                }
            };
        }
        match self {
            LetterKind::ReturnToWorkNotice => pick!("return_to_work_notice"),
            LetterKind::UnionNotice => pick!("union_notice"),
            LetterKind::TerminationNotice => pick!("termination_notice"),
            LetterKind::PublicNotice => pick!("public_notice"),
            LetterKind::TerminationCertificate => pick!("termination_certificate"),
            LetterKind::WageSettlement => pick!("wage_settlement"),
        }
    }

    /// The document's title, used for the HTML `<title>` and PDF metadata when
    /// a template has no `# ` title line.
    #[must_use]
    pub fn title(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (LetterKind::ReturnToWorkNotice, Lang::ZhCn) => "催告返岗通知书",
            (LetterKind::ReturnToWorkNotice, Lang::En) => "Notice to Return to Work",
            (LetterKind::UnionNotice, Lang::ZhCn) => "解除劳动合同通知工会函",
            (LetterKind::UnionNotice, Lang::En) => "Notification to the Trade Union of Intended Termination",
            (LetterKind::TerminationNotice, Lang::ZhCn) => "解除劳动合同通知书",
            (LetterKind::TerminationNotice, Lang::En) => "Notice of Termination of the Labour Contract",
            (LetterKind::PublicNotice, Lang::ZhCn) => "公告",
            (LetterKind::PublicNotice, Lang::En) => "Public Notice",
            (LetterKind::TerminationCertificate, Lang::ZhCn) => "解除劳动合同证明",
            (LetterKind::TerminationCertificate, Lang::En) => "Certificate of Termination of the Labour Contract",
            (LetterKind::WageSettlement, Lang::ZhCn) => "工资结算单",
            (LetterKind::WageSettlement, Lang::En) => "Final Wage Settlement",
        }
    }
}
