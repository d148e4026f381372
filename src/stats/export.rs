//! CSV of exactly what a report shows: one row per published number, every row with the same
//! columns, the report's period, filters, form version, threshold and date first.

use serde_json::Value;

const COLUMNS: [&str; 7] = [
    "section", "period", "queue", "item", "option", "value", "share",
];

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Turns a report (or the funder preset) into CSV.
pub fn to_csv(report: &Value) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(COLUMNS)?;
    let label = text(&report["period"]["label"]);
    let queue = report["filters"]["queue"]
        .as_str()
        .unwrap_or("all")
        .to_string();
    let mut row =
        |section: &str, period: &str, item: &str, option: &str, value: &Value, share: &Value| {
            out.write_record([
                section,
                period,
                &queue,
                item,
                option,
                &text(value),
                &text(share),
            ])
        };
    let meta = [
        ("generated_on", report["generated_on"].clone()),
        ("period_kind", report["period"]["kind"].clone()),
        ("period_start", report["period"]["start"].clone()),
        ("period_end", report["period"]["end"].clone()),
        ("form", report["filters"]["form"].clone()),
        ("form_version", report["filters"]["version"].clone()),
        (
            "suppression_threshold",
            report["suppression"]["threshold"].clone(),
        ),
        (
            "suppression_marker",
            report["suppression"]["marker"].clone(),
        ),
        ("date_bucket", report["date_bucket"].clone()),
    ];
    for (item, value) in meta {
        row("meta", &label, item, "", &value, &Value::Null)?;
    }
    if let Some(totals) = report["totals"].as_object() {
        for (item, value) in totals {
            row("totals", &label, item, "", value, &Value::Null)?;
        }
    }
    for month in report["months"].as_array().into_iter().flatten() {
        let name = text(&month["month"]);
        for (item, value) in month.as_object().into_iter().flatten() {
            if item != "month" {
                row("month", &name, item, "", value, &Value::Null)?;
            }
        }
    }
    for section in ["wait", "duration"] {
        for quantile in ["median", "p90"] {
            row(
                section,
                &label,
                quantile,
                "",
                &report[section][quantile],
                &Value::Null,
            )?;
        }
    }
    let forms: Vec<&Value> = match report.get("forms").and_then(Value::as_object) {
        Some(forms) => forms.values().collect(),
        None => vec![&report["form"]],
    };
    for form in forms.into_iter().filter(|f| !f.is_null()) {
        let name = format!("{} v{}", text(&form["form"]), text(&form["version"]));
        row(
            "form",
            &label,
            &name,
            "submissions",
            &form["submissions"],
            &Value::Null,
        )?;
        row(
            "form",
            &label,
            &name,
            "withheld_under_13",
            &form["withheld_under_13"],
            &Value::Null,
        )?;
        for question in form["questions"].as_array().into_iter().flatten() {
            let id = format!("{name}:{}", text(&question["id"]));
            row(
                "question",
                &label,
                &id,
                "",
                &question["respondents"],
                &Value::Null,
            )?;
            for option in question["options"].as_array().into_iter().flatten() {
                row(
                    "question",
                    &label,
                    &id,
                    &text(&option["id"]),
                    &option["count"],
                    &option["share"],
                )?;
            }
            for month in question["months"].as_array().into_iter().flatten() {
                let m = text(&month["month"]);
                row(
                    "question_month",
                    &m,
                    &id,
                    "",
                    &month["respondents"],
                    &Value::Null,
                )?;
                for option in month["options"].as_array().into_iter().flatten() {
                    row(
                        "question_month",
                        &m,
                        &id,
                        &text(&option["id"]),
                        &option["count"],
                        &option["share"],
                    )?;
                }
            }
        }
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 text"))
}
