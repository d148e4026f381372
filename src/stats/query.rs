//! Reading an evaluator's query: whole periods on the fiscal calendar, a configured queue or
//! all, a form and one of its versions. Anything else is a 400 that says why.

use std::collections::HashMap;

use super::{
    calendar::{Month, Period, PeriodKind},
    StatsError,
};
use crate::{config::Config, forms::FormKind};

#[derive(Debug, Clone)]
pub struct Query {
    pub period: Period,
    /// `None`: all queues.
    pub queue: Option<String>,
    pub form: FormKind,
    pub version: u32,
}

fn bad(message: impl Into<String>) -> StatsError {
    StatsError::BadQuery(message.into())
}

const KNOWN: &[&str] = &["period", "start", "queue", "form", "version"];

pub fn parse_query(params: &HashMap<String, String>, config: &Config) -> Result<Query, StatsError> {
    if let Some(unknown) = params.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        let shown: String = unknown.chars().take(40).collect();
        return Err(bad(format!(
            "Unknown parameter `{shown}`; expected: {}.",
            KNOWN.join(", ")
        )));
    }
    let kind = params
        .get("period")
        .map_or(Some(PeriodKind::Month), |p| PeriodKind::parse(p));
    let kind = kind.ok_or_else(|| bad("`period` is month, quarter or fiscal_year."))?;
    let fy_start = config.stats.fiscal_year_start_month as u8;
    let start = match params.get("start") {
        Some(text) => Month::parse(text)
            .ok_or_else(|| bad("`start` is the period's first month, as YYYY-MM."))?,
        None => {
            let today = super::calendar::local_date(
                crate::hub::now_ms(),
                config.service_hours.utc_offset_minutes,
            );
            let this_month = Month::of(today);
            match kind {
                PeriodKind::Month => this_month,
                PeriodKind::FiscalYear => this_month.fiscal_year_start(fy_start),
                PeriodKind::Quarter => {
                    let fy = this_month.fiscal_year_start(fy_start);
                    fy.plus(this_month.months_since(fy) / 3 * 3)
                }
            }
        }
    };
    let period =
        Period::new(kind, start, fy_start).map_err(|why| bad(format!("`start`: {why}.")))?;
    let queue = match params.get("queue").map(String::as_str) {
        None | Some("all") | Some("") => None,
        Some(id) if config.queues.iter().any(|q| q.id == id) => Some(id.to_string()),
        Some(_) => return Err(bad("`queue` is `all` or the id of a configured queue.")),
    };
    let form = match params.get("form") {
        None => FormKind::Intake,
        Some(text) => FormKind::parse(text).ok_or_else(|| bad("`form` is intake or survey."))?,
    };
    let version = match params.get("version") {
        None => config.forms.form(form).version,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| bad("`version` is a form version number."))?,
    };
    Ok(Query {
        period,
        queue,
        form,
        version,
    })
}

/// `fiscal_year=2026`: the fiscal year named by the calendar year it ends in.
pub fn parse_funder(
    params: &HashMap<String, String>,
    config: &Config,
) -> Result<Period, StatsError> {
    let fy_start = config.stats.fiscal_year_start_month as u8;
    let year: i32 = params
        .get("fiscal_year")
        .and_then(|y| y.parse().ok())
        .filter(|y| (2000..=2200).contains(y))
        .ok_or_else(|| {
            bad("`fiscal_year` is a year such as 2026 (the year the fiscal year ends in).")
        })?;
    let start_year = if fy_start == 1 { year } else { year - 1 };
    let start = Month {
        year: start_year,
        month: fy_start,
    };
    Period::new(PeriodKind::FiscalYear, start, fy_start).map_err(bad)
}
