//! Findings and notes: the one constructor every rule's result goes through.
//!
//! The engine produces [`Finding`]s with byte spans; [`Finding::locate`] turns them into the
//! printable form (lines, columns, a source excerpt with secrets masked) before any emitter
//! sees them, so emitters never touch source text and can never print an unredacted key.

use std::fmt;

use serde::Serialize;

use crate::facts::Span;
use crate::source::LineIndex;

/// How serious a finding is; ordered so that `Error > Warning > Note`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "note" | "info" => Some(Severity::Note),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A suppression that silenced a finding, kept for the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    /// `inline`, `file`, `block`, `per-file-ignores`, `baseline`.
    pub kind: String,
    pub reason: String,
    /// The path:line of the suppression comment or config entry.
    pub location: String,
}

/// One result of one rule at one place, positioned and ready to print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub name: String,
    pub severity: Severity,
    /// `/`-separated, relative to the working directory when below it.
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: String,
    pub help: String,
    /// The rule's documentation link.
    pub docs: String,
    /// Line-independent identity: rule, path and normalised matched text (secrets hashed).
    pub fingerprint: String,
    /// Source lines around the finding, secrets masked; used by the human printer and SARIF.
    #[serde(skip)]
    pub excerpt: Excerpt,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppressed>,
    #[serde(skip)]
    pub span: Span,
}

/// A few source lines, the byte offset of the first, and the finding's span inside them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Excerpt {
    pub text: String,
    pub first_line: usize,
    pub span: Span,
}

/// What a rule match says before it is positioned.
#[derive(Clone, Debug)]
pub struct Hit {
    pub rule: usize,
    pub span: Span,
    pub message: String,
    /// Spans inside the file that hold a secret and must be masked wherever text is shown.
    pub secret: Option<Span>,
}

/// A note about a file or the run (skipped, decoded, parse cut off, internal error).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Note {
    pub path: String,
    pub message: String,
    /// An internal error (a panic while checking the file) makes the run exit 2.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

/// Masks a secret for display: its first few characters and its length.
pub fn redact(secret: &str) -> String {
    let prefix: String = secret.chars().take(4).collect();
    format!("{prefix}…[redacted, {} chars]", secret.chars().count())
}

/// Replaces every character of `span` in `text` with `*` after the first four.
pub fn mask(text: &mut String, span: Span) {
    let span = crate::source::clamp_to_char(text, span.start)
        ..crate::source::clamp_to_char(text, span.end);
    let original = &text[span.clone()];
    let masked: String = original
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 4 { c } else { '*' })
        .collect();
    text.replace_range(span, &masked);
}

/// Turns a byte span into a [`Finding`]'s positions and excerpt.
pub struct Locator<'a> {
    pub text: &'a str,
    pub index: &'a LineIndex,
}

impl Locator<'_> {
    /// (line, column, end_line, end_column), all 1-based; the end column is exclusive.
    pub fn positions(&self, span: &Span) -> (usize, usize, usize, usize) {
        let (l, c) = self.index.position(self.text, span.start);
        let (el, ec) = self.index.position(self.text, span.end.max(span.start));
        (l, c, el, ec)
    }

    /// The lines a span covers (at most 6), with a secret span masked.
    pub fn excerpt(&self, span: &Span, secret: Option<&Span>) -> Excerpt {
        let first = self.index.line_of(span.start.min(self.text.len()));
        let last = self
            .index
            .line_of(span.end.min(self.text.len()))
            .min(first + 5);
        let start = self.index.line_start(first);
        let end = self.index.line_range(self.text, last).end.max(start);
        let mut text = self.text[start..end].to_string();
        if let Some(s) = secret {
            let lo = s.start.max(start);
            let hi = s.end.min(end);
            if lo < hi {
                mask(&mut text, lo - start..hi - start);
            }
        }
        let lo = span.start.clamp(start, end) - start;
        let hi = span.end.clamp(start, end) - start;
        Excerpt {
            text,
            first_line: first + 1,
            span: lo..hi.max(lo),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_to_prefix_and_length() {
        assert_eq!(redact("sk-abcdefgh"), "sk-a…[redacted, 11 chars]");
        let mut t = String::from("key = sk-abcdefgh");
        mask(&mut t, 6..17);
        assert_eq!(t, "key = sk-a*******");
    }
}

/// The documentation of a rule, in the fixed sections every output reuses.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleDocs {
    /// What it does.
    pub what: String,
    /// Why it matters.
    pub why: String,
    /// The HIPAA safeguard the rule supports (`45 CFR 164.312(e)(1) — transmission security`).
    pub safeguard: String,
    /// Code that is reported.
    pub bad: String,
    /// The compliant equivalent.
    pub good: String,
    /// Options and the decisions a team may want to revisit.
    #[serde(default)]
    pub options: String,
    #[serde(default)]
    pub references: Vec<String>,
}

/// What the outputs need to know about a rule (the SARIF `rules[]`, `phi-lint rule`, README).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub name: String,
    /// The default severity (a config may override it per finding).
    pub severity: Severity,
    /// One sentence: the SARIF short description and the `rules` table.
    pub summary: String,
    pub languages: Vec<String>,
    pub help: String,
    pub docs: RuleDocs,
    /// The rule's documentation page.
    pub url: String,
    /// Custom (user) rule rather than built-in.
    pub custom: bool,
}

/// Everything one run produced, in output order.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Sorted by (path, line, column, rule); includes suppressed findings.
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
    pub files_scanned: usize,
    pub elapsed: std::time::Duration,
    /// Every rule active in the run, in id order.
    pub rules: Vec<RuleInfo>,
    /// The directory paths in findings are relative to (SARIF `%SRCROOT%`).
    pub root: std::path::PathBuf,
}

impl Report {
    /// Findings that are not suppressed.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }
}
