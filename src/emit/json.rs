//! The `json` and `jsonl` formats: phi-lint's own stable machine-readable output.
//!
//! This is not SARIF (see `sarif.rs`) and not a serialisation of internal types that may
//! change: the schema below is a contract, versioned by its top-level `version`.
//!
//! # `json` schema (version 1)
//!
//! One pretty-printed object (two-space indent, trailing newline), keys in this order:
//!
//! ```text
//! {
//!   "version": 1,                         // schema version; bumped on breaking change
//!   "tool": { "name": "phi-lint", "version": "0.1.0" },
//!   "findings": [ Finding... ],           // sorted by path, line, column, rule;
//!                                         // includes suppressed findings
//!   "notes": [ { "path": str, "message": str, "internal": true? } ... ],
//!                                         // "internal" present (true) only for internal errors
//!   "summary": {
//!     "files_scanned": int,
//!     "errors": int, "warnings": int, "notes": int,   // active findings by severity
//!     "suppressed": int                               // suppressed findings
//!   }
//! }
//! ```
//!
//! A `Finding` object:
//!
//! ```text
//! {
//!   "rule": "PHI201", "name": "phi-to-llm-plaintext",
//!   "severity": "error" | "warning" | "note",
//!   "path": str,                          // '/'-separated, relative to the working dir
//!   "line": int, "column": int,           // 1-based; columns count Unicode scalar values
//!   "end_line": int, "end_column": int,   // end column is exclusive
//!   "message": str,                       // secrets already masked
//!   "help": str, "docs": str (URL),
//!   "fingerprint": str,                   // line-independent identity, for baselines
//!   "suppressed": { "kind": str, "reason": str, "location": str }   // absent if active
//! }
//! ```
//!
//! There is no timestamp or elapsed time: two runs over the same tree are byte-identical.
//!
//! # `jsonl`
//!
//! One compact `Finding` object (as above) per line, suppressed findings included, and
//! nothing else: no notes, no summary.

use std::io::{self, Write};

use serde::Serialize;

use super::{Counts, EmitOptions};
use crate::diagnostic::{Finding, Note, Report};

/// The `json` schema version.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    tool: Tool,
    findings: &'a [Finding],
    notes: &'a [Note],
    summary: Summary,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    files_scanned: usize,
    errors: usize,
    warnings: usize,
    notes: usize,
    suppressed: usize,
}

pub fn emit(report: &Report, opts: &EmitOptions, out: &mut dyn Write) -> io::Result<()> {
    let c = Counts::of(report);
    let doc = JsonReport {
        version: SCHEMA_VERSION,
        tool: Tool {
            name: "phi-lint",
            version: opts.version,
        },
        findings: &report.findings,
        notes: &report.notes,
        summary: Summary {
            files_scanned: report.files_scanned,
            errors: c.errors,
            warnings: c.warnings,
            notes: c.notes,
            suppressed: c.suppressed,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

pub fn emit_lines(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        serde_json::to_writer(&mut *out, f)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::{emit, testdata, Format};

    fn render(format: Format, report: &Report) -> String {
        let mut out = Vec::new();
        let opts = EmitOptions {
            version: "9.9.9",
            ..EmitOptions::default()
        };
        emit(format, report, &opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_has_the_documented_shape_and_key_order() {
        let s = render(Format::Json, &testdata::report());
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["tool"]["name"], "phi-lint");
        assert_eq!(v["tool"]["version"], "9.9.9");
        assert_eq!(v["findings"].as_array().unwrap().len(), 5);
        assert_eq!(
            v["summary"],
            serde_json::json!({"files_scanned": 4, "errors": 2, "warnings": 1, "notes": 1, "suppressed": 1})
        );
        // Key order is part of the contract.
        let top: Vec<usize> = [
            "\"version\"",
            "\"tool\"",
            "\"findings\"",
            "\"notes\"",
            "\"summary\"",
        ]
        .iter()
        .map(|k| s.find(k).unwrap())
        .collect();
        assert!(top.windows(2).all(|w| w[0] < w[1]), "{top:?}");
        let first = &s[s.find("\"findings\"").unwrap()..];
        let first = &first[..first.find('}').unwrap()];
        let keys = [
            "rule",
            "name",
            "severity",
            "path",
            "line",
            "column",
            "end_line",
            "end_column",
            "message",
            "help",
            "docs",
            "fingerprint",
        ];
        let at: Vec<usize> = keys
            .iter()
            .map(|k| first.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
        assert!(s.ends_with("}\n"));
        assert!(s.contains("\n  \"findings\": [\n    {\n      \"rule\": \"PHI201\","));
    }

    #[test]
    fn json_finding_fields_and_suppression() {
        let s = render(Format::Json, &testdata::report());
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        let f = &v["findings"][0];
        assert_eq!(
            *f,
            serde_json::json!({
                "rule": "PHI201", "name": "phi-to-llm-plaintext", "severity": "error",
                "path": "src/app.py", "line": 3, "column": 8, "end_line": 3, "end_column": 78,
                "message": testdata::TRICKY, "help": "help for PHI201",
                "docs": "https://phi-lint.dev/rules/PHI201", "fingerprint": "PHI201:src/app.py:70"
            })
        );
        let sup: Vec<&serde_json::Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f.get("suppressed").is_some())
            .collect();
        assert_eq!(sup.len(), 1);
        assert_eq!(
            sup[0]["suppressed"],
            serde_json::json!({"kind": "inline", "reason": "name is a test fixture", "location": "src/app.py:8"})
        );
        assert_eq!(
            v["notes"],
            serde_json::json!([
                {"path": "src/broken.py", "message": "panic while checking: index out of bounds", "internal": true},
                {"path": "vendor/big.min.js", "message": "skipped: larger than 1 MiB"}
            ])
        );
    }

    #[test]
    fn json_is_deterministic_and_ignores_elapsed() {
        let mut a = testdata::report();
        let s1 = render(Format::Json, &a);
        a.elapsed = std::time::Duration::from_secs(99);
        assert_eq!(s1, render(Format::Json, &a));
        assert!(!s1.contains("elapsed"));
    }

    #[test]
    fn empty_json() {
        let s = render(Format::Json, &testdata::clean());
        assert_eq!(
            s,
            "{\n  \"version\": 1,\n  \"tool\": {\n    \"name\": \"phi-lint\",\n    \"version\": \"9.9.9\"\n  },\n  \"findings\": [],\n  \"notes\": [],\n  \"summary\": {\n    \"files_scanned\": 3,\n    \"errors\": 0,\n    \"warnings\": 0,\n    \"notes\": 0,\n    \"suppressed\": 0\n  }\n}\n"
        );
    }

    #[test]
    fn jsonl_is_one_object_per_finding() {
        let r = testdata::report();
        let s = render(Format::Jsonl, &r);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), r.findings.len());
        assert!(s.ends_with('\n'));
        for (line, f) in lines.iter().zip(&r.findings) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["rule"], f.rule.as_str());
            assert_eq!(v["line"], f.line);
            assert_eq!(v.get("suppressed").is_some(), f.suppressed.is_some());
        }
        // The message's line breaks stay escaped inside the one line.
        assert!(lines[0].contains("ssn\\r\\nkey"));
        assert_eq!(render(Format::Jsonl, &testdata::clean()), "");
    }
}
