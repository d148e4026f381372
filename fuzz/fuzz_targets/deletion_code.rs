//! Any text as a typed deletion code: a hash or `None`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(stored) = haven::forms::code::hash(text) {
            assert_eq!(stored.len(), 64);
        }
    }
});
