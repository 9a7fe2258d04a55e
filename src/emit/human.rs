//! The `human` format: miette's graphical report per finding, then notes and a summary.
//!
//! Each active finding is drawn by [`miette::GraphicalReportHandler`] from its masked
//! [`Excerpt`]: a header `severity[RULE]: name`, the message, the source lines with the
//! span underlined and labelled, the help, and then our own `docs: <url>` line. The
//! excerpt is only a few lines of the file, so it is wrapped in a [`SourceCode`] that shifts
//! miette's line numbers to the real ones (no padding with blank lines) and reports columns
//! in Unicode scalar values like the rest of phi-lint. This module does not decide colour
//! (the caller does, via [`EmitOptions::color`]) and never reads files.

use std::fmt::{self, Write as _};
use std::io::{self, Write};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::{one_line, position, suppressed_suffix, Counts, EmitOptions};
use crate::diagnostic::{Excerpt, Finding, Report, Severity};

const BOLD: &str = "\u{1b}[1m";
const CYAN_BOLD: &str = "\u{1b}[1;36m";
const RED_BOLD: &str = "\u{1b}[1;31m";
const DIM: &str = "\u{1b}[2m";
const RESET: &str = "\u{1b}[0m";

pub fn emit(report: &Report, opts: &EmitOptions, out: &mut dyn Write) -> io::Result<()> {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_urls(false)
        // One line of context: the excerpt holds only the finding's own lines, so this
        // just makes miette show them whole rather than cut at the span.
        .with_context_lines(1)
        .without_syntax_highlighting();
    let paint = |style: &str, text: &str| -> String {
        if opts.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    };

    for f in report.active() {
        let label = report
            .rules
            .iter()
            .find(|r| r.id == f.rule)
            .map(|r| r.summary.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| f.name.clone());
        let diag = FindingDiagnostic::new(f, label);
        let mut text = String::new();
        handler
            .render_report(&mut text, &diag)
            .map_err(|_| io::Error::other("rendering a finding failed"))?;
        if diag.source.is_none() {
            // No excerpt to draw: still say where.
            text.push_str(&format!("  at {}\n", position(f)));
        }
        out.write_all(text.as_bytes())?;
        if !f.docs.is_empty() {
            writeln!(out, "  {}", paint(DIM, &format!("docs: {}", f.docs)))?;
        }
        writeln!(out)?;
    }

    if opts.show_suppressed {
        let suppressed: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.suppressed.is_some())
            .collect();
        if !suppressed.is_empty() {
            writeln!(out, "{}", paint(BOLD, "suppressed findings:"))?;
            for f in suppressed {
                writeln!(
                    out,
                    "  {}: {} [{}] {}{}",
                    position(f),
                    f.rule,
                    f.severity,
                    one_line(&f.message),
                    suppressed_suffix(f)
                )?;
            }
            writeln!(out)?;
        }
    }

    for n in &report.notes {
        let (style, kind) = if n.internal {
            (RED_BOLD, "internal error:")
        } else {
            (CYAN_BOLD, "note:")
        };
        let prefix = paint(style, kind);
        if n.path.is_empty() {
            writeln!(out, "{prefix} {}", n.message)?;
        } else {
            writeln!(out, "{prefix} {}: {}", n.path, n.message)?;
        }
    }

    writeln!(out, "{}", paint(BOLD, &summary(report, opts)))
}

/// `4 files scanned, 2 errors, 1 warning, 1 note (1 suppressed) in 1.23s`.
fn summary(report: &Report, opts: &EmitOptions) -> String {
    let c = Counts::of(report);
    let plural = |n: usize, one: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    let mut s = format!(
        "{} scanned, {}, {}, {} ({} suppressed)",
        plural(report.files_scanned, "file"),
        plural(c.errors, "error"),
        plural(c.warnings, "warning"),
        plural(c.notes, "note"),
        c.suppressed
    );
    if opts.show_elapsed {
        let _ = write!(s, " in {:.2}s", report.elapsed.as_secs_f64());
    }
    s
}

/// A finding as a miette diagnostic.
#[derive(Debug)]
struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    label: String,
    source: Option<ExcerptSource>,
}

impl<'a> FindingDiagnostic<'a> {
    fn new(finding: &'a Finding, label: String) -> Self {
        let source = (!finding.excerpt.text.is_empty())
            .then(|| ExcerptSource::new(&finding.path, &finding.excerpt));
        FindingDiagnostic {
            finding,
            label,
            source,
        }
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // miette breaks lines only at `\n`.
        f.write_str(
            &self
                .finding
                .message
                .replace("\r\n", "\n")
                .replace('\r', "\n"),
        )
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let f = self.finding;
        Some(Box::new(format!("{}[{}]: {}", f.severity, f.rule, f.name)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let help = &self.finding.help;
        (!help.is_empty()).then(|| Box::new(help) as Box<dyn fmt::Display + 'b>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let source = self.source.as_ref()?;
        let span = source.span.clone();
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(
                Some(self.label.clone()),
                SourceSpan::from(span.start..span.end),
            ),
        )))
    }
}

/// An excerpt that knows which line of the file it starts on.
#[derive(Debug)]
struct ExcerptSource {
    name: String,
    /// The excerpt text with lone `\r` line breaks turned into `\n` (same byte length, so
    /// spans stay valid), because miette only breaks lines at `\n`.
    text: String,
    /// 0-based line of the file the excerpt's first line is.
    line_offset: usize,
    span: std::ops::Range<usize>,
}

impl ExcerptSource {
    fn new(path: &str, excerpt: &Excerpt) -> Self {
        let bytes = excerpt.text.as_bytes();
        let mut text = String::with_capacity(excerpt.text.len());
        for (i, c) in excerpt.text.char_indices() {
            if c == '\r' && bytes.get(i + 1) != Some(&b'\n') {
                text.push('\n');
            } else {
                text.push(c);
            }
        }
        let start = floor_char(&text, excerpt.span.start);
        let end = floor_char(&text, excerpt.span.end).max(start);
        ExcerptSource {
            name: path.to_string(),
            text,
            line_offset: excerpt.first_line.saturating_sub(1),
            span: start..end,
        }
    }
}

fn floor_char(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl SourceCode for ExcerptSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        let start = floor_char(&self.text, inner.span().offset());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..start].chars().count();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.line_offset,
            column,
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::testdata;

    fn render(report: &Report, opts: &EmitOptions) -> String {
        let mut out = Vec::new();
        emit(report, opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn golden_without_colour() {
        let s = render(&testdata::report(), &EmitOptions::default());
        let expected = "\
error[PHI201]: phi-to-llm-plaintext

  × PHI sent to api.openai.com: 100% of fields, incl. ssn
  │ key sk-a****** in header;
  │ see [docs]
   ╭─[src/app.py:3:8]
 3 │ resp = requests.post(\"http://api.openai.com\", json=patient, key=\"sk-a******\")
   ·        ───────────────────────────────────┬──────────────────────────────────
   ·                                           ╰── PHI sent to an LLM endpoint without TLS
   ╰────
  help: help for PHI201
  docs: https://phi-lint.dev/rules/PHI201

warning[PHI310]: missing-baa-marker

  ⚠ LLM client created without a BAA marker
   ╭─[src/app.py:7:10]
 7 │ client = OpenAI()
   ·          ────┬───
   ·              ╰── LLM client without a BAA marker
   ╰────
  help: help for PHI310
  docs: https://phi-lint.dev/rules/PHI310

note[PHI400]: phi-in-prompt

  ☞ Diagnosis « é » interpolated into a prompt
    ╭─[src/données/patiënt.py:12:12]
 12 │ ╭─▶ prompt = f\"Résumé: {dx}
 13 │ ├─▶   for {naïve}\"
    · ╰──── PHI interpolated into a prompt
    ╰────
  help: help for PHI400
  docs: https://phi-lint.dev/rules/PHI400

error[PHI201]: phi-to-llm-plaintext

  × PHI sent over http
   ╭─[web/ui.ts:1:1]
 1 │ fetch('http://x', {body: mrn})
   · ───────────────┬──────────────
   ·                ╰── PHI sent to an LLM endpoint without TLS
   ╰────
  help: help for PHI201
  docs: https://phi-lint.dev/rules/PHI201

internal error: src/broken.py: panic while checking: index out of bounds
note: vendor/big.min.js: skipped: larger than 1 MiB
4 files scanned, 2 errors, 1 warning, 1 note (1 suppressed)
";
        assert_eq!(s, expected, "\n{s}");
    }

    #[test]
    fn header_position_matches_the_finding() {
        let r = testdata::report();
        let s = render(&r, &EmitOptions::default());
        for f in r.active() {
            assert!(s.contains(&format!("[{}]", position(f))), "{}", position(f));
        }
    }

    #[test]
    fn real_line_numbers_for_deep_lines() {
        let mut r = testdata::clean();
        let mut f = testdata::report().findings[0].clone();
        f.line = 120_000;
        f.end_line = 120_000;
        f.excerpt.first_line = 120_000;
        r.findings.push(f);
        let s = render(&r, &EmitOptions::default());
        assert!(s.contains("╭─[src/app.py:120000:8]"), "{s}");
        assert!(s.contains("\n 120000 │ resp = "), "{s}");
    }

    #[test]
    fn suppressed_and_elapsed() {
        let opts = EmitOptions {
            show_suppressed: true,
            show_elapsed: true,
            ..EmitOptions::default()
        };
        let s = render(&testdata::report(), &opts);
        assert!(s.contains(
            "suppressed findings:\n  src/app.py:9:10: PHI105 [warning] Patient name written to a log (suppressed: name is a test fixture)\n"
        ));
        assert!(
            s.ends_with("4 files scanned, 2 errors, 1 warning, 1 note (1 suppressed) in 1.23s\n")
        );
        // Suppressed findings are never drawn as full reports.
        assert!(!s.contains("warning[PHI105]"));
    }

    #[test]
    fn colour_only_when_asked() {
        let plain = render(&testdata::report(), &EmitOptions::default());
        assert!(!plain.contains('\u{1b}'));
        let opts = EmitOptions {
            color: true,
            ..EmitOptions::default()
        };
        let coloured = render(&testdata::report(), &opts);
        assert!(coloured.contains('\u{1b}'));
    }

    #[test]
    fn clean_run_is_just_the_summary() {
        let s = render(&testdata::clean(), &EmitOptions::default());
        assert_eq!(
            s,
            "3 files scanned, 0 errors, 0 warnings, 0 notes (0 suppressed)\n"
        );
    }

    #[test]
    fn lone_carriage_returns_break_lines() {
        let mut r = testdata::clean();
        let mut f = testdata::report().findings[4].clone(); // web/ui.ts
        f.excerpt.text = "a = 1\rb = mrn".into();
        f.excerpt.first_line = 5;
        f.excerpt.span = 10..13;
        f.line = 6;
        f.column = 5;
        r.findings.push(f);
        let s = render(&r, &EmitOptions::default());
        assert!(s.contains("[web/ui.ts:6:5]"), "{s}");
        assert!(s.contains("\n 6 │ b = mrn\n"), "{s}");
    }
}
