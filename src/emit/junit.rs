//! The `junit` format: JUnit XML, for CI systems that only understand test reports.
//!
//! `<testsuites name="phi-lint">` holds one `<testsuite>` per rule with findings (named
//! `RULE (name)`, in rule-id order), each finding a `<testcase>` whose `<failure>` carries
//! the message (attribute), the severity (`type`) and, as text, `path:line:col`, the
//! message, help and docs link. With `show_suppressed`, suppressed findings appear as
//! `<skipped>` test cases. Internal-error notes are `<error>` test cases in a `phi-lint`
//! suite; other notes are left out. A run with nothing to report is one passing test case,
//! so the CI shows a green test rather than an empty report. Text is escaped for XML 1.0,
//! including characters XML cannot carry at all (replaced by U+FFFD). This is not a test
//! runner: nothing here runs anything.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{position, EmitOptions};
use crate::diagnostic::{Finding, Report};

/// Escapes text for an XML attribute value or element content (XML 1.0).
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Attribute-value normalisation would turn these into spaces.
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn attr(s: &str) -> String {
    escape(s, true)
}

fn text(s: &str) -> String {
    escape(s, false)
}

struct Case {
    name: String,
    classname: String,
    file: Option<(String, usize)>,
    /// (element, message, type, body); `None` for a passing test case.
    outcome: Option<(&'static str, String, String, String)>,
}

struct Suite {
    name: String,
    cases: Vec<Case>,
}

fn finding_case(f: &Finding) -> Case {
    let outcome = match &f.suppressed {
        Some(s) => (
            "skipped",
            format!("suppressed ({}): {}", s.kind, s.reason),
            String::new(),
            String::new(),
        ),
        None => {
            let mut body = format!("{}: {}", position(f), f.message);
            if !f.help.is_empty() {
                let _ = write!(body, "\nhelp: {}", f.help);
            }
            if !f.docs.is_empty() {
                let _ = write!(body, "\ndocs: {}", f.docs);
            }
            ("failure", f.message.clone(), f.severity.to_string(), body)
        }
    };
    Case {
        name: format!("{}: {}", position(f), f.name),
        classname: f.rule.clone(),
        file: Some((f.path.clone(), f.line)),
        outcome: Some(outcome),
    }
}

pub fn emit(report: &Report, opts: &EmitOptions, out: &mut dyn Write) -> io::Result<()> {
    let mut by_rule: BTreeMap<&str, Suite> = BTreeMap::new();
    for f in report.findings.iter() {
        if f.suppressed.is_some() && !opts.show_suppressed {
            continue;
        }
        by_rule
            .entry(f.rule.as_str())
            .or_insert_with(|| Suite {
                name: format!("{} ({})", f.rule, f.name),
                cases: Vec::new(),
            })
            .cases
            .push(finding_case(f));
    }
    let mut suites: Vec<Suite> = by_rule.into_values().collect();

    let mut own = Suite {
        name: "phi-lint".into(),
        cases: Vec::new(),
    };
    for n in report.notes.iter().filter(|n| n.internal) {
        own.cases.push(Case {
            name: format!("internal error: {}", n.path),
            classname: "phi-lint".into(),
            file: (!n.path.is_empty()).then(|| (n.path.clone(), 0)),
            outcome: Some((
                "error",
                n.message.clone(),
                "internal".into(),
                n.message.clone(),
            )),
        });
    }
    if report.active().next().is_none() {
        own.cases.push(Case {
            name: format!(
                "no PHI findings in {} scanned file{}",
                report.files_scanned,
                if report.files_scanned == 1 { "" } else { "s" }
            ),
            classname: "phi-lint".into(),
            file: None,
            outcome: None,
        });
    }
    if !own.cases.is_empty() {
        suites.push(own);
    }

    let count = |s: &Suite, kind: &str| {
        s.cases
            .iter()
            .filter(|c| c.outcome.as_ref().is_some_and(|o| o.0 == kind))
            .count()
    };
    let total = |kind: &str| suites.iter().map(|s| count(s, kind)).sum::<usize>();
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();

    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"phi-lint\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        total("failure"),
        total("error"),
        total("skipped")
    );
    for s in &suites {
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            attr(&s.name),
            s.cases.len(),
            count(s, "failure"),
            count(s, "error"),
            count(s, "skipped")
        );
        for c in &s.cases {
            let _ = write!(
                x,
                "    <testcase name=\"{}\" classname=\"{}\"",
                attr(&c.name),
                attr(&c.classname)
            );
            if let Some((file, line)) = &c.file {
                let _ = write!(x, " file=\"{}\"", attr(file));
                if *line > 0 {
                    let _ = write!(x, " line=\"{line}\"");
                }
            }
            match &c.outcome {
                None => x.push_str("/>\n"),
                Some(("skipped", message, _, _)) => {
                    let _ = writeln!(
                        x,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        attr(message)
                    );
                }
                Some((element, message, kind, body)) => {
                    let _ = writeln!(
                        x,
                        ">\n      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n    </testcase>",
                        attr(message),
                        attr(kind),
                        text(body)
                    );
                }
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    out.write_all(x.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::testdata;

    fn render(report: &Report, show_suppressed: bool) -> String {
        let mut out = Vec::new();
        let opts = EmitOptions {
            show_suppressed,
            ..EmitOptions::default()
        };
        emit(report, &opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn golden() {
        let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="phi-lint" tests="5" failures="4" errors="1" skipped="0">
  <testsuite name="PHI201 (phi-to-llm-plaintext)" tests="2" failures="2" errors="0" skipped="0">
    <testcase name="src/app.py:3:8: phi-to-llm-plaintext" classname="PHI201" file="src/app.py" line="3">
      <failure message="PHI sent to api.openai.com: 100% of fields, incl. ssn&#13;&#10;key sk-a****** in header;&#10;see [docs]" type="error">src/app.py:3:8: PHI sent to api.openai.com: 100% of fields, incl. ssn&#13;
key sk-a****** in header;
see [docs]
help: help for PHI201
docs: https://phi-lint.dev/rules/PHI201</failure>
    </testcase>
    <testcase name="web/ui.ts:1:1: phi-to-llm-plaintext" classname="PHI201" file="web/ui.ts" line="1">
      <failure message="PHI sent over http" type="error">web/ui.ts:1:1: PHI sent over http
help: help for PHI201
docs: https://phi-lint.dev/rules/PHI201</failure>
    </testcase>
  </testsuite>
  <testsuite name="PHI310 (missing-baa-marker)" tests="1" failures="1" errors="0" skipped="0">
    <testcase name="src/app.py:7:10: missing-baa-marker" classname="PHI310" file="src/app.py" line="7">
      <failure message="LLM client created without a BAA marker" type="warning">src/app.py:7:10: LLM client created without a BAA marker
help: help for PHI310
docs: https://phi-lint.dev/rules/PHI310</failure>
    </testcase>
  </testsuite>
  <testsuite name="PHI400 (phi-in-prompt)" tests="1" failures="1" errors="0" skipped="0">
    <testcase name="src/données/patiënt.py:12:12: phi-in-prompt" classname="PHI400" file="src/données/patiënt.py" line="12">
      <failure message="Diagnosis « é » interpolated into a prompt" type="note">src/données/patiënt.py:12:12: Diagnosis « é » interpolated into a prompt
help: help for PHI400
docs: https://phi-lint.dev/rules/PHI400</failure>
    </testcase>
  </testsuite>
  <testsuite name="phi-lint" tests="1" failures="0" errors="1" skipped="0">
    <testcase name="internal error: src/broken.py" classname="phi-lint" file="src/broken.py">
      <error message="panic while checking: index out of bounds" type="internal">panic while checking: index out of bounds</error>
    </testcase>
  </testsuite>
</testsuites>
"#;
        let s = render(&testdata::report(), false);
        assert_eq!(s, expected, "\n{s}");
    }

    #[test]
    fn suppressed_are_skipped_cases() {
        let s = render(&testdata::report(), true);
        assert!(s.contains(
            "<testsuites name=\"phi-lint\" tests=\"6\" failures=\"4\" errors=\"1\" skipped=\"1\">"
        ));
        assert!(s.contains(
            "<testcase name=\"src/app.py:9:10: phi-in-log\" classname=\"PHI105\" file=\"src/app.py\" line=\"9\">\n      <skipped message=\"suppressed (inline): name is a test fixture\"/>\n    </testcase>"
        ));
    }

    #[test]
    fn clean_run_is_one_passing_test() {
        assert_eq!(
            render(&testdata::clean(), false),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <testsuites name=\"phi-lint\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\">\n  \
             <testsuite name=\"phi-lint\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\">\n    \
             <testcase name=\"no PHI findings in 3 scanned files\" classname=\"phi-lint\"/>\n  \
             </testsuite>\n</testsuites>\n"
        );
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("<a href=\"x\">&'\u{1b}\u{0}\t\n</a>", true),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}\u{FFFD}&#9;&#10;&lt;/a&gt;"
        );
        assert_eq!(escape("a\tb\nc\u{7}", false), "a\tb\nc\u{FFFD}");
    }
}
