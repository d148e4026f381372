//! Service hours: when the program's advocates answer chats.
//!
//! Windows such as `"mon-fri 09:00-17:00"` in a fixed UTC offset. A fixed offset (rather than a
//! time-zone database) keeps the binary free of tz data; programs adjust it at daylight-saving
//! changes. No windows means always open.

use std::time::{SystemTime, UNIX_EPOCH};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone)]
pub struct ServiceHours {
    offset_secs: i64,
    /// (day 0 = Monday, start minute, end minute), end exclusive.
    windows: Vec<(u8, u16, u16)>,
}

impl ServiceHours {
    pub fn parse(windows: &[String], utc_offset_minutes: i32) -> Result<ServiceHours, String> {
        let mut parsed = Vec::new();
        for window in windows {
            let err = || format!("`{window}` is not like \"mon-fri 09:00-17:00\"");
            let (days, times) = window.trim().split_once(' ').ok_or_else(err)?;
            let (first, last) = match days.split_once('-') {
                Some((a, b)) => (day_index(a).ok_or_else(err)?, day_index(b).ok_or_else(err)?),
                None => {
                    let d = day_index(days).ok_or_else(err)?;
                    (d, d)
                }
            };
            let (start, end) = times.trim().split_once('-').ok_or_else(err)?;
            let (start, end) = (
                minute_of_day(start).ok_or_else(err)?,
                minute_of_day(end).ok_or_else(err)?,
            );
            if end <= start {
                return Err(format!("`{window}`: the end must be after the start"));
            }
            let mut day = first;
            loop {
                parsed.push((day, start, end));
                if day == last {
                    break;
                }
                day = (day + 1) % 7;
            }
        }
        Ok(ServiceHours {
            offset_secs: i64::from(utc_offset_minutes) * 60,
            windows: parsed,
        })
    }

    pub fn is_open_now(&self) -> bool {
        self.is_open_at(unix_now())
    }

    /// When the service next opens, in Unix seconds: `unix_secs` itself while it is open,
    /// `None` when no windows are configured (always open).
    pub fn next_open_at(&self, unix_secs: i64) -> Option<i64> {
        if self.windows.is_empty() {
            return None;
        }
        if self.is_open_at(unix_secs) {
            return Some(unix_secs);
        }
        let local = unix_secs + self.offset_secs;
        let today = local.div_euclid(86_400);
        // A window starts within the coming week; 8 days covers "later today, a week from now".
        (0..=7)
            .flat_map(|d| {
                let day = today + d;
                let weekday = ((day + 3).rem_euclid(7)) as u8;
                self.windows
                    .iter()
                    .filter(move |w| w.0 == weekday)
                    .map(move |&(_, start, _)| day * 86_400 + i64::from(start) * 60)
            })
            .filter(|&start| start > local)
            .min()
            .map(|start| start - self.offset_secs)
    }

    /// `unix_secs` in UTC.
    pub fn is_open_at(&self, unix_secs: i64) -> bool {
        if self.windows.is_empty() {
            return true;
        }
        let local = unix_secs + self.offset_secs;
        let days = local.div_euclid(86_400);
        // 1970-01-01 was a Thursday (index 3 when Monday is 0).
        let weekday = ((days + 3).rem_euclid(7)) as u8;
        let minute = (local.rem_euclid(86_400) / 60) as u16;
        self.windows
            .iter()
            .any(|&(d, start, end)| d == weekday && minute >= start && minute < end)
    }
}

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn day_index(name: &str) -> Option<u8> {
    let name = name.trim().to_ascii_lowercase();
    DAYS.iter().position(|d| *d == name).map(|i| i as u8)
}

fn minute_of_day(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    if (h == 24 && m == 0) || (h < 24 && m < 60) {
        Some(h * 60 + m)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(windows: &[&str], offset: i32) -> ServiceHours {
        let windows: Vec<String> = windows.iter().map(|s| s.to_string()).collect();
        ServiceHours::parse(&windows, offset).unwrap()
    }

    #[test]
    fn no_windows_is_always_open() {
        assert!(hours(&[], 0).is_open_at(0));
    }

    #[test]
    fn weekday_window_in_an_offset() {
        // 2026-11-23 is a Monday; 14:00 UTC is 09:00 at UTC-5.
        let monday_14_utc = 1_795_442_400;
        let h = hours(&["mon-fri 09:00-17:00"], -300);
        assert!(h.is_open_at(monday_14_utc));
        assert!(!h.is_open_at(monday_14_utc - 60));
        assert!(!hours(&["sat-sun 00:00-24:00"], -300).is_open_at(monday_14_utc));
    }

    #[test]
    fn next_opening_is_later_today_tomorrow_or_after_the_weekend() {
        // 2026-11-23 is a Monday; 14:00 UTC is 09:00 at UTC-5.
        let monday_14_utc = 1_795_442_400;
        let h = hours(&["mon-fri 09:00-17:00"], -300);
        // Open now: now.
        assert_eq!(h.next_open_at(monday_14_utc), Some(monday_14_utc));
        // Monday 08:00 local: opens at 09:00 the same day.
        assert_eq!(h.next_open_at(monday_14_utc - 3600), Some(monday_14_utc));
        // Monday 17:00 local (closed, end is exclusive): Tuesday 09:00.
        let monday_17_local = monday_14_utc + 8 * 3600;
        assert_eq!(
            h.next_open_at(monday_17_local),
            Some(monday_14_utc + 86_400)
        );
        // Friday 18:00 local: the next Monday 09:00.
        let friday_18_local = monday_14_utc + 4 * 86_400 + 9 * 3600;
        assert_eq!(
            h.next_open_at(friday_18_local),
            Some(monday_14_utc + 7 * 86_400)
        );
    }

    #[test]
    fn next_opening_of_a_weekly_window_a_week_ahead() {
        let monday_14_utc = 1_795_442_400;
        let h = hours(&["mon 09:00-10:00"], 0);
        // Monday 14:00 UTC, after this week's window: next Monday 09:00 UTC.
        assert_eq!(
            h.next_open_at(monday_14_utc),
            Some(monday_14_utc - 5 * 3600 + 7 * 86_400)
        );
    }

    #[test]
    fn always_open_has_no_next_opening() {
        assert_eq!(hours(&[], 0).next_open_at(0), None);
    }

    #[test]
    fn bad_windows_are_refused() {
        for bad in [
            "mon 9-17",
            "funday 09:00-10:00",
            "mon 10:00-09:00",
            "mon-fri",
        ] {
            assert!(ServiceHours::parse(&[bad.to_string()], 0).is_err(), "{bad}");
        }
    }
}
