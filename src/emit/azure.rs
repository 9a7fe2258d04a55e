//! The `azure` format: Azure Pipelines `task.logissue` logging commands.
//!
//! `##vso[task.logissue type=error;sourcepath=PATH;linenumber=L;columnnumber=C;code=RULE;]message`
//! per active finding; Azure has only `error` and `warning` issues, so note severity is
//! logged as `warning`. Internal-error notes are `error` issues; other notes are plain log
//! lines. Property values and the message are escaped the way Azure's own task library
//! does (`%` → `%AZP25`, `;` → `%3B`, `]` → `%5D`, `\r` → `%0D`, `\n` → `%0A`), so nothing
//! can close a command early or start another. No `task.complete` is printed: the step's
//! result is the exit code's business. Suppressed findings are never logged.

use std::io::{self, Write};

use super::one_line;
use crate::diagnostic::{Finding, Report, Severity};

/// Azure's escaping. `%` must go first; the agent reads `%AZP25` back as `%` (a plain
/// `%25` would be shown literally).
fn escape(s: &str) -> String {
    s.replace('%', "%AZP25")
        .replace(';', "%3B")
        .replace(']', "%5D")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn issue(f: &Finding) -> String {
    let kind = match f.severity {
        Severity::Error => "error",
        Severity::Warning | Severity::Note => "warning",
    };
    format!(
        "##vso[task.logissue type={kind};sourcepath={};linenumber={};columnnumber={};code={};]{}",
        escape(&f.path),
        f.line,
        f.column,
        escape(&f.rule),
        escape(&f.message)
    )
}

pub fn emit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in report.active() {
        writeln!(out, "{}", issue(f))?;
    }
    for n in &report.notes {
        if n.internal {
            let source = if n.path.is_empty() {
                String::new()
            } else {
                format!("sourcepath={};", escape(&n.path))
            };
            writeln!(
                out,
                "##vso[task.logissue type=error;{source}code=internal-error;]{}",
                escape(&n.message)
            )?;
        } else if n.path.is_empty() {
            writeln!(out, "note: {}", one_line(&n.message))?;
        } else {
            writeln!(out, "note: {}: {}", one_line(&n.path), one_line(&n.message))?;
        }
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
            "##vso[task.logissue type=error;sourcepath=src/app.py;linenumber=3;columnnumber=8;code=PHI201;]PHI sent to api.openai.com: 100%AZP25 of fields, incl. ssn%0D%0Akey sk-a****** in header%3B%0Asee [docs%5D\n\
             ##vso[task.logissue type=warning;sourcepath=src/app.py;linenumber=7;columnnumber=10;code=PHI310;]LLM client created without a BAA marker\n\
             ##vso[task.logissue type=warning;sourcepath=src/données/patiënt.py;linenumber=12;columnnumber=12;code=PHI400;]Diagnosis « é » interpolated into a prompt\n\
             ##vso[task.logissue type=error;sourcepath=web/ui.ts;linenumber=1;columnnumber=1;code=PHI201;]PHI sent over http\n\
             ##vso[task.logissue type=error;sourcepath=src/broken.py;code=internal-error;]panic while checking: index out of bounds\n\
             note: vendor/big.min.js: skipped: larger than 1 MiB\n"
        );
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("a;b]c%d\r\ne"), "a%3Bb%5Dc%AZP25d%0D%0Ae");
        let mut r = testdata::clean();
        let mut f = testdata::report().findings[0].clone();
        f.path = "we;ird]/x.py".into();
        r.findings.push(f);
        assert!(render(&r).starts_with(
            "##vso[task.logissue type=error;sourcepath=we%3Bird%5D/x.py;linenumber=3;"
        ));
    }

    #[test]
    fn no_task_complete_and_nothing_for_a_clean_run() {
        assert!(!render(&testdata::report()).contains("task.complete"));
        assert_eq!(render(&testdata::clean()), "");
    }
}
