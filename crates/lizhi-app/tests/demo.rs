//! The demo company through the real import path and the real scan: the planted absconders, and only
//! they, are red on exactly the rule's day. Runs on SQLite, and on PostgreSQL when
//! `LIZHI_TEST_DATABASE_URL` is set.

use chrono::{Days, NaiveDate};
use lizhi_app::demo::{self, Absconder, AbsconderPattern};
use lizhi_app::import::{self, ImportKind, NoProgress};
use lizhi_app::risk::{self, RiskQuery};
use lizhi_app::{App, Ctx};
use lizhi_core::absence::{Fact, Level, RuleId};
use std::collections::{BTreeMap, BTreeSet};

const EMPLOYEES: usize = 300;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// Two days after the make-up Saturday that closes the 2026 National Day holidays.
fn today() -> NaiveDate {
    d("2026-10-13")
}

/// Employees whose approved leave covers `day`, read back from the generated leave file.
fn on_approved_leave(files: &[(ImportKind, Vec<u8>)], day: NaiveDate) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, bytes) in files.iter().filter(|(k, _)| *k == ImportKind::Leaves) {
        for line in String::from_utf8_lossy(bytes).lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() == 5 && cells[4] == "approved" && d(cells[1]) <= day && day <= d(cells[2]) {
                out.insert(cells[0].to_owned());
            }
        }
    }
    out
}

/// Punched days and activity totals as the monthly summaries hold them.
async fn summaries(app: &App) -> (BTreeSet<(i64, NaiveDate)>, BTreeMap<(i64, NaiveDate), u32>) {
    let mut conn = app.db.acquire().await.expect("conn");
    let months = lizhi_store::summary::months(
        &mut conn.conn(),
        d("2000-01-01"),
        d("2100-01-01"),
        lizhi_store::summary::Whose::All,
    )
    .await
    .expect("months");
    let punched = months.iter().flat_map(|m| m.punched().map(move |day| (m.employee_id, day))).collect();
    let active = months.iter().flat_map(|m| m.active().map(move |(day, n)| ((m.employee_id, day), n))).collect();
    (punched, active)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_absconders_and_only_they_turn_red_on_the_rule_day() {
    let url = lizhi_store::testing::fresh_database_url().await.expect("database url");
    let app = App::open(&url, 4).await.expect("open");
    let logins = demo::seed_with_date(&app, EMPLOYEES, today(), &NoProgress).await.expect("seed");
    assert!(!logins.is_empty());
    let ctx = Ctx::system("test");

    let people = demo::demo_employees(EMPLOYEES);
    let expected: BTreeMap<String, Absconder> =
        demo::demo_absconders(&people, today()).into_iter().map(|a| (a.employee_no.clone(), a)).collect();
    let planted: BTreeSet<&str> = demo::DEMO_ABSCONDERS.iter().copied().collect();
    assert_eq!(expected.keys().map(String::as_str).collect::<BTreeSet<_>>(), planted);

    // Cases in every state, made through the rules; the early ones concern planted absconders.
    let cases = lizhi_app::cases::list(&app, &ctx, &Default::default()).await.expect("cases");
    let states: BTreeSet<&str> = cases.iter().map(|l| l.case.state.as_str()).collect();
    let all: BTreeSet<&str> = lizhi_core::case::CaseState::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(states, all, "a demo case in every state");
    let contacting = cases.iter().find(|l| l.case.state == "contacting").expect("contacting");
    assert!(planted.contains(contacting.employee_no.as_str()), "{}", contacting.employee_no);
    let closed = cases.iter().find(|l| l.case.state == "closed").expect("closed");
    assert_eq!((closed.open_items, closed.case.rehire_eligible), (0, Some(false)));
    // The whole demo history is signed, and the closed case's evidence bundle checks out offline.
    let log = lizhi_app::audit_verify::verify(&app, &ctx, None).await.expect("verify");
    assert!(log.ok() && log.checkpoints > 0, "{:?}", log.findings);
    let bundle = lizhi_app::evidence::export_case(&app, &ctx, closed.case.id).await.expect("bundle");
    let report = lizhi_app::evidence::verify_zip(&bundle.bytes, None).expect("zip");
    assert!(report.passed() && bundle.events > 10, "{} events: {:?}", bundle.events, report.results);

    // Today: exactly the red absconders are red, each absconder at the expected level and streak.
    let findings = risk::scan(&app, &ctx, today(), &RiskQuery::default()).await.expect("scan");
    let by_no: BTreeMap<&str, &risk::Finding> = findings.iter().map(|f| (f.employee_no.as_str(), f)).collect();
    let reds: BTreeSet<&str> =
        findings.iter().filter(|f| f.assessment.level == Level::Red).map(|f| f.employee_no.as_str()).collect();
    let expected_reds: BTreeSet<&str> =
        expected.values().filter(|a| a.expected_level == Level::Red).map(|a| a.employee_no.as_str()).collect();
    assert_eq!(expected_reds.len(), 3);
    assert_eq!(reds, expected_reds, "reds today");
    for a in expected.values() {
        let f = by_no.get(a.employee_no.as_str()).unwrap_or_else(|| panic!("{} is green", a.employee_no));
        assert_eq!(f.assessment.level, a.expected_level, "{}: {:?}", a.employee_no, f.assessment);
        assert_eq!(f.assessment.consecutive_absent_workdays, a.absent_days, "{}", a.employee_no);
        assert_eq!(f.assessment.first_absent_date, Some(a.first_absent_date), "{}", a.employee_no);
        let rules: Vec<RuleId> = f.assessment.rules.iter().map(|h| h.rule).collect();
        if a.declining_activity {
            assert!(rules.contains(&RuleId::ActivityDrop), "{}: {rules:?}", a.employee_no);
        }
        if a.pattern == (AbsconderPattern::Stops { days: 2 }) {
            assert_eq!(rules, [RuleId::ConsecutiveAbsence], "{}", a.employee_no);
        }
    }
    // The third missing day of one absconder is the make-up Saturday after National Day.
    let make_up = expected.values().find(|a| a.make_up_day.is_some()).expect("make-up absconder");
    assert_eq!(make_up.make_up_day, Some(d("2026-10-10")));
    let f = by_no[make_up.employee_no.as_str()];
    assert_eq!(f.assessment.absent_dates.get(2), Some(&d("2026-10-10")));
    assert!(
        f.assessment
            .explanation
            .iter()
            .any(|x| matches!(x, Fact::MakeUpWorkday { date, .. } if *date == d("2026-10-10")))
    );
    // Nobody whose approved leave covers today is flagged at all.
    let files = demo::attendance_files(&people, today());
    let on_leave = on_approved_leave(&files, today());
    assert!(!on_leave.is_empty(), "someone is on leave today");
    for no in &on_leave {
        assert!(!by_no.contains_key(no.as_str()), "{no} is on approved leave but flagged: {:?}", by_no[no.as_str()]);
    }
    // Random absences and pending leave give single yellow days, never more.
    for f in findings.iter().filter(|f| !planted.contains(f.employee_no.as_str())) {
        assert_eq!(f.assessment.level, Level::Yellow, "{}", f.employee_no);
        assert!(f.assessment.consecutive_absent_workdays <= 1, "{}: {:?}", f.employee_no, f.assessment);
    }

    // Over the last six weeks: nobody else is ever red, and each red absconder turns red on the day of their
    // third missing scheduled day, not a day earlier.
    let from = today().checked_sub_days(Days::new(42)).expect("date");
    let history = risk::backtest(&app, &ctx, from, today(), &RiskQuery::default()).await.expect("backtest");
    let ever_red: BTreeSet<&str> =
        history.iter().filter(|f| f.assessment.level == Level::Red).map(|f| f.employee_no.as_str()).collect();
    assert_eq!(ever_red, expected_reds, "red at some date");
    for no in &expected_reds {
        let first_red = history
            .iter()
            .find(|f| f.employee_no == *no && f.assessment.level == Level::Red)
            .map(|f| f.date)
            .expect("red");
        assert_eq!(Some(&first_red), by_no[no].assessment.absent_dates.get(2), "{no}");
    }

    // Re-importing attendance adds nothing.
    let (kind, punches) = files.iter().find(|(k, _)| *k == ImportKind::Punches).expect("punches file");
    let report = import::run(&app, &ctx, *kind, "punches.csv", punches, true, &NoProgress).await.expect("re-import");
    assert!(report.is_clean(), "{:?}", report.errors);
    assert_eq!((report.created, report.unchanged), (0, report.rows));
    let (kind, activity) = files.iter().find(|(k, _)| *k == ImportKind::Activity).expect("activity file");
    let report = import::run(&app, &ctx, *kind, "activity.csv", activity, true, &NoProgress).await.expect("re-import");
    assert_eq!((report.created, report.updated), (0, 0));

    // The seed stored each entity's scan: the board shows exactly what a live scan finds.
    let board = lizhi_app::risk_board::board(&app, &ctx, None, &Default::default()).await.expect("board");
    assert!(board.sources.iter().all(|s| s.scan.is_some() && s.as_of == today()), "{:?}", board.sources);
    let stored: BTreeSet<(String, Level)> =
        board.items.iter().map(|i| (i.finding.employee_no.clone(), i.finding.assessment.level)).collect();
    let live: BTreeSet<(String, Level)> =
        findings.iter().map(|f| (f.employee_no.clone(), f.assessment.level)).collect();
    assert_eq!(stored, live);

    // The monthly summaries the scans read agree with the punch and activity rows, and a rebuild
    // from the rows (what migration 3 does) gives them back unchanged.
    let stored_summaries = summaries(&app).await;
    let mut conn = app.db.acquire().await.expect("conn");
    let (from, to) = (d("2000-01-01"), d("2100-01-01"));
    let punched: BTreeSet<(i64, NaiveDate)> =
        lizhi_store::attendance::attendance_days(&mut conn.conn(), from, to, None)
            .await
            .expect("days")
            .into_iter()
            .collect();
    let mut active: BTreeMap<(i64, NaiveDate), u32> = BTreeMap::new();
    for a in lizhi_store::attendance::activity(&mut conn.conn(), from, to, None).await.expect("activity") {
        *active.entry((a.employee_id, a.day)).or_default() += a.events as u32;
    }
    assert!(!punched.is_empty() && !active.is_empty());
    assert_eq!(stored_summaries.0, punched);
    assert_eq!(stored_summaries.1, active);
    lizhi_store::on_conn!(&mut conn.conn(), c => sqlx::query("DELETE FROM attendance_months").execute(&mut **c).await.expect("clear").rows_affected());
    lizhi_store::summary::rebuild_all(&mut conn.conn()).await.expect("rebuild");
    drop(conn);
    assert_eq!(summaries(&app).await, (punched, active));

    // A second seed of the same database does nothing.
    assert!(demo::seed_with_date(&app, EMPLOYEES, today(), &NoProgress).await.expect("seed again").is_empty());
}
