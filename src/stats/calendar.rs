//! Dates for statistics: the date bucket an answer is stored under, and reporting periods
//! that are whole calendar buckets (months, fiscal quarters, fiscal years), so that two
//! overlapping ranges can never be subtracted to isolate a few days. Weeks are a storage
//! bucket only: they do not nest in months, and mixing the two would let a difference of
//! exports isolate the days at a month's edge.

use std::fmt;

use time::{Date, Duration, Month as TimeMonth, OffsetDateTime, UtcOffset, Weekday};

use crate::forms::DateBucket;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    /// 1 to 12.
    pub month: u8,
}

impl Month {
    pub fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let year: i32 = year.parse().ok()?;
        let month: u8 = month.parse().ok()?;
        ((1..=12).contains(&month) && (2000..=2200).contains(&year))
            .then_some(Month { year, month })
    }

    pub fn of(date: Date) -> Month {
        Month {
            year: date.year(),
            month: date.month() as u8,
        }
    }

    /// Months since year 0, for arithmetic.
    fn index(self) -> i32 {
        self.year * 12 + i32::from(self.month) - 1
    }

    fn from_index(index: i32) -> Month {
        Month {
            year: index.div_euclid(12),
            month: (index.rem_euclid(12) + 1) as u8,
        }
    }

    pub fn plus(self, months: i32) -> Month {
        Month::from_index(self.index() + months)
    }

    pub fn months_since(self, earlier: Month) -> i32 {
        self.index() - earlier.index()
    }

    pub fn first_day(self) -> Date {
        let month = TimeMonth::try_from(self.month).expect("1 to 12");
        Date::from_calendar_date(self.year, month, 1).expect("a valid month")
    }

    pub fn last_day(self) -> Date {
        self.plus(1).first_day() - Duration::days(1)
    }

    /// The first month of the fiscal year this month belongs to.
    pub fn fiscal_year_start(self, start_month: u8) -> Month {
        let back = (i32::from(self.month) - i32::from(start_month)).rem_euclid(12);
        self.plus(-back)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The program's local date of a Unix time in milliseconds.
pub fn local_date(unix_ms: u64, utc_offset_minutes: i32) -> Date {
    let offset = UtcOffset::from_whole_seconds(utc_offset_minutes * 60).unwrap_or(UtcOffset::UTC);
    OffsetDateTime::from_unix_timestamp((unix_ms / 1000) as i64)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset)
        .date()
}

/// The stored date bucket of a date: the day itself, or the Monday of its ISO week.
pub fn bucket(date: Date, size: DateBucket) -> String {
    let date = match size {
        DateBucket::Day => date,
        DateBucket::Week => {
            date - Duration::days(i64::from(date.weekday().number_days_from_monday()))
        }
    };
    iso(date)
}

pub fn iso(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        date.month() as u8,
        date.day()
    )
}

pub fn parse_iso(text: &str) -> Option<Date> {
    let mut parts = text.splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month = TimeMonth::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
    let day = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// The month a stored bucket counts in: a day's own month, or for a week the month of its
/// Thursday (ISO 8601's rule), so each week counts in exactly one month.
pub fn bucket_month(bucket: &str, size: DateBucket) -> Option<Month> {
    let date = parse_iso(bucket)?;
    Some(Month::of(match size {
        DateBucket::Day => date,
        DateBucket::Week => {
            debug_assert_eq!(date.weekday(), Weekday::Monday);
            date + Duration::days(3)
        }
    }))
}

/// The stored buckets that can fall in `[from, to]` months, widened by a week each side
/// (a week bucket's Monday may lie in the month before); callers map each bucket to its
/// month and keep the ones inside.
pub fn bucket_span(from: Month, to: Month) -> (String, String) {
    (
        iso(from.first_day() - Duration::days(7)),
        iso(to.last_day() + Duration::days(7)),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
    FiscalYear,
}

impl PeriodKind {
    pub fn parse(text: &str) -> Option<PeriodKind> {
        match text {
            "month" => Some(PeriodKind::Month),
            "quarter" => Some(PeriodKind::Quarter),
            "fiscal_year" => Some(PeriodKind::FiscalYear),
            _ => None,
        }
    }

    fn months(self) -> i32 {
        match self {
            PeriodKind::Month => 1,
            PeriodKind::Quarter => 3,
            PeriodKind::FiscalYear => 12,
        }
    }
}

/// A reporting period: whole months, quarters or fiscal years on a fixed calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: Month,
}

impl Period {
    /// Checks that `start` begins a period of `kind` for a fiscal year starting in
    /// `fy_start`; the error says why not.
    pub fn new(kind: PeriodKind, start: Month, fy_start: u8) -> Result<Period, String> {
        let offset = (i32::from(start.month) - i32::from(fy_start)).rem_euclid(12);
        match kind {
            PeriodKind::Quarter if offset % 3 != 0 => Err(format!(
                "a quarter starts in the fiscal year's month 1, 4, 7 or 10; {start} does not"
            )),
            PeriodKind::FiscalYear if offset != 0 => Err(format!(
                "a fiscal year starts in month {fy_start:02}; {start} does not"
            )),
            _ => Ok(Period { kind, start }),
        }
    }

    pub fn end(&self) -> Month {
        self.start.plus(self.kind.months() - 1)
    }

    pub fn months(&self) -> Vec<Month> {
        (0..self.kind.months())
            .map(|i| self.start.plus(i))
            .collect()
    }

    /// A person's label: "2026-11", "FY2026 Q1", "FY2026" (a fiscal year is named by the
    /// calendar year it ends in, as US federal fiscal years are).
    pub fn label(&self, fy_start: u8) -> String {
        let fy = self.start.fiscal_year_start(fy_start);
        let fy_name = fy.plus(11).year;
        match self.kind {
            PeriodKind::Month => self.start.to_string(),
            PeriodKind::Quarter => format!("FY{fy_name} Q{}", self.start.months_since(fy) / 3 + 1),
            PeriodKind::FiscalYear => format!("FY{fy_name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_buckets_are_mondays_and_count_in_their_thursdays_month() {
        let sunday = parse_iso("2026-11-01").unwrap();
        let week = bucket(sunday, DateBucket::Week);
        assert_eq!(week, "2026-10-26");
        // Thursday of that week is 2026-10-29: October.
        assert_eq!(
            bucket_month(&week, DateBucket::Week),
            Some(Month {
                year: 2026,
                month: 10
            })
        );
        assert_eq!(bucket(sunday, DateBucket::Day), "2026-11-01");
    }

    #[test]
    fn periods_must_start_on_the_fiscal_calendar() {
        let october = Month::parse("2025-10").unwrap();
        let fy = Period::new(PeriodKind::FiscalYear, october, 10).unwrap();
        assert_eq!(fy.end(), Month::parse("2026-09").unwrap());
        assert_eq!(fy.label(10), "FY2026");
        assert!(Period::new(PeriodKind::FiscalYear, october.plus(1), 10).is_err());
        assert!(Period::new(PeriodKind::Quarter, october.plus(3), 10).is_ok());
        assert!(Period::new(PeriodKind::Quarter, october.plus(2), 10).is_err());
        let q2 = Period::new(PeriodKind::Quarter, october.plus(3), 10).unwrap();
        assert_eq!(q2.label(10), "FY2026 Q2");
        assert_eq!(
            Month::parse("2026-03").unwrap().fiscal_year_start(10),
            october
        );
    }

    #[test]
    fn local_dates_follow_the_programs_offset() {
        // 2026-11-24 02:00 UTC is still the 23rd at UTC-5.
        let ms = 1_795_485_600_000;
        assert_eq!(iso(local_date(ms, 0)), "2026-11-24");
        assert_eq!(iso(local_date(ms, -300)), "2026-11-23");
    }
}
