//! The config loader (`config::load`, as for `phi-lint.toml` and `pyproject.toml`) and the
//! settings resolution that follows it, on arbitrary text.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use phi_lint::{config, rule};

fuzz_target!(|data: &[u8]| {
    static CATALOG: OnceLock<rule::Catalog> = OnceLock::new();
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let catalog = CATALOG.get_or_init(|| rule::builtin().expect("built-in rules"));
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("tempdir")).path();
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = if pick & 1 == 0 { "phi-lint.toml" } else { "pyproject.toml" };
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write config");
    if let Ok(file) = config::load(&path, dir) {
        let _ = config::resolve(Some(&file), catalog, &config::Overrides::default());
    }
});
