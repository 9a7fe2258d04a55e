//! Test-only: checks the `sarif` output with the SARIF 2.1.0 JSON schema and with
//! Microsoft's SARIF validator (`sarif-multitool validate`).
//!
//! Both tools come from `tools/` (npm: `@microsoft/sarif-multitool`, whose Linux/macOS/
//! Windows package ships the multitool and its `sarif-2.1.0.json` schema); install them with
//! `tools/install.sh`. `PHI_LINT_SARIF_SCHEMA=/path/to/sarif-schema-2.1.0.json` validates
//! against another copy of the schema (e.g. the OASIS errata01 file) instead. When the
//! tools are missing the tests print why and pass locally, but fail when `CI` is set, so
//! CI can't silently skip them. This is not part of the linter.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::diagnostic::{Excerpt, Finding, Note, Report, RuleDocs, RuleInfo, Severity, Suppressed};
use crate::emit::{emit, testdata, EmitOptions, Format};

fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tools")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Fails under CI, otherwise explains the skip.
fn missing(what: &str) {
    let msg = format!(
        "{what} is not installed: run tools/install.sh (npm ci --prefix tools) to validate SARIF"
    );
    if in_ci() {
        panic!("{msg} (CI is set, so this is an error, not a skip)");
    }
    eprintln!("SKIPPED: {msg}");
}

fn schema_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PHI_LINT_SARIF_SCHEMA") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "PHI_LINT_SARIF_SCHEMA={} is not a file",
            p.display()
        );
        return Some(p);
    }
    ["linux", "darwin", "win32"]
        .iter()
        .map(|os| {
            tools_dir()
                .join("node_modules/@microsoft")
                .join(format!("sarif-multitool-{os}"))
                .join("sarif-2.1.0.json")
        })
        .find(|p| p.is_file())
}

/// SARIF logs covering every branch of the emitter.
fn samples() -> Vec<(&'static str, String)> {
    let opts = EmitOptions {
        version: "0.1.0",
        ..EmitOptions::default()
    };
    let render = |r: &Report| {
        let mut out = Vec::new();
        emit(Format::Sarif, r, &opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    vec![
        ("full", render(&testdata::report())),
        ("clean", render(&testdata::clean())),
        ("odd", render(&odd_report())),
        ("fixtures", render(&fixtures_report())),
    ]
}

/// A real run of every built-in rule over the rule fixtures: every rule's findings, inline
/// suppressions, redacted secrets, every language.
fn fixtures_report() -> Report {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = crate::rule::builtin().expect("built-in rules load");
    let settings = crate::settings::Settings::default();
    let active: Vec<usize> = (0..catalog.rules.len()).collect();
    let checker = crate::check::Checker::new(&catalog, &settings, active);
    let inputs: Vec<crate::check::Input> =
        crate::verify::fixture_files(&[root.join("fixtures/rules")])
            .into_iter()
            .map(|p| {
                let display =
                    (p.strip_prefix(root).unwrap_or(&p).to_string_lossy()).replace('\\', "/");
                crate::check::Input::new(p, &display, None, true)
            })
            .collect();
    let mut report = checker.run(&inputs, 2);
    report.root = root.to_path_buf();
    assert!(report.findings.len() > 100, "the fixtures produce findings");
    report
}

/// Absolute and odd paths, external suppressions, a custom rule with sparse docs, a
/// finding without excerpt or rule entry, a run-level note.
fn odd_report() -> Report {
    let base = testdata::report().findings[0].clone();
    let mut abs = base.clone();
    abs.path = "/opt/shared lib/#weird?.py".into();
    abs.suppressed = Some(Suppressed {
        kind: "baseline".into(),
        reason: String::new(),
        location: "phi-lint-baseline.json".into(),
    });
    let mut ignored = base.clone();
    ignored.path = "C:/src/a:b.py".into();
    ignored.suppressed = Some(Suppressed {
        kind: "per-file-ignores".into(),
        reason: "generated code".into(),
        location: "phi-lint.toml:12".into(),
    });
    let bare = Finding {
        rule: "CUSTOM1".into(),
        name: "my rule".into(),
        severity: Severity::Warning,
        path: "100%/x.py".into(),
        line: 1,
        column: 1,
        end_line: 1,
        end_column: 1,
        message: "   ".into(),
        help: String::new(),
        docs: String::new(),
        fingerprint: "f".into(),
        excerpt: Excerpt::default(),
        suppressed: None,
        span: 0..0,
    };
    let mut rules = testdata::report().rules;
    rules.push(RuleInfo {
        id: "CUSTOM2".into(),
        name: "x".into(),
        severity: Severity::Note,
        summary: "custom".into(),
        languages: vec![],
        help: String::new(),
        docs: RuleDocs::default(),
        url: String::new(),
        custom: true,
    });
    Report {
        findings: vec![abs, ignored, bare],
        notes: vec![Note {
            path: String::new(),
            message: "config: unknown key `foo`".into(),
            internal: false,
        }],
        files_scanned: 1,
        elapsed: Default::default(),
        rules,
        root: PathBuf::from("relative/root"),
    }
}

#[test]
fn sarif_matches_the_json_schema() {
    let Some(path) = schema_path() else {
        missing("the SARIF 2.1.0 JSON schema (from @microsoft/sarif-multitool)");
        return;
    };
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (name, sarif) in samples() {
        let value: Value = serde_json::from_str(&sarif).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{name}: SARIF does not match {}:\n{}\n{sarif}",
            path.display(),
            errors.join("\n")
        );
    }
    eprintln!("SARIF samples match {}", path.display());
}

#[test]
fn sarif_passes_the_microsoft_validator() {
    let bin = tools_dir().join("node_modules/.bin/sarif-multitool");
    if !bin.exists() {
        missing("@microsoft/sarif-multitool");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, sarif) in samples() {
        let file = dir.path().join(format!("{name}.sarif"));
        std::fs::write(&file, &sarif).unwrap();
        let report = dir.path().join(format!("{name}.validation.sarif"));
        let out = Command::new("npx")
            .current_dir(tools_dir())
            // The multitool is a .NET program; don't let a machine without ICU break it.
            .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
            .args(["--no-install", "sarif-multitool", "validate"])
            .arg(&file)
            .arg("--output")
            .arg(&report)
            // The multitool's npm launcher runs it through a shell: quote the `;` list.
            .args(["--level", "\"Error;Warning;Note\""])
            .output();
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                missing(&format!("npx ({e})"));
                return;
            }
        };
        let console = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let log: Value = match std::fs::read_to_string(&report) {
            Ok(s) => serde_json::from_str(&s).unwrap(),
            Err(e) => panic!("{name}: the validator wrote no report ({e}):\n{console}"),
        };
        let mut problems = Vec::new();
        let mut notes = Vec::new();
        for run in log["runs"].as_array().into_iter().flatten() {
            let rules = &run["tool"]["driver"]["rules"];
            for r in run["results"].as_array().into_iter().flatten() {
                let rule = r["ruleId"].as_str().unwrap_or("?");
                let default = r["ruleIndex"]
                    .as_u64()
                    .and_then(|i| rules[i as usize]["defaultConfiguration"]["level"].as_str())
                    .unwrap_or("warning");
                let level = r["level"].as_str().unwrap_or(default);
                let line = format!("{level} {rule}: {}", r["message"]);
                match level {
                    "error" | "warning" => problems.push(line),
                    _ => notes.push(line),
                }
            }
            for n in run["invocations"][0]["toolExecutionNotifications"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if n["level"].as_str().unwrap_or("warning") != "note" {
                    problems.push(format!("tool notification: {}", n["message"]));
                }
            }
        }
        for n in &notes {
            eprintln!("{name}: validator note: {n}");
        }
        assert!(
            problems.is_empty() && out.status.success(),
            "{name}: sarif-multitool validate found problems (exit {:?}):\n{}\n{console}\n{sarif}",
            out.status.code(),
            problems.join("\n")
        );
    }
}

/// `cargo test dump_sarif_samples -- --ignored --nocapture` writes the samples for a look.
#[test]
#[ignore]
fn dump_sarif_samples() {
    for (name, s) in samples() {
        let path = std::env::temp_dir().join(format!("phi-lint-sample-{name}.sarif"));
        std::fs::write(&path, s).unwrap();
        eprintln!("wrote {}", path.display());
    }
}
