//! Checklist templates: the handover, asset, access, finance and legal tasks a case generates when it is
//! approved, with owners and deadlines.
//!
//! Deadlines that the law sets (certificate at termination, file and social-insurance transfer within 15 days,
//! housing fund within 30) are computed from the policy and the termination date, never typed in; a period
//! ending on a rest day moves to the next workday. Paying stops only once termination is effective: stopping
//! social insurance earlier gives the employee a ground to resign with compensation (LCL art. 38).

use super::CaseType;
use crate::auth::Role;
use crate::calendar::WorkCalendar;
use crate::policy::Policy;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// The five groups of a checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Work, reports and knowledge handed over.
    Handover,
    /// Company property returned.
    Assets,
    /// Accounts and access revoked.
    Access,
    /// Pay and settlement.
    Finance,
    /// Certificates, transfers and records.
    Legal,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Category; 5] =
        [Category::Handover, Category::Assets, Category::Access, Category::Finance, Category::Legal];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            Category::Handover => "handover",
            Category::Assets => "assets",
            Category::Access => "access",
            Category::Finance => "finance",
            Category::Legal => "legal",
        }
    }
}

/// Who owns an item; resolved to a person when the checklist is generated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// A user holding this role (the first one found; reassignable).
    Role(Role),
    /// The employee's department head (the same resolution as in approval chains).
    DepartmentHead,
    /// The HR person who opened the case.
    CaseOwner,
}

/// When an item is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// This many workdays after the case is approved.
    WorkdaysAfterApproval(u32),
    /// On the day termination takes effect.
    AtTermination,
    /// This many calendar days after termination (a statutory period), moved to a workday when it ends on
    /// a rest day.
    DaysAfterTermination(u32),
}

/// One item of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemTemplate {
    /// Stable key; also the translation key `checklist-<key>`.
    pub key: String,
    /// Group.
    pub category: Category,
    /// Owner.
    pub owner: Owner,
    /// Deadline rule.
    pub due: Due,
    /// The item cannot be completed before termination is effective (stop-pay signal).
    pub after_termination_only: bool,
}

impl ItemTemplate {
    fn new(key: &str, category: Category, owner: Owner, due: Due) -> Self {
        ItemTemplate { key: key.into(), category, owner, due, after_termination_only: false }
    }

    /// The due date, once the dates it depends on are known; `None` while termination is pending.
    pub fn due_on(
        &self,
        approved_on: NaiveDate,
        terminated_on: Option<NaiveDate>,
        calendar: &WorkCalendar,
    ) -> Option<NaiveDate> {
        match self.due {
            Due::WorkdaysAfterApproval(n) => Some(calendar.add_workdays(approved_on, n)),
            Due::AtTermination => terminated_on,
            Due::DaysAfterTermination(n) => {
                let last = terminated_on?.checked_add_days(Days::new(n.into()))?;
                Some(calendar.next_workday_from(last))
            }
        }
    }
}

/// The key of the per-asset item generated for each asset assigned to the person.
pub const ASSET_RETURN_KEY: &str = "return_asset";

/// The shipped checklist of a case type under a policy. Items whose law-derived period the policy leaves
/// unset (e.g. no housing fund outside China) are left out.
pub fn default_items(case_type: CaseType, policy: &Policy) -> Vec<ItemTemplate> {
    use Category::*;
    let after = &policy.post_termination;
    let mut items = vec![
        ItemTemplate::new("reassign_reports", Handover, Owner::DepartmentHead, Due::WorkdaysAfterApproval(2)),
        ItemTemplate::new("reassign_work", Handover, Owner::DepartmentHead, Due::WorkdaysAfterApproval(3)),
        ItemTemplate::new("collect_assets", Assets, Owner::Role(Role::Facilities), Due::WorkdaysAfterApproval(5)),
        ItemTemplate::new("revoke_access", Access, Owner::Role(Role::It), Due::WorkdaysAfterApproval(1)),
        ItemTemplate {
            after_termination_only: true,
            ..ItemTemplate::new("stop_pay_signal", Finance, Owner::Role(Role::Finance), Due::AtTermination)
        },
    ];
    if let Some(days) = after.final_pay_days {
        items.push(ItemTemplate::new(
            "final_wages",
            Finance,
            Owner::Role(Role::Finance),
            Due::DaysAfterTermination(days),
        ));
    }
    if after.certificate_at_termination {
        items.push(ItemTemplate::new("termination_certificate", Legal, Owner::CaseOwner, Due::AtTermination));
    }
    for (key, days) in [
        ("file_transfer", after.file_transfer_days),
        ("social_insurance_transfer", after.social_insurance_transfer_days),
        ("housing_fund_transfer", after.housing_fund_days),
    ] {
        if let Some(days) = days {
            items.push(ItemTemplate::new(key, Legal, Owner::CaseOwner, Due::DaysAfterTermination(days)));
        }
    }
    if case_type == CaseType::Death {
        // There is nobody to pay a final wage to in person; the estate settlement is its own item.
        items.retain(|i| i.key != "final_wages");
        items.push(ItemTemplate::new(
            "estate_settlement",
            Finance,
            Owner::Role(Role::Finance),
            Due::DaysAfterTermination(30),
        ));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::DayOverride;
    use crate::values::PolicyProfile;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn cn_deadlines_are_computed_from_termination_and_land_on_workdays() {
        let policy = Policy::defaults(PolicyProfile::CnDefault);
        let items = default_items(CaseType::Absconding, &policy);
        let mut cal = WorkCalendar::new("cn");
        for day in 1..=7 {
            cal.set_override(
                NaiveDate::from_ymd_opt(2024, 10, day).unwrap(),
                DayOverride::Holiday { name: "国庆".into() },
            );
        }
        let get = |key: &str| items.iter().find(|i| i.key == key).unwrap_or_else(|| panic!("{key}"));
        let (approved, terminated) = (d("2024-09-03"), d("2024-09-16"));
        // 16 Sep + 15 = 1 Oct (holiday) → 8 Oct; + 30 = 16 Oct, a Wednesday.
        assert_eq!(get("file_transfer").due_on(approved, Some(terminated), &cal), Some(d("2024-10-08")));
        assert_eq!(get("social_insurance_transfer").due_on(approved, Some(terminated), &cal), Some(d("2024-10-08")));
        assert_eq!(get("housing_fund_transfer").due_on(approved, Some(terminated), &cal), Some(d("2024-10-16")));
        assert_eq!(get("termination_certificate").due_on(approved, Some(terminated), &cal), Some(terminated));
        assert_eq!(get("file_transfer").due_on(approved, None, &cal), None, "pending until termination");
        assert_eq!(get("revoke_access").due_on(approved, None, &cal), Some(d("2024-09-04")));
        assert!(get("stop_pay_signal").after_termination_only);
        assert_eq!(get("stop_pay_signal").owner, Owner::Role(Role::Finance));
    }

    #[test]
    fn profiles_without_statutory_periods_leave_those_items_out() {
        let us = default_items(CaseType::Absconding, &Policy::defaults(PolicyProfile::UsGeneric));
        assert!(!us.iter().any(|i| i.key == "housing_fund_transfer" || i.key == "termination_certificate"));
        assert!(us.iter().any(|i| i.key == "stop_pay_signal"));
    }
}
