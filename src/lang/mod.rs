//! Frontends: one per language family, each turning a file's text into [`Facts`].
//!
//! This module picks the frontend for a path and is the only place that knows which file
//! names and extensions belong to which language. Frontends never match rules and never
//! print; a frontend that cannot parse a file returns what it recovered with
//! `parse_errors` set, so literal-level checks still run.

use std::path::Path;

use crate::facts::{Facts, Lang};

pub mod clike;
pub mod config;
pub mod javascript;
pub mod notebook;
pub mod python;
pub mod rust;
pub mod treesitter;

/// The language of a path, from its file name and extension; `None` for files phi-lint
/// does not read.
pub fn detect(path: &Path) -> Option<Lang> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower == ".env" || lower.starts_with(".env.") || lower.ends_with(".env") {
        return Some(Lang::Env);
    }
    if lower == "dockerfile" || lower.starts_with("dockerfile.") || lower.ends_with(".dockerfile") {
        return Some(Lang::Dockerfile);
    }
    let ext = lower.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "py" | "pyi" => Lang::Python,
        "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
        "ts" | "mts" | "cts" => Lang::TypeScript,
        "tsx" => Lang::Tsx,
        "cs" => Lang::CSharp,
        "java" => Lang::Java,
        "go" => Lang::Go,
        "rs" => Lang::Rust,
        "yaml" | "yml" => Lang::Yaml,
        "json" | "jsonc" => Lang::Json,
        "toml" => Lang::Toml,
        "ini" | "cfg" | "properties" => Lang::Ini,
        "tf" | "hcl" | "tfvars" => Lang::Hcl,
        "bicep" | "bicepparam" => Lang::Bicep,
        "ipynb" => Lang::Notebook,
        _ => return None,
    })
}

/// Runs the frontend for `lang` on `text`. Imports are resolved before returning.
pub fn extract(lang: Lang, text: &str) -> Facts {
    let mut facts = match lang {
        Lang::Python => python::facts(text),
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => javascript::facts(text, lang),
        Lang::CSharp | Lang::Java | Lang::Go => clike::facts(text, lang),
        Lang::Rust => rust::facts(text),
        Lang::Notebook => notebook::facts(text),
        _ => config::facts(text, lang),
    };
    facts.resolve_imports();
    facts
}
