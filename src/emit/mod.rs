//! Output formats: one file per format behind one function signature.
//!
//! Emitters receive a finished [`Report`] (sorted, positioned, secrets masked) and write
//! bytes; they never see source text or rules' match logic. Everything except the human
//! summary's elapsed time is byte-identical between runs. This module is not where findings
//! are filtered, sorted, counted for the exit code or redacted: that happened upstream.
//!
//! Which formats show suppressed findings:
//! - `json`, `jsonl` and `sarif` always include them (with their `suppressed` object /
//!   SARIF `suppressions`), because they are the audit trail;
//! - `human`, `concise` and `junit` include them only with [`EmitOptions::show_suppressed`];
//! - `github`, `gitlab` and `azure` never do: they create annotations or issues, and a
//!   suppressed finding must not.

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use crate::diagnostic::{Finding, Report, Severity};

mod azure;
mod concise;
mod github;
mod gitlab;
mod human;
mod json;
mod junit;
mod sarif;
#[cfg(test)]
mod sarif_validation;

#[cfg(test)]
pub(crate) mod testdata;

/// An output format, as named on the command line (`--format NAME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Human,
    Concise,
    Json,
    Jsonl,
    Sarif,
    Github,
    Gitlab,
    Junit,
    Azure,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 9] = [
        Format::Human,
        Format::Concise,
        Format::Json,
        Format::Jsonl,
        Format::Sarif,
        Format::Github,
        Format::Gitlab,
        Format::Junit,
        Format::Azure,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Concise => "concise",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Gitlab => "gitlab",
            Format::Junit => "junit",
            Format::Azure => "azure",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown format name; its message lists the valid ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        write!(
            f,
            "unknown output format `{}` (expected one of: {})",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        let lower = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.name() == lower)
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// How to print, beyond the format itself.
#[derive(Clone, Debug)]
pub struct EmitOptions {
    /// ANSI colour (human format only; every other format ignores it).
    pub color: bool,
    /// List suppressed findings too (see the module docs for which formats honour it).
    pub show_suppressed: bool,
    /// The tool version printed in JSON and SARIF.
    pub version: &'static str,
    /// Append the elapsed time to the human summary line (never printed elsewhere).
    pub show_elapsed: bool,
}

impl Default for EmitOptions {
    fn default() -> Self {
        EmitOptions {
            color: false,
            show_suppressed: false,
            version: env!("CARGO_PKG_VERSION"),
            show_elapsed: false,
        }
    }
}

/// Writes `report` to `out` in `format`.
pub fn emit(
    format: Format,
    report: &Report,
    opts: &EmitOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::emit(report, opts, out),
        Format::Concise => concise::emit(report, opts, out),
        Format::Json => json::emit(report, opts, out),
        Format::Jsonl => json::emit_lines(report, out),
        Format::Sarif => sarif::emit(report, opts, out),
        Format::Github => github::emit(report, out),
        Format::Gitlab => gitlab::emit(report, out),
        Format::Junit => junit::emit(report, opts, out),
        Format::Azure => azure::emit(report, out),
    }
}

/// Counts of active findings by severity, and of suppressed ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    pub suppressed: usize,
}

impl Counts {
    pub fn of(report: &Report) -> Counts {
        let mut c = Counts::default();
        for f in &report.findings {
            if f.suppressed.is_some() {
                c.suppressed += 1;
                continue;
            }
            match f.severity {
                Severity::Error => c.errors += 1,
                Severity::Warning => c.warnings += 1,
                Severity::Note => c.notes += 1,
            }
        }
        c
    }
}

/// Findings a text format prints: the active ones, plus suppressed ones when asked.
pub(crate) fn shown<'a>(
    report: &'a Report,
    opts: &'a EmitOptions,
) -> impl Iterator<Item = &'a Finding> + 'a {
    report
        .findings
        .iter()
        .filter(move |f| f.suppressed.is_none() || opts.show_suppressed)
}

/// `path:line:col`.
pub(crate) fn position(f: &Finding) -> String {
    format!("{}:{}:{}", f.path, f.line, f.column)
}

/// Makes a possibly multi-line message fit on one line: `\r\n`, `\n` and `\r` become a
/// literal `\n`, other control characters become `\u{..}` escapes.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// `" (suppressed: reason)"`, or `" (suppressed by KIND)"` when there is no reason.
pub(crate) fn suppressed_suffix(f: &Finding) -> String {
    match &f.suppressed {
        None => String::new(),
        Some(s) if s.reason.trim().is_empty() => format!(" (suppressed by {})", s.kind),
        Some(s) => format!(" (suppressed: {})", one_line(&s.reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        let err = "xml".parse::<Format>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown output format `xml` (expected one of: human, concise, json, jsonl, \
             sarif, github, gitlab, junit, azure)"
        );
    }

    #[test]
    fn counts_split_active_and_suppressed() {
        let r = testdata::report();
        assert_eq!(
            Counts::of(&r),
            Counts {
                errors: 2,
                warnings: 1,
                notes: 1,
                suppressed: 1
            }
        );
    }

    #[test]
    fn one_line_escapes_breaks_and_controls() {
        assert_eq!(one_line("a\r\nb\nc\rd\te\u{1b}"), "a\\nb\\nc\\nd e\\u{1b}");
    }

    #[test]
    fn every_format_writes_something_for_an_empty_report() {
        let r = Report::default();
        for f in Format::ALL {
            let mut out = Vec::new();
            emit(f, &r, &EmitOptions::default(), &mut out).unwrap();
            let s = String::from_utf8(out).unwrap();
            match f {
                // Nothing to annotate: an empty stream is the correct output.
                Format::Jsonl | Format::Github | Format::Azure | Format::Concise => {
                    assert_eq!(s, "", "{f}")
                }
                _ => assert!(!s.is_empty(), "{f}"),
            }
        }
    }
}
