//! The `github` format: GitHub Actions workflow commands that become PR annotations.
//!
//! One `::error`/`::warning`/`::notice` command per active finding (note severity maps to
//! `::notice`), with the message, help and docs link as the annotation text. Data is escaped
//! (`%`, `\r`, `\n`) and so are properties (also `:` and `,`), so no message can end a
//! command early or inject another one. GitHub shows at most 10 annotations of each level
//! per step (50 per job); when a level overflows, a closing `::notice::` says how many
//! findings there are and points at SARIF upload. Internal-error notes become `::error`
//! commands; other notes are plain log lines. Suppressed findings are never annotated.
//! This is not a GitHub API client: it only prints.

use std::io::{self, Write};

use super::{one_line, Counts};
use crate::diagnostic::{Finding, Report, Severity};

/// Annotations GitHub shows per level per step.
const PER_STEP: usize = 10;
/// Annotations GitHub shows per job.
const PER_JOB: usize = 50;

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(sev: Severity) -> &'static str {
    match sev {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

fn annotation(f: &Finding) -> String {
    let mut text = f.message.clone();
    if !f.help.is_empty() {
        text.push_str("\n\nhelp: ");
        text.push_str(&f.help);
    }
    if !f.docs.is_empty() {
        text.push_str("\ndocs: ");
        text.push_str(&f.docs);
    }
    format!(
        "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        command(f.severity),
        escape_property(&f.path),
        f.line,
        f.column,
        f.end_line,
        f.end_column,
        escape_property(&format!("{} ({})", f.rule, f.name)),
        escape_data(&text)
    )
}

pub fn emit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in report.active() {
        writeln!(out, "{}", annotation(f))?;
    }
    let mut internal = 0;
    for n in &report.notes {
        if n.internal {
            internal += 1;
            let file = if n.path.is_empty() {
                String::new()
            } else {
                format!("file={},", escape_property(&n.path))
            };
            writeln!(
                out,
                "::error {file}title=phi-lint internal error::{}",
                escape_data(&n.message)
            )?;
        } else if n.path.is_empty() {
            writeln!(out, "note: {}", one_line(&n.message))?;
        } else {
            writeln!(out, "note: {}: {}", one_line(&n.path), one_line(&n.message))?;
        }
    }

    let c = Counts::of(report);
    let mut hidden = Vec::new();
    for (n, level) in [
        (c.errors + internal, "error"),
        (c.warnings, "warning"),
        (c.notes, "notice"),
    ] {
        if n > PER_STEP {
            hidden.push(format!(
                "phi-lint reported {n} {level} annotations; GitHub shows only the first {PER_STEP} {level} annotations of a step."
            ));
        }
    }
    let total = c.errors + internal + c.warnings + c.notes;
    if hidden.is_empty() && total > PER_JOB {
        hidden.push(format!(
            "phi-lint reported {total} annotations; GitHub shows at most {PER_JOB} per job."
        ));
    }
    if !hidden.is_empty() {
        hidden.push(
            "Run phi-lint with --format sarif and upload the file with github/codeql-action/upload-sarif to see every finding in code scanning."
                .to_string(),
        );
        writeln!(
            out,
            "::notice title=phi-lint::{}",
            escape_data(&hidden.join("\n"))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::testdata;

    fn render(report: &Report) -> String {
        let mut out = Vec::new();
        emit(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn golden() {
        assert_eq!(
            render(&testdata::report()),
            "::error file=src/app.py,line=3,col=8,endLine=3,endColumn=78,title=PHI201 (phi-to-llm-plaintext)::PHI sent to api.openai.com: 100%25 of fields, incl. ssn%0D%0Akey sk-a****** in header;%0Asee [docs]%0A%0Ahelp: help for PHI201%0Adocs: https://phi-lint.dev/rules/PHI201\n\
             ::warning file=src/app.py,line=7,col=10,endLine=7,endColumn=18,title=PHI310 (missing-baa-marker)::LLM client created without a BAA marker%0A%0Ahelp: help for PHI310%0Adocs: https://phi-lint.dev/rules/PHI310\n\
             ::notice file=src/données/patiënt.py,line=12,col=12,endLine=13,endColumn=8,title=PHI400 (phi-in-prompt)::Diagnosis « é » interpolated into a prompt%0A%0Ahelp: help for PHI400%0Adocs: https://phi-lint.dev/rules/PHI400\n\
             ::error file=web/ui.ts,line=1,col=1,endLine=1,endColumn=31,title=PHI201 (phi-to-llm-plaintext)::PHI sent over http%0A%0Ahelp: help for PHI201%0Adocs: https://phi-lint.dev/rules/PHI201\n\
             ::error file=src/broken.py,title=phi-lint internal error::panic while checking: index out of bounds\n\
             note: vendor/big.min.js: skipped: larger than 1 MiB\n"
        );
    }

    #[test]
    fn properties_escape_colon_and_comma() {
        assert_eq!(escape_property("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae");
        assert_eq!(escape_data("a:b,c%d\r\ne"), "a:b,c%25d%0D%0Ae");
        let mut r = testdata::clean();
        let mut f = testdata::report().findings[0].clone();
        f.path = "odd,name:x.py".into();
        r.findings.push(f);
        assert!(render(&r).starts_with("::error file=odd%2Cname%3Ax.py,line=3,"));
    }

    #[test]
    fn no_line_is_injectable() {
        // Every output line is one command or a plain `note:` line.
        let mut r = testdata::report();
        r.notes[1].message = "x\n::add-mask::y".into();
        for line in render(&r).lines() {
            assert!(
                line.starts_with("::") || line.starts_with("note: "),
                "{line}"
            );
            assert!(!line.contains("\n::add-mask"));
        }
    }

    #[test]
    fn overflow_notice() {
        let mut r = testdata::clean();
        let base = testdata::report().findings[0].clone();
        for i in 0..12 {
            let mut f = base.clone();
            f.line = i + 1;
            r.findings.push(f);
        }
        let s = render(&r);
        assert_eq!(s.lines().filter(|l| l.starts_with("::error ")).count(), 12);
        let last = s.lines().last().unwrap();
        assert_eq!(
            last,
            "::notice title=phi-lint::phi-lint reported 12 error annotations; GitHub shows only the first 10 error annotations of a step.%0ARun phi-lint with --format sarif and upload the file with github/codeql-action/upload-sarif to see every finding in code scanning."
        );
        assert!(!render(&testdata::report()).contains("title=phi-lint::"));
    }

    #[test]
    fn clean_run_prints_nothing() {
        assert_eq!(render(&testdata::clean()), "");
    }
}
