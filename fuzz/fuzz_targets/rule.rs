//! The rule loader (`rule::compile`) on arbitrary rule-file text, as for custom rules.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use phi_lint::rule;

fuzz_target!(|data: &[u8]| {
    static CATALOG: OnceLock<rule::Catalog> = OnceLock::new();
    let catalog = CATALOG.get_or_init(|| rule::builtin().expect("built-in rules"));
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = rule::compile("rules/fuzz.toml", text, &catalog.knowledge, true);
});
