//! Any bytes as a form submission's answers, checked against the shipped intake form and exit
//! survey: a checked submission or an error naming the field, never a panic.
#![no_main]

use haven::forms::{answers, FormKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Object(answers)) = serde_json::from_slice(data) else {
        return;
    };
    let forms = haven::Config::embedded_defaults().forms;
    for kind in [FormKind::Intake, FormKind::Survey] {
        for store_free_text in [false, true] {
            if let Err(error) = answers::check(forms.form(kind), &answers, store_free_text) {
                assert!(error.field.is_some());
            }
        }
    }
});
