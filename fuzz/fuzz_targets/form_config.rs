//! Any text as the `[forms.intake]` table of a configuration: a valid form or a named error,
//! never a panic; a form that passes takes its own first options as answers.
#![no_main]

use haven::forms::{answers, FormKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = haven::Config::from_toml_str(&format!("[forms.intake]\n{text}")) else {
        return;
    };
    assert!(config.validate().is_ok());
    let intake = config.forms.form(FormKind::Intake);
    let answers = intake
        .questions
        .iter()
        .filter_map(|q| {
            let first = *q.offered_options().first()?;
            Some((q.id.clone(), serde_json::Value::from(first)))
        })
        .collect();
    let _ = answers::check(intake, &answers, true);
});
