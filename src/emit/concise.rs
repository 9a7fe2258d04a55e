//! The `concise` format: one line per finding, for editors' error parsers and `grep`.
//!
//! `path:line:col: RULE [severity] message`, then the notes as `path: note: message`
//! (`path: internal error: message` for internal errors). A multi-line message is folded
//! onto its line with literal `\n`s. There is no summary line and no colour: that is the
//! human format's job.

use std::io::{self, Write};

use super::{one_line, position, shown, suppressed_suffix, EmitOptions};
use crate::diagnostic::{Note, Report};

pub fn emit(report: &Report, opts: &EmitOptions, out: &mut dyn Write) -> io::Result<()> {
    for f in shown(report, opts) {
        writeln!(
            out,
            "{}: {} [{}] {}{}",
            position(f),
            f.rule,
            f.severity,
            one_line(&f.message),
            suppressed_suffix(f)
        )?;
    }
    for n in &report.notes {
        writeln!(out, "{}", note_line(n))?;
    }
    Ok(())
}

fn note_line(n: &Note) -> String {
    let kind = if n.internal { "internal error" } else { "note" };
    if n.path.is_empty() {
        format!("{kind}: {}", one_line(&n.message))
    } else {
        format!("{}: {kind}: {}", n.path, one_line(&n.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::testdata;

    fn render(show_suppressed: bool) -> String {
        let mut out = Vec::new();
        let opts = EmitOptions {
            show_suppressed,
            ..EmitOptions::default()
        };
        emit(&testdata::report(), &opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn golden() {
        assert_eq!(
            render(false),
            "src/app.py:3:8: PHI201 [error] PHI sent to api.openai.com: 100% of fields, incl. ssn\\nkey sk-a****** in header;\\nsee [docs]\n\
             src/app.py:7:10: PHI310 [warning] LLM client created without a BAA marker\n\
             src/données/patiënt.py:12:12: PHI400 [note] Diagnosis « é » interpolated into a prompt\n\
             web/ui.ts:1:1: PHI201 [error] PHI sent over http\n\
             src/broken.py: internal error: panic while checking: index out of bounds\n\
             vendor/big.min.js: note: skipped: larger than 1 MiB\n"
        );
    }

    #[test]
    fn shows_suppressed_with_reason() {
        let s = render(true);
        assert!(s.contains(
            "src/app.py:9:10: PHI105 [warning] Patient name written to a log (suppressed: name is a test fixture)\n"
        ));
        assert_eq!(s.lines().count(), 7);
    }

    #[test]
    fn run_level_note_has_no_path() {
        let n = Note {
            path: String::new(),
            message: "config: unknown key".into(),
            internal: false,
        };
        assert_eq!(note_line(&n), "note: config: unknown key");
    }
}
