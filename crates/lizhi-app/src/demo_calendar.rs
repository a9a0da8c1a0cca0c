//! The demo company's work calendars: the CN statutory holidays with their make-up workdays (调休) and
//! the bank holidays of England and Wales, as calendar objects for planning and as import rows.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use lizhi_core::calendar::{DayOverride, WorkCalendar};

/// The two demo calendars and their import rows.
pub(crate) struct Calendars {
    pub(crate) cn: WorkCalendar,
    pub(crate) uk: WorkCalendar,
    pub(crate) rows: Vec<Vec<String>>,
}

/// A (month, day) pair of a table row.
type MonthDay = (u32, u32);
/// Year, first day, last day, name.
type HolidayRow = (i32, MonthDay, MonthDay, &'static str);

/// CN statutory holidays: year, first day, last day (month, day), name. 2025 and 2026 follow the State
/// Council notices; 2027 is a plausible placeholder until its notice is published.
const CN_HOLIDAYS: &[HolidayRow] = &[
    (2025, (1, 1), (1, 1), "元旦"),
    (2025, (1, 28), (2, 4), "春节"),
    (2025, (4, 4), (4, 6), "清明节"),
    (2025, (5, 1), (5, 5), "劳动节"),
    (2025, (5, 31), (6, 2), "端午节"),
    (2025, (10, 1), (10, 8), "国庆节、中秋节"),
    (2026, (1, 1), (1, 3), "元旦"),
    (2026, (2, 15), (2, 23), "春节"),
    (2026, (4, 4), (4, 6), "清明节"),
    (2026, (5, 1), (5, 5), "劳动节"),
    (2026, (6, 19), (6, 21), "端午节"),
    (2026, (9, 25), (9, 27), "中秋节"),
    (2026, (10, 1), (10, 7), "国庆节"),
    (2027, (1, 1), (1, 3), "元旦"),
    (2027, (2, 5), (2, 13), "春节"),
    (2027, (4, 3), (4, 5), "清明节"),
    (2027, (5, 1), (5, 5), "劳动节"),
    (2027, (6, 9), (6, 9), "端午节"),
    (2027, (9, 15), (9, 15), "中秋节"),
    (2027, (10, 1), (10, 7), "国庆节"),
];

/// CN make-up workdays (调休上班), always weekend dates: year, (month, day), what they compensate.
const CN_MAKE_UP_DAYS: &[(i32, MonthDay, &str)] = &[
    (2025, (1, 26), "春节调休"),
    (2025, (2, 8), "春节调休"),
    (2025, (4, 27), "劳动节调休"),
    (2025, (9, 28), "国庆节调休"),
    (2025, (10, 11), "国庆节调休"),
    (2026, (1, 4), "元旦调休"),
    (2026, (2, 14), "春节调休"),
    (2026, (2, 28), "春节调休"),
    (2026, (5, 9), "劳动节调休"),
    (2026, (9, 20), "国庆节调休"),
    (2026, (10, 10), "国庆节调休"),
    (2027, (2, 20), "春节调休"),
    (2027, (4, 25), "劳动节调休"),
    (2027, (5, 8), "劳动节调休"),
    (2027, (9, 26), "国庆节调休"),
    (2027, (10, 9), "国庆节调休"),
];

pub(crate) fn ymd(year: i32, (month, day): MonthDay) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

pub(crate) fn days_between(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to)
}

/// CN holidays and make-up days of a year: the table when it has the year, else the fixed-date
/// holidays (New Year, Labour Day, National Day) without make-up days.
pub(crate) fn cn_overrides(year: i32) -> Vec<(NaiveDate, DayOverride)> {
    let mut out = Vec::new();
    let known = CN_HOLIDAYS.iter().any(|(y, ..)| *y == year);
    let fallback: [HolidayRow; 3] =
        [(year, (1, 1), (1, 1), "元旦"), (year, (5, 1), (5, 3), "劳动节"), (year, (10, 1), (10, 7), "国庆节")];
    let holidays: Vec<_> =
        if known { CN_HOLIDAYS.iter().filter(|(y, ..)| *y == year).copied().collect() } else { fallback.to_vec() };
    for (y, from, to, name) in holidays {
        if let (Some(from), Some(to)) = (ymd(y, from), ymd(y, to)) {
            out.extend(days_between(from, to).map(|d| (d, DayOverride::Holiday { name: name.to_owned() })));
        }
    }
    for (y, day, name) in CN_MAKE_UP_DAYS.iter().filter(|(y, ..)| *y == year) {
        if let Some(d) = ymd(*y, *day) {
            out.push((d, DayOverride::Workday { name: (*name).to_owned() }));
        }
    }
    out
}

/// Easter Sunday (Gregorian, anonymous algorithm).
pub(crate) fn easter(year: i32) -> Option<NaiveDate> {
    let (a, b, c) = (year % 19, year / 100, year % 100);
    let (d, e) = (b / 4, b % 4);
    let g = (8 * b + 13) / 25;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 19 * l) / 433;
    let month = (h + l - 7 * m + 90) / 25;
    let day = (h + l - 7 * m + 33 * month + 19) % 32;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// Bank holidays of England and Wales: fixed rules with weekend substitutes (one-off royal holidays are
/// left out).
pub(crate) fn uk_overrides(year: i32) -> Vec<(NaiveDate, DayOverride)> {
    let weekday_or_next_monday = |d: NaiveDate| match d.weekday() {
        Weekday::Sat => d + Days::new(2),
        Weekday::Sun => d + Days::new(1),
        _ => d,
    };
    let monday = |month: u32, last: bool| -> Option<NaiveDate> {
        if last {
            let next = if month == 12 { ymd(year + 1, (1, 1)) } else { ymd(year, (month + 1, 1)) }?;
            next.pred_opt()?.iter_days().rev().find(|d| d.weekday() == Weekday::Mon)
        } else {
            ymd(year, (month, 1))?.iter_days().find(|d| d.weekday() == Weekday::Mon)
        }
    };
    let mut days: Vec<(Option<NaiveDate>, &str)> = vec![
        (ymd(year, (1, 1)).map(weekday_or_next_monday), "New Year's Day"),
        (easter(year).and_then(|e| e.checked_sub_days(Days::new(2))), "Good Friday"),
        (easter(year).map(|e| e + Days::new(1)), "Easter Monday"),
        (monday(5, false), "Early May bank holiday"),
        (monday(5, true), "Spring bank holiday"),
        (monday(8, true), "Summer bank holiday"),
    ];
    if let Some(christmas) = ymd(year, (12, 25)) {
        let (c, b) = match christmas.weekday() {
            Weekday::Fri => (christmas, christmas + Days::new(3)),
            Weekday::Sat => (christmas + Days::new(2), christmas + Days::new(3)),
            Weekday::Sun => (christmas + Days::new(2), christmas + Days::new(1)),
            _ => (christmas, christmas + Days::new(1)),
        };
        days.push((Some(c), "Christmas Day"));
        days.push((Some(b), "Boxing Day"));
    }
    days.into_iter().filter_map(|(d, name)| Some((d?, DayOverride::Holiday { name: name.to_owned() }))).collect()
}

/// The CN01 and UK01 calendars for every year the window touches.
pub(crate) fn calendars(from: NaiveDate, to: NaiveDate) -> Calendars {
    let mut cn = WorkCalendar::new("CN01");
    let mut uk = WorkCalendar::new("UK01");
    let mut rows = Vec::new();
    for year in from.year()..=to.year() {
        for (calendar, overrides) in [(&mut cn, cn_overrides(year)), (&mut uk, uk_overrides(year))] {
            for (date, o) in overrides {
                let (kind, name) = match &o {
                    DayOverride::Holiday { name } => ("holiday", name.clone()),
                    DayOverride::Workday { name } => ("workday", name.clone()),
                };
                rows.push(vec![calendar.name.clone(), date.to_string(), kind.to_owned(), name]);
                calendar.set_override(date, o);
            }
        }
    }
    Calendars { cn, uk, rows }
}
