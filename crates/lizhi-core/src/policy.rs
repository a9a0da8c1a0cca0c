//! Policy profiles: every threshold and process step of absence handling as versioned parameters.
//!
//! Rule code never holds a constant; it reads a [`Policy`]. A legal entity starts from
//! [`Policy::defaults`] for its profile and overrides what its company rules (规章制度) say. A case snapshots the
//! version in force on its first absent day, so later edits never apply backwards. Policies are plain serde data
//! (TOML-friendly: scalars before tables, no `null`s) so `lizhi risk backtest --policy FILE` can try a candidate.

use crate::absence::Level;
use crate::values::PolicyProfile;
use serde::{Deserialize, Serialize};
use std::fmt;

/// "N unexplained scheduled days within a rolling window" (e.g. ≥ 5 in 365 days); a company rule, never statute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CumulativeRule {
    /// Fires when the window holds at least this many unexplained scheduled days.
    pub days: u32,
    /// Window length in CALENDAR days, ending with the evaluation date (365 ≈ a rolling 12 months).
    pub window_days: u32,
    /// Level raised when the rule fires; red unless the company rule treats it as a warning.
    #[serde(default = "red")]
    pub level: Level,
}

fn red() -> Level {
    Level::Red
}

fn yellow() -> Level {
    Level::Yellow
}

/// Activity drop against the person's own baseline: an early, supportive warning, never a ground for anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityRule {
    /// Off where monitoring activity is not lawful or not wanted (PIPL art. 13/17 purposes must cover it).
    pub enabled: bool,
    /// Recent window, in scheduled days (approved-leave days skipped) up to the evaluation date.
    pub recent_days: u32,
    /// Baseline window, in scheduled days (approved-leave days skipped) just before the recent window.
    pub baseline_days: u32,
    /// Fires when recent average ≤ this share of the baseline average; in (0, 1].
    pub drop_ratio: f64,
    /// Baselines below this many events per day never alarm, so quiet people are left alone; > 0.
    pub min_baseline_per_day: f64,
    /// Level raised when the rule fires; yellow by default (a prompt for a check-in).
    #[serde(default = "yellow")]
    pub level: Level,
}

/// Ways of serving a notice, in the order they must be tried (CN practice; an announcement while another method
/// was possible is invalid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMethod {
    /// Handed to the employee or an adult household member.
    InPerson,
    /// Left at the residence in front of witnesses (留置送达).
    WitnessedLodging,
    /// EMS / registered post to the address agreed in the contract, with tracking and receipt.
    Post,
    /// Email or messaging, valid only where the contract agrees to electronic service.
    Electronic,
    /// Public announcement (公告), only when whereabouts are unknown or the others failed.
    PublicNotice,
}

/// Steps that need a named human approver: the risk score never drives termination (PIPL art. 24).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HumanApprovals {
    /// Case review before the union is notified.
    pub case_review: bool,
    /// The letter notifying the union (LCL art. 43).
    pub union_letter: bool,
    /// The termination itself; validation refuses `false`.
    pub termination: bool,
    /// Falling back to public announcement.
    pub public_notice: bool,
}

/// Deadlines after termination, in calendar days from the effective date; `None` = no default in this profile
/// (set per entity), `Some(0)` = on the day.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostTermination {
    /// Termination certificate issued at termination (LCL art. 50; implementing regulations art. 24).
    pub certificate_at_termination: bool,
    /// Final pay for days worked (CN: at termination; some provinces differ; US: state law).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_pay_days: Option<u32>,
    /// Personnel file transfer (LCL art. 50: 15 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_transfer_days: Option<u32>,
    /// Social-insurance transfer (LCL art. 50: 15 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_insurance_transfer_days: Option<u32>,
    /// Housing fund change (Housing Provident Fund regulations: 30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub housing_fund_days: Option<u32>,
    /// Cap on monthly deductions for losses, percent of a month's wage (CN wage rules: 20%, never below the
    /// local minimum wage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_deduction_cap_percent: Option<u32>,
    /// Minimum retention of contracts and payroll, in years (LCL art. 50: 2 years).
    pub records_retention_years: u32,
}

/// Every absence threshold and absconding-process parameter of one legal entity, versioned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The profile these values started from (serialised by its name, e.g. `CN-default`).
    #[serde(with = "profile_name")]
    pub profile: PolicyProfile,
    /// Version, ≥ 1; a case records the version in force on its first absent day.
    pub version: u32,
    /// The company-rule clause this policy implements (CN: the absenteeism rule adopted under LCL art. 4 that
    /// an art. 39(2) termination relies on); empty until the entity fills it in.
    #[serde(default)]
    pub rule_reference: String,
    /// Red from this many consecutive unexplained scheduled days (CN company rule, commonly 3; IN standing
    /// orders commonly 8; US 3 no-call/no-show shifts). Never a statute.
    pub consecutive_red: u32,
    /// Yellow from this many consecutive unexplained scheduled days (CN: from the 1st).
    pub yellow_from: u32,
    /// First contact attempt on the day of the first absence.
    pub first_contact_same_day: bool,
    /// Logged contact attempts required before escalating (CN practice: ≥ 3), part of the burden of proof.
    pub contact_attempts_min: u32,
    /// Distinct channels those attempts must use (CN practice: ≥ 2, e.g. phone and WeCom).
    pub contact_channels_min: u32,
    /// A written return-to-work notice (催告返岗通知书) must be served before the case review.
    pub return_notice_required: bool,
    /// Days the employee has to respond, counted from proven receipt when `timers_from_receipt`.
    pub return_notice_response_days: u32,
    /// Return notices served at most before the case review.
    pub return_notices_max: u32,
    /// Deadlines run from proven receipt, not dispatch (CN practice: a notice arriving after its own deadline
    /// lost a case).
    pub timers_from_receipt: bool,
    /// Days after publication when a public announcement counts as served (CN civil procedure practice: 30).
    pub public_notice_days: u32,
    /// The union must be notified before terminating (LCL art. 43; without it the termination is unlawful).
    pub union_notice_required: bool,
    /// Workdays to wait for the union's reply (policy, not statute). Where there is no union, the local
    /// federation of trade unions is notified.
    pub union_wait_workdays: u32,
    /// Termination takes effect when the notice is served (CN).
    pub termination_effective_on_service: bool,
    /// A disciplinary hearing must precede dismissal (UK: no self-dismissal; ACAS code).
    pub termination_requires_hearing: bool,
    /// The hearing may go ahead in the employee's absence after due notice (UK).
    pub hearing_in_absence_allowed: bool,
    /// The dismissal letter offers an appeal (UK ACAS code).
    pub appeal_offered: bool,
    /// A show-cause notice must be served (IN certified standing orders).
    pub show_cause_required: bool,
    /// A domestic enquiry must be held before termination (IN standing orders).
    pub enquiry_required: bool,
    /// Screen for protected status/leave before review (US: FMLA/ADA/state leave; CN: statutory protections).
    pub protected_leave_screening: bool,
    /// Written resignation notice period in days (LCL art. 37: 30), for the resignation branch of a case.
    pub resignation_notice_days: u32,
    /// Resignation notice period during probation (LCL art. 37: 3).
    pub resignation_notice_days_probation: u32,
    /// Service methods in the order they must be tried.
    pub service_methods: Vec<ServiceMethod>,
    /// Cumulative rules, checked in addition to the consecutive one; none by default.
    #[serde(default)]
    pub cumulative: Vec<CumulativeRule>,
    /// Activity-drop early warning.
    pub activity: ActivityRule,
    /// Steps that need human approval.
    pub approvals: HumanApprovals,
    /// Post-termination deadlines.
    pub post_termination: PostTermination,
}

/// Why a policy was refused; codes are stable (policy editor, `--policy FILE`, translations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// A count or length that must be at least 1 is 0; `field` names it.
    MustBePositive {
        /// Dotted field path, e.g. `activity.recent_days`.
        field: &'static str,
    },
    /// `yellow_from` is above `consecutive_red`, so red would come before yellow.
    YellowAfterRed,
    /// A ratio or rate is outside its range (not finite, ≤ 0, or a ratio above 1); `field` names it.
    OutOfRange {
        /// Dotted field path.
        field: &'static str,
    },
    /// A cumulative rule needs more days than its window holds, so it could never fire.
    CumulativeDaysExceedWindow {
        /// Position of the rule in `cumulative`.
        index: usize,
    },
    /// A rule is configured to raise `green`, which raises nothing.
    GreenRuleLevel {
        /// Dotted field path.
        field: &'static str,
    },
    /// More channels than attempts are required, which no contact log can satisfy.
    ChannelsExceedAttempts,
    /// No way to serve a notice, or one method listed twice.
    InvalidServiceMethods,
    /// Public announcement listed before another method; it is only lawful as the last resort.
    PublicNoticeNotLast,
    /// Termination without human approval; refused because a score may never decide it (PIPL art. 24).
    TerminationNeedsApproval,
}

impl PolicyError {
    /// The stable machine-readable code, also the suffix of the translation key `error-<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::MustBePositive { .. } => "must_be_positive",
            PolicyError::YellowAfterRed => "yellow_after_red",
            PolicyError::OutOfRange { .. } => "out_of_range",
            PolicyError::CumulativeDaysExceedWindow { .. } => "cumulative_days_exceed_window",
            PolicyError::GreenRuleLevel { .. } => "green_rule_level",
            PolicyError::ChannelsExceedAttempts => "channels_exceed_attempts",
            PolicyError::InvalidServiceMethods => "invalid_service_methods",
            PolicyError::PublicNoticeNotLast => "public_notice_not_last",
            PolicyError::TerminationNeedsApproval => "termination_needs_approval",
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::MustBePositive { field }
            | PolicyError::OutOfRange { field }
            | PolicyError::GreenRuleLevel { field } => write!(f, "{}: {field}", self.code()),
            PolicyError::CumulativeDaysExceedWindow { index } => write!(f, "{}: cumulative[{index}]", self.code()),
            other => f.write_str(other.code()),
        }
    }
}

impl std::error::Error for PolicyError {}

impl Policy {
    /// The shipped defaults of a profile (version 1), the starting point an entity overrides. CN follows
    /// DOMAIN.md's table; the others change only what their jurisdiction changes (all are practice to be checked
    /// against local counsel, not statute):
    /// - US-generic: 3 consecutive no-call/no-show scheduled shifts, protected-leave screening (FMLA/ADA/state)
    ///   first, no union step, no mandatory return notice (a letter is common), no public announcement, final
    ///   pay left to state law, payroll records 3 years (FLSA record-keeping).
    /// - UK: same 3-day trigger but no self-dismissal: contact, letters, a disciplinary hearing (may be held in
    ///   absence) and a dismissal letter with appeal; no union step; records 6 years (contract limitation).
    /// - IN: certified standing orders, commonly 8 days; a notice to resume (7 days to respond), show-cause and
    ///   domestic enquiry before termination; no union step by default; records 3 years.
    pub fn defaults(profile: PolicyProfile) -> Self {
        let cn = Policy {
            profile: PolicyProfile::CnDefault,
            version: 1,
            rule_reference: String::new(),
            consecutive_red: 3,
            yellow_from: 1,
            first_contact_same_day: true,
            contact_attempts_min: 3,
            contact_channels_min: 2,
            return_notice_required: true,
            return_notice_response_days: 3,
            return_notices_max: 2,
            timers_from_receipt: true,
            public_notice_days: 30,
            union_notice_required: true,
            union_wait_workdays: 5,
            termination_effective_on_service: true,
            termination_requires_hearing: false,
            hearing_in_absence_allowed: false,
            appeal_offered: false,
            show_cause_required: false,
            enquiry_required: false,
            protected_leave_screening: true,
            resignation_notice_days: 30,
            resignation_notice_days_probation: 3,
            cumulative: Vec::new(),
            activity: ActivityRule {
                enabled: true,
                recent_days: 5,
                baseline_days: 40,
                drop_ratio: 0.5,
                min_baseline_per_day: 2.0,
                level: Level::Yellow,
            },
            service_methods: vec![
                ServiceMethod::InPerson,
                ServiceMethod::WitnessedLodging,
                ServiceMethod::Post,
                ServiceMethod::Electronic,
                ServiceMethod::PublicNotice,
            ],
            approvals: HumanApprovals { case_review: true, union_letter: true, termination: true, public_notice: true },
            post_termination: PostTermination {
                certificate_at_termination: true,
                final_pay_days: Some(0),
                file_transfer_days: Some(15),
                social_insurance_transfer_days: Some(15),
                housing_fund_days: Some(30),
                loss_deduction_cap_percent: Some(20),
                records_retention_years: 2,
            },
        };
        let foreign_service = vec![ServiceMethod::InPerson, ServiceMethod::Post, ServiceMethod::Electronic];
        let foreign_after = PostTermination { certificate_at_termination: false, ..PostTermination::default() };
        match profile {
            PolicyProfile::CnDefault => cn,
            PolicyProfile::UsGeneric => Policy {
                profile,
                union_notice_required: false,
                union_wait_workdays: 0,
                return_notice_required: false,
                return_notices_max: 1,
                public_notice_days: 0,
                service_methods: foreign_service,
                post_termination: PostTermination { records_retention_years: 3, ..foreign_after },
                approvals: HumanApprovals { union_letter: false, public_notice: false, ..cn.approvals.clone() },
                ..cn
            },
            PolicyProfile::Uk => Policy {
                profile,
                union_notice_required: false,
                union_wait_workdays: 0,
                return_notices_max: 2,
                public_notice_days: 0,
                termination_requires_hearing: true,
                hearing_in_absence_allowed: true,
                appeal_offered: true,
                service_methods: foreign_service,
                post_termination: PostTermination { records_retention_years: 6, ..foreign_after },
                approvals: HumanApprovals { union_letter: false, public_notice: false, ..cn.approvals.clone() },
                ..cn
            },
            PolicyProfile::In => Policy {
                profile,
                consecutive_red: 8,
                union_notice_required: false,
                union_wait_workdays: 0,
                return_notices_max: 1,
                return_notice_response_days: 7,
                public_notice_days: 0,
                show_cause_required: true,
                enquiry_required: true,
                service_methods: foreign_service,
                post_termination: PostTermination { records_retention_years: 3, ..foreign_after },
                approvals: HumanApprovals { union_letter: false, public_notice: false, ..cn.approvals.clone() },
                ..cn
            },
        }
    }

    /// Refuses values that would make the rules meaningless or the process unlawful; the first problem found
    /// is returned, in field order, so the same file always reports the same error.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let positive = |v: u32, field| if v == 0 { Err(PolicyError::MustBePositive { field }) } else { Ok(()) };
        positive(self.version, "version")?;
        positive(self.consecutive_red, "consecutive_red")?;
        positive(self.yellow_from, "yellow_from")?;
        if self.yellow_from > self.consecutive_red {
            return Err(PolicyError::YellowAfterRed);
        }
        positive(self.contact_attempts_min, "contact_attempts_min")?;
        positive(self.contact_channels_min, "contact_channels_min")?;
        if self.contact_channels_min > self.contact_attempts_min {
            return Err(PolicyError::ChannelsExceedAttempts);
        }
        if self.return_notice_required {
            positive(self.return_notice_response_days, "return_notice_response_days")?;
            positive(self.return_notices_max, "return_notices_max")?;
        }
        for (index, rule) in self.cumulative.iter().enumerate() {
            positive(rule.days, "cumulative.days")?;
            positive(rule.window_days, "cumulative.window_days")?;
            if rule.days > rule.window_days {
                return Err(PolicyError::CumulativeDaysExceedWindow { index });
            }
            if rule.level == Level::Green {
                return Err(PolicyError::GreenRuleLevel { field: "cumulative.level" });
            }
        }
        let a = &self.activity;
        positive(a.recent_days, "activity.recent_days")?;
        positive(a.baseline_days, "activity.baseline_days")?;
        if !(a.drop_ratio.is_finite() && a.drop_ratio > 0.0 && a.drop_ratio <= 1.0) {
            return Err(PolicyError::OutOfRange { field: "activity.drop_ratio" });
        }
        if !(a.min_baseline_per_day.is_finite() && a.min_baseline_per_day > 0.0) {
            return Err(PolicyError::OutOfRange { field: "activity.min_baseline_per_day" });
        }
        if a.level == Level::Green {
            return Err(PolicyError::GreenRuleLevel { field: "activity.level" });
        }
        let methods = &self.service_methods;
        let duplicated = methods.iter().enumerate().any(|(i, m)| methods[..i].contains(m));
        if methods.is_empty() || duplicated {
            return Err(PolicyError::InvalidServiceMethods);
        }
        if let Some(pos) = methods.iter().position(|m| *m == ServiceMethod::PublicNotice) {
            if pos + 1 != methods.len() {
                return Err(PolicyError::PublicNoticeNotLast);
            }
            positive(self.public_notice_days, "public_notice_days")?;
        }
        if !self.approvals.termination {
            return Err(PolicyError::TerminationNeedsApproval);
        }
        Ok(())
    }
}

/// Serialises [`PolicyProfile`] by its public name, because files and the database already use those names.
mod profile_name {
    use crate::values::PolicyProfile;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(p: &PolicyProfile, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PolicyProfile, D::Error> {
        let raw = String::deserialize(d)?;
        PolicyProfile::parse(&raw).map_err(|e| D::Error::custom(format!("{}: {raw}", e.code())))
    }
}
