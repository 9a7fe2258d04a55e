//! A small hand-built [`Report`] shared by the emitters' tests.
//!
//! It has an error, a warning, a note-severity finding spanning two lines, a suppressed
//! finding, a second error in another file, a non-ASCII path, a message with `%`, `,`, `:`
//! and line breaks, a masked secret, a plain note and an internal-error note. It is test
//! data only: nothing here is how the engine builds findings.

use std::path::PathBuf;

use crate::diagnostic::{Excerpt, Finding, Note, Report, RuleDocs, RuleInfo, Severity, Suppressed};

/// The message with every character the CI formats must escape.
pub const TRICKY: &str = "PHI sent to api.openai.com: 100% of fields, incl. ssn\r\nkey sk-a****** in header;\nsee [docs]";

fn rule(id: &str, name: &str, severity: Severity, summary: &str) -> RuleInfo {
    RuleInfo {
        id: id.into(),
        name: name.into(),
        severity,
        summary: summary.into(),
        languages: vec!["python".into(), "typescript".into()],
        help: format!("help for {id}"),
        docs: RuleDocs {
            what: format!("{summary}."),
            why: "PHI must not leave the covered entity without a BAA.".into(),
            safeguard: "45 CFR 164.312(e)(1) — transmission security".into(),
            bad: "requests.post(url, json=patient)".into(),
            good: "requests.post(url, json=deidentify(patient))".into(),
            options: String::new(),
            references: vec!["https://www.hhs.gov/hipaa/for-professionals/security/".into()],
        },
        url: format!("https://phi-lint.dev/rules/{id}"),
        custom: false,
    }
}

/// Builds a finding whose positions are computed from its excerpt, like the engine does.
fn finding(
    rule: &str,
    name: &str,
    severity: Severity,
    path: &str,
    message: &str,
    text: &str,
    first_line: usize,
    span: std::ops::Range<usize>,
) -> Finding {
    let pos = |off: usize| {
        let before = &text[..off];
        let line = first_line + before.matches('\n').count();
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, text[start..off].chars().count() + 1)
    };
    let (line, column) = pos(span.start);
    let (end_line, end_column) = pos(span.end);
    Finding {
        rule: rule.into(),
        name: name.into(),
        severity,
        path: path.into(),
        line,
        column,
        end_line,
        end_column,
        message: message.into(),
        help: format!("help for {rule}"),
        docs: format!("https://phi-lint.dev/rules/{rule}"),
        fingerprint: format!("{rule}:{path}:{}", &text[span.clone()].len()),
        excerpt: Excerpt {
            text: text.into(),
            first_line,
            span: span.clone(),
        },
        suppressed: None,
        span: 0..0,
    }
}

pub fn report() -> Report {
    let app = "resp = requests.post(\"http://api.openai.com\", json=patient, key=\"sk-a******\")";
    let mut suppressed = finding(
        "PHI105",
        "phi-in-log",
        Severity::Warning,
        "src/app.py",
        "Patient name written to a log",
        "log.info(patient.name)",
        9,
        9..21,
    );
    suppressed.suppressed = Some(Suppressed {
        kind: "inline".into(),
        reason: "name is a test fixture".into(),
        location: "src/app.py:8".into(),
    });
    let mut findings = vec![
        finding(
            "PHI201",
            "phi-to-llm-plaintext",
            Severity::Error,
            "src/app.py",
            TRICKY,
            app,
            3,
            7..77,
        ),
        finding(
            "PHI310",
            "missing-baa-marker",
            Severity::Warning,
            "src/app.py",
            "LLM client created without a BAA marker",
            "client = OpenAI()",
            7,
            9..17,
        ),
        suppressed,
        finding(
            "PHI400",
            "phi-in-prompt",
            Severity::Note,
            "src/données/patiënt.py",
            "Diagnosis « é » interpolated into a prompt",
            "prompt = f\"Résumé: {dx}\n  for {naïve}\"",
            12,
            11..33,
        ),
        finding(
            "PHI201",
            "phi-to-llm-plaintext",
            Severity::Error,
            "web/ui.ts",
            "PHI sent over http",
            "fetch('http://x', {body: mrn})",
            1,
            0..30,
        ),
    ];
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule).cmp(&(&b.path, b.line, b.column, &b.rule))
    });
    Report {
        findings,
        notes: vec![
            Note {
                path: "src/broken.py".into(),
                message: "panic while checking: index out of bounds".into(),
                internal: true,
            },
            Note {
                path: "vendor/big.min.js".into(),
                message: "skipped: larger than 1 MiB".into(),
                internal: false,
            },
        ],
        files_scanned: 4,
        elapsed: std::time::Duration::from_millis(1234),
        rules: vec![
            rule(
                "PHI105",
                "phi-in-log",
                Severity::Warning,
                "PHI written to application logs",
            ),
            rule(
                "PHI201",
                "phi-to-llm-plaintext",
                Severity::Error,
                "PHI sent to an LLM endpoint without TLS",
            ),
            rule(
                "PHI310",
                "missing-baa-marker",
                Severity::Warning,
                "LLM client without a BAA marker",
            ),
            rule(
                "PHI400",
                "phi-in-prompt",
                Severity::Note,
                "PHI interpolated into a prompt",
            ),
        ],
        root: PathBuf::from("/home/dev/my project"),
    }
}

/// A report with nothing in it but a scanned-file count.
pub fn clean() -> Report {
    Report {
        files_scanned: 3,
        root: PathBuf::from("/home/dev/my project"),
        ..Report::default()
    }
}

#[test]
fn positions_are_consistent() {
    let r = report();
    let f = &r.findings[0];
    assert_eq!((f.line, f.column, f.end_line, f.end_column), (3, 8, 3, 78));
    let n = r.findings.iter().find(|f| f.rule == "PHI400").unwrap();
    assert_eq!(
        (n.line, n.column, n.end_line, n.end_column),
        (12, 12, 13, 8)
    );
}
