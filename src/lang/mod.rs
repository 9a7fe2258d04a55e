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
    // Debug builds only: the hostile-input tests simulate a parse cut off by its time budget.
    if cfg!(debug_assertions) && std::env::var_os("PHI_LINT_TEST_PARSE_CUTOFF").is_some() {
        facts = Facts::new();
        facts.notes.push(format!(
            "the {} parser gave up on this file (time budget); only literals were read",
            lang.name()
        ));
    }
    if !facts.notes.is_empty() {
        literal_fallback(text, &mut facts);
    }
    facts.resolve_imports();
    facts
}

/// After a degraded parse (cut off by the time budget, nesting skipped, unreadable notebook),
/// adds the quoted string literals the frontend did not record, so literal-level rules
/// (endpoints, keys) still run. A literal opens with `"`, `'` or `` ` `` and closes with the
/// same quote on the same line (backslash escapes honoured); literals overlapping a recorded
/// string, comment or config entry are left out, so nothing is reported twice.
pub fn literal_fallback(text: &str, facts: &mut Facts) {
    let mut known: Vec<(usize, usize)> = facts
        .strings
        .iter()
        .map(|s| (s.span.start, s.span.end))
        .chain(facts.comments.iter().map(|c| (c.span.start, c.span.end)))
        .chain(facts.config.iter().flat_map(|e| {
            [
                (e.key_span.start, e.key_span.end),
                (e.value_span.start, e.value_span.end),
            ]
        }))
        .filter(|(a, b)| a < b)
        .collect();
    known.sort_unstable();
    // Running maximum of ends, so "does anything overlap [a, b)" is one binary search.
    let mut max_end = Vec::with_capacity(known.len());
    let mut m = 0;
    for &(_, e) in &known {
        m = m.max(e);
        max_end.push(m);
    }
    let overlaps = |a: usize, b: usize| {
        // Spans starting before `b`: the last of them has the largest running end.
        let n = known.partition_point(|&(s, _)| s < b);
        n > 0 && max_end[n - 1] > a
    };
    for s in scan_literals(text) {
        if !overlaps(s.span.start, s.span.end) {
            facts.strings.push(s);
        }
    }
    facts.strings.sort_by_key(|s| (s.span.start, s.span.end));
}

/// Quoted literals of a text, as written (escapes not decoded), one line at most each.
pub fn scan_literals(text: &str) -> Vec<crate::facts::StrLit> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    // Per quote kind: where the line ends on which one of them was left open. Later quotes
    // of that kind before it cannot close either, so each line is scanned a bounded number
    // of times (no quadratic blow-up on a long line of escaped quotes).
    let mut dead = [0usize; 3];
    let mut i = 0;
    while i < b.len() {
        let q = b[i];
        let k = match q {
            b'"' => 0,
            b'\'' => 1,
            b'`' => 2,
            _ => {
                i += 1;
                continue;
            }
        };
        if i < dead[k] {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let mut closed = None;
        while j < b.len() {
            match b[j] {
                b'\\' => j += 2,
                b'\n' | b'\r' => break,
                c if c == q => {
                    closed = Some(j);
                    break;
                }
                _ => j += 1,
            }
        }
        match closed {
            Some(end) => {
                // Quotes are ASCII, so both ends sit on character boundaries.
                out.push(crate::facts::StrLit {
                    value: text[i + 1..end].to_string(),
                    span: i..end + 1,
                    content_start: i + 1,
                    raw_is_value: true,
                });
                i = end + 1;
            }
            None => {
                dead[k] = j;
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_come_from_names_in_any_case_and_length() {
        let d = |p: &str| detect(Path::new(p));
        assert_eq!(d("src/App.PY"), Some(Lang::Python));
        assert_eq!(d("x/.ENV.local"), Some(Lang::Env));
        assert_eq!(d("prod.env"), Some(Lang::Env));
        assert_eq!(d("Dockerfile.dev"), Some(Lang::Dockerfile));
        assert_eq!(d("api.Dockerfile"), Some(Lang::Dockerfile));
        assert_eq!(d("main.tf"), Some(Lang::Hcl));
        assert_eq!(d("Makefile"), None);
        assert_eq!(d("README"), None);
        // Long names, and names that are not ASCII.
        assert_eq!(
            d(&format!("{}.Ts", "a".repeat(100))),
            Some(Lang::TypeScript)
        );
        assert_eq!(d("é.json"), Some(Lang::Json));
        assert_eq!(d(&format!("{}é.yml", "a".repeat(62))), Some(Lang::Yaml));
    }

    #[test]
    fn literal_scan_honours_escapes_and_lines() {
        let text = "a = \"x\\\"y\" + 'z'\nb = \"open\nc = `t`";
        let lits: Vec<String> = scan_literals(text).into_iter().map(|s| s.value).collect();
        assert_eq!(lits, ["x\\\"y", "z", "t"]);
    }

    #[test]
    fn literal_scan_is_linear_on_escaped_quote_runs() {
        // An unclosed quote followed by a long run of escaped quotes on one line: each quote
        // kind is scanned to the line end at most once.
        let text = format!("\"{}", "\\\"".repeat(500_000));
        assert!(scan_literals(&text).is_empty());
    }

    #[test]
    fn fallback_adds_only_unrecorded_literals() {
        let text = "x = \"https://api.openai.com\"  # 'in a comment'\ny = 'b'";
        let mut facts = python::facts(text);
        let before = facts.strings.len();
        facts.notes.push("cut off".into());
        literal_fallback(text, &mut facts);
        assert_eq!(facts.strings.len(), before, "{:?}", facts.strings);
        let mut empty = Facts::new();
        literal_fallback(text, &mut empty);
        assert_eq!(empty.strings.len(), 3);
    }
}
