//! Any text as a configuration file: a validated config or a named error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = haven::Config::from_toml_str(text) {
            assert!(config.validate().is_ok());
        }
    }
});
