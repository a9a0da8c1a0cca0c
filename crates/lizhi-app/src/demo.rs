//! A believable demo company, seeded through the same import path real data takes.
//!
//! People, org units and legal entities come from [`demo_files`]; 120 days of attendance (calendars,
//! rosters, punches, leave, activity and a handful of absconders) from [`attendance_files`], so the
//! risk board has something true to show on the day the demo starts.

use crate::auth::{self, NewUser};
use crate::import::{self, ImportKind, Progress};
use crate::{App, AppError, Ctx};
use chrono::NaiveDate;
use lizhi_core::auth::{Grant, Role};
use lizhi_docs::write_csv;
use lizhi_store::org;

pub use crate::demo_attendance::{
    ATTENDANCE_DAYS, Absconder, AbsconderPattern, DEMO_ABSCONDERS, attendance_files, demo_absconders,
};

const CN_SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗",
    "高", "欧阳", "司马",
];
const CN_GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平", "喆", "堃", "子涵", "雨桐", "浩然", "欣怡", "梓萱", "俊杰", "晓东", "海燕",
];
const EN_FIRST: &[&str] = &[
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Emily", "Leo", "Grace", "Arthur",
    "Sophia", "Oscar", "Lily", "Charlie", "Freya", "Thomas", "Chloe",
];
const EN_LAST: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright", "Walker",
    "Evans", "Thompson", "Clarke", "O'Neill", "Hughes",
];

/// Small deterministic generator so every demo has the same people (and the same attendance).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    /// A number in `0..n` (`n` > 0).
    pub(crate) fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

struct Unit {
    code: &'static str,
    name: &'static str,
    parent: &'static str,
    entity: &'static str,
}

const UNITS: &[Unit] = &[
    Unit { code: "CN", name: "离职科技（上海）", parent: "", entity: "CN01" },
    Unit { code: "CN-RD", name: "研发中心", parent: "CN", entity: "CN01" },
    Unit { code: "CN-RD-PLT", name: "平台组", parent: "CN-RD", entity: "CN01" },
    Unit { code: "CN-RD-APP", name: "应用组", parent: "CN-RD", entity: "CN01" },
    Unit { code: "CN-RD-QA", name: "测试组", parent: "CN-RD", entity: "CN01" },
    Unit { code: "CN-SALES", name: "销售部", parent: "CN", entity: "CN01" },
    Unit { code: "CN-SALES-E", name: "华东大区", parent: "CN-SALES", entity: "CN01" },
    Unit { code: "CN-SALES-S", name: "华南大区", parent: "CN-SALES", entity: "CN01" },
    Unit { code: "CN-OPS", name: "运营部", parent: "CN", entity: "CN01" },
    Unit { code: "CN-OPS-WH", name: "仓储物流", parent: "CN-OPS", entity: "CN01" },
    Unit { code: "CN-OPS-CS", name: "客户服务", parent: "CN-OPS", entity: "CN01" },
    Unit { code: "CN-FN", name: "职能部门", parent: "CN", entity: "CN01" },
    Unit { code: "CN-FN-HR", name: "人力资源", parent: "CN-FN", entity: "CN01" },
    Unit { code: "CN-FN-FIN", name: "财务", parent: "CN-FN", entity: "CN01" },
    Unit { code: "CN-FN-IT", name: "信息技术", parent: "CN-FN", entity: "CN01" },
    Unit { code: "UK", name: "Lizhi UK", parent: "", entity: "UK01" },
    Unit { code: "UK-ENG", name: "Engineering", parent: "UK", entity: "UK01" },
    Unit { code: "UK-ENG-WEB", name: "Web Team", parent: "UK-ENG", entity: "UK01" },
    Unit { code: "UK-ENG-DATA", name: "Data Team", parent: "UK-ENG", entity: "UK01" },
    Unit { code: "UK-COM", name: "Commercial", parent: "UK", entity: "UK01" },
    Unit { code: "UK-COM-SALES", name: "Sales", parent: "UK-COM", entity: "UK01" },
    Unit { code: "UK-COM-SUP", name: "Customer Support", parent: "UK-COM", entity: "UK01" },
];

/// What the attendance generator needs to know about one demo employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoEmployee {
    /// Employee number (`C00001`, `U00017`…).
    pub employee_no: String,
    /// Legal entity code (`CN01` or `UK01`): decides the calendar, time zone and punch format.
    pub legal_entity: &'static str,
    /// Org unit code: the warehouse team (`CN-OPS-WH`) works rostered shifts.
    pub org_unit: &'static str,
    /// Hire date: nobody punches (or is expected) before it.
    pub hire_date: NaiveDate,
}

/// The people of a demo company of `employees` (at least one head per org unit), in file order.
/// Deterministic: the first `k` people are the same whatever `employees` is.
pub fn demo_employees(employees: usize) -> Vec<DemoEmployee> {
    generate(employees).1
}

/// Seeds the demo data files' contents: (kind, CSV bytes).
pub fn demo_files(employees: usize) -> Vec<(ImportKind, Vec<u8>)> {
    generate(employees).0
}

/// The people and org files plus each employee's attendance-relevant facts.
fn generate(employees: usize) -> (Vec<(ImportKind, Vec<u8>)>, Vec<DemoEmployee>) {
    let entities = vec![
        vec![
            "CN01".into(),
            "离职科技（上海）有限公司".into(),
            "CN".into(),
            "Asia/Shanghai".into(),
            "CN-default".into(),
        ],
        vec!["UK01".into(), "Lizhi Technology UK Ltd".into(), "GB".into(), "Europe/London".into(), "UK".into()],
    ];
    let units: Vec<Vec<String>> =
        UNITS.iter().map(|u| vec![u.code.into(), u.name.into(), u.parent.into(), u.entity.into()]).collect();
    let mut rng = Lcg(20_261_128);
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(employees);
    let mut people: Vec<DemoEmployee> = Vec::with_capacity(employees);
    let mut head_of: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    // Heads first (in tree order) so every team has a lead reporting upwards, then staff (~15% UK).
    let leaves = |entity: &str| -> Vec<&'static Unit> {
        UNITS.iter().filter(|u| u.entity == entity && u.code.matches('-').count() == 2).collect()
    };
    let (cn_leaves, uk_leaves) = (leaves("CN01"), leaves("UK01"));
    for i in 0..employees.max(UNITS.len()) {
        let unit = if let Some(head_unit) = UNITS.get(i) {
            head_unit
        } else if rng.next(100) < 15 {
            uk_leaves[rng.next(uk_leaves.len())]
        } else {
            cn_leaves[rng.next(cn_leaves.len())]
        };
        let cn = unit.entity == "CN01";
        let no = format!("{}{:05}", if cn { "C" } else { "U" }, i + 1);
        let name = if cn {
            format!("{}{}", CN_SURNAMES[rng.next(CN_SURNAMES.len())], CN_GIVEN[rng.next(CN_GIVEN.len())])
        } else {
            format!("{} {}", EN_FIRST[rng.next(EN_FIRST.len())], EN_LAST[rng.next(EN_LAST.len())])
        };
        let manager = if i < UNITS.len() {
            head_of.get(unit.parent).cloned().unwrap_or_default()
        } else {
            head_of.get(unit.code).cloned().unwrap_or_default()
        };
        if i < UNITS.len() {
            head_of.insert(unit.code, no.clone());
        }
        let year = 2015 + rng.next(11);
        let (month, day) = (1 + rng.next(12), 1 + rng.next(28));
        let hire = format!("{year}-{month:02}-{day:02}");
        // Month 1–12 and day 1–28 always make a date; the fallback only keeps this free of panics.
        let hire_date = NaiveDate::from_ymd_opt(year as i32, month as u32, day as u32).unwrap_or(NaiveDate::MIN);
        people.push(DemoEmployee {
            employee_no: no.clone(),
            legal_entity: unit.entity,
            org_unit: unit.code,
            hire_date,
        });
        let email = format!("{}@{}", no.to_lowercase(), if cn { "lizhi.cn" } else { "lizhi.co.uk" });
        let mobile = if cn {
            format!("+86 13{:09}", rng.next(1_000_000_000))
        } else {
            format!("+44 7{:09}", rng.next(1_000_000_000))
        };
        let position = match (cn, i < UNITS.len()) {
            (true, true) => "负责人",
            (true, false) => ["工程师", "高级工程师", "专员", "主管", "分析师"][rng.next(5)],
            (false, true) => "Head",
            (false, false) => ["Engineer", "Senior Engineer", "Specialist", "Analyst", "Associate"][rng.next(5)],
        };
        let address = if cn {
            format!("上海市浦东新区张江路{}号{}室", 1 + rng.next(999), 100 + rng.next(900))
        } else {
            format!("{} High Street, London E{} {}AB", 1 + rng.next(200), 1 + rng.next(20), 1 + rng.next(9))
        };
        rows.push(vec![
            no,
            name,
            unit.entity.into(),
            unit.code.into(),
            manager,
            hire,
            email,
            mobile,
            position.into(),
            address,
            String::new(),
        ]);
    }
    let cols = |k: ImportKind| k.all_columns();
    let files = vec![
        (ImportKind::LegalEntities, write_csv(&cols(ImportKind::LegalEntities), &entities)),
        (ImportKind::OrgUnits, write_csv(&cols(ImportKind::OrgUnits), &units)),
        (ImportKind::Employees, write_csv(&cols(ImportKind::Employees), &rows)),
    ];
    (files, people)
}

/// A demo login created by [`seed`].
#[derive(Debug, Clone)]
pub struct DemoLogin {
    /// Username.
    pub username: String,
    /// Generated password for this demo instance.
    pub password: String,
    /// Role held.
    pub role: Role,
}

/// The demo's "today": the last complete day in Shanghai, where the demo company has its head office, so
/// the generated attendance ends on the day the risk board shows when it is first opened.
pub fn demo_today(app: &App) -> NaiveDate {
    // Yesterday: the last complete day, which is also what the risk board shows by default.
    let today = app.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    today.pred_opt().unwrap_or(today)
}

/// Imports the demo company with [`ATTENDANCE_DAYS`] days of attendance ending today (see [`demo_today`])
/// and creates one login per role with fresh random passwords.
/// Does nothing (returns no logins) when the database already holds employees.
pub async fn seed(app: &App, employees: usize, progress: &dyn Progress) -> Result<Vec<DemoLogin>, AppError> {
    seed_with_date(app, employees, demo_today(app), progress).await
}

/// Same as [`seed`] with a chosen "today", so tests (and a demo for a meeting next week) get the same
/// absconders on a known date.
pub async fn seed_with_date(
    app: &App,
    employees: usize,
    today: NaiveDate,
    progress: &dyn Progress,
) -> Result<Vec<DemoLogin>, AppError> {
    let ctx = Ctx::system("demo");
    {
        let mut conn = app.db.acquire().await?;
        if !org::list_entities(&mut conn.conn()).await?.is_empty() {
            return Ok(Vec::new());
        }
    }
    for (kind, bytes) in demo_files(employees) {
        import_clean(app, &ctx, kind, &bytes, progress).await?;
    }
    let started = std::time::Instant::now();
    let people = demo_employees(employees);
    let files = attendance_files(&people, today);
    let generated = started.elapsed();
    let (total, bytes) = (files.len() as u64, files.iter().map(|(_, b)| b.len()).sum::<usize>());
    for (done, (kind, bytes)) in files.into_iter().enumerate() {
        progress.update("attendance", done as u64, total);
        import_clean(app, &ctx, kind, &bytes, progress).await?;
    }
    progress.update("attendance", total, total);
    // The board opens on stored scans: scan each entity as the morning job would have.
    let entities = {
        let mut conn = app.db.acquire().await?;
        org::list_entities(&mut conn.conn()).await?
    };
    for e in &entities {
        // The demo's "today" is Shanghai's yesterday; London's may not be over yet.
        let as_of = today.min(crate::risk_scan::last_complete_day(e, app.clock.now()));
        crate::risk_scan::scan_now(app, &ctx, &e.code, Some(as_of)).await?;
    }
    // Operators of slow disks see where the start-up time goes.
    tracing::info!(
        %today,
        files = total,
        bytes,
        generate_ms = generated.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "seeded demo attendance"
    );
    let units = {
        let mut conn = app.db.acquire().await?;
        org::list_org_units(&mut conn.conn()).await?
    };
    let rd = units.iter().find(|u| u.code == "CN-RD").map(|u| u.id);
    let mut logins = Vec::new();
    for role in Role::ALL {
        let username = role.name().replace('_', "-");
        let org_unit_id = if role.is_scoped() { rd } else { None };
        // Demo logins get a chosen random password, so they are not forced to pick a new one.
        let password = auth::new_secret("");
        auth::create_user(
            app,
            &ctx,
            NewUser {
                username: username.clone(),
                display_name: String::new(),
                password: Some(password.clone()),
                grants: vec![Grant { role, org_unit_id }],
            },
        )
        .await?;
        logins.push(DemoLogin { username, password, role });
    }
    // Cases in every state: planted absconders first, then R&D people (the demo manager heads R&D).
    let absconders: Vec<String> =
        crate::demo_attendance::demo_absconders(&people, today).into_iter().map(|a| a.employee_no).collect();
    let rd = people
        .iter()
        .rev()
        .filter(|p| p.org_unit.starts_with("CN-RD") && !absconders.contains(&p.employee_no))
        .map(|p| p.employee_no.clone());
    let mut case_people: Vec<String> = absconders.iter().take(3).cloned().chain(rd).collect();
    case_people.truncate(crate::demo_cases::CASE_PEOPLE);
    if case_people.len() == crate::demo_cases::CASE_PEOPLE {
        crate::demo_cases::seed(app, &case_people, today).await?;
    } else {
        tracing::info!(employees, "demo too small for sample cases");
    }
    Ok(logins)
}

/// Imports one generated file and applies it; a rejected file is a bug in the generator, reported as such.
async fn import_clean(
    app: &App,
    ctx: &Ctx,
    kind: ImportKind,
    bytes: &[u8],
    progress: &dyn Progress,
) -> Result<(), AppError> {
    let report = import::run(app, ctx, kind, "demo.csv", bytes, true, progress).await?;
    if !report.is_clean() {
        tracing::error!(kind = kind.name(), errors = ?report.errors, "generated demo file rejected");
        return Err(AppError::invalid(kind.name(), "demo_data_rejected"));
    }
    Ok(())
}
