//! Baselines: record today's findings so that a check reports only new ones.
//!
//! The file is TOML, sorted by path, rule and fingerprint, with no timestamps and no line
//! numbers, one `[[finding]]` table per entry, so two branches that add findings in
//! different files merge without conflict. An entry is `rule`, `path` and `fingerprint`
//! (line-independent: rule, path and the normalised matched text; secrets are hashed) plus
//! the `message` for humans (messages never hold a secret). Paths and fingerprints are
//! relative to the working directory, so write and check from the same folder (the
//! repository root).
//!
//! `check --baseline FILE` marks matching findings suppressed (kind `baseline`) and lists
//! stale entries as notes: entries whose file was checked in this run and produced no
//! matching finding, or whose file no longer exists. `baseline prune` removes exactly those.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use serde::Deserialize;

use crate::diagnostic::{Note, Report, Suppressed};
use crate::Failure;

/// The default baseline file name.
pub const DEFAULT_FILE: &str = "phi-lint-baseline.toml";

/// One recorded finding. The message is stored as a comment on the line after
/// `[[finding]]`, so the baseline itself never holds a value that a rule would flag (a
/// message naming `api.openai.com` in a TOML string would be a PHI101 finding).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub path: String,
    pub rule: String,
    pub fingerprint: String,
    #[serde(skip)]
    pub message: String,
}

impl Entry {
    fn key(&self) -> (&str, &str, &str) {
        (&self.rule, &self.path, &self.fingerprint)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    #[serde(default)]
    finding: Vec<Entry>,
}

/// A loaded baseline: its entries and, for locations, the line of each entry's fingerprint.
#[derive(Debug, Default)]
pub struct Baseline {
    pub entries: Vec<Entry>,
    lines: Vec<usize>,
}

/// Reads and validates a baseline file.
pub fn load(path: &Path) -> Result<Baseline, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure(format!("baseline {}: {e}", path.display())))?;
    let file: File =
        toml::from_str(&text).map_err(|e| Failure(format!("baseline {}: {e}", path.display())))?;
    if file.version != 1 {
        return Err(Failure(format!(
            "baseline {}: unsupported version {} (expected 1)",
            path.display(),
            file.version
        )));
    }
    let mut file = file;
    let mut comments = Vec::new();
    let mut after_header = false;
    for l in text.lines() {
        let t = l.trim();
        if t == "[[finding]]" {
            comments.push(String::new());
            after_header = true;
        } else if after_header {
            if let Some(c) = t.strip_prefix('#') {
                if let Some(last) = comments.last_mut() {
                    *last = c.trim().to_string();
                }
            }
            after_header = false;
        }
    }
    if comments.len() == file.finding.len() {
        for (e, c) in file.finding.iter_mut().zip(comments) {
            e.message = c;
        }
    }
    let lines = file
        .finding
        .iter()
        .map(|e| {
            text.lines()
                .position(|l| l.contains(&e.fingerprint))
                .map_or(0, |i| i + 1)
        })
        .collect();
    Ok(Baseline {
        entries: file.finding,
        lines,
    })
}

/// Renders entries as a baseline file (sorted, de-duplicated, deterministic).
pub fn render(entries: &[Entry]) -> String {
    let sorted: BTreeSet<&Entry> = entries.iter().collect();
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = String::from(
        "# phi-lint baseline: findings accepted for now; `phi-lint check --baseline` reports only\n# new ones. Regenerate with `phi-lint baseline write`, drop fixed entries with\n# `phi-lint baseline prune`.\nversion = 1\n",
    );
    for e in sorted {
        out.push_str(&format!(
            "\n[[finding]]\n# {}\nrule = {}\npath = {}\nfingerprint = {}\n",
            e.message.split_whitespace().collect::<Vec<_>>().join(" "),
            q(&e.rule),
            q(&e.path),
            q(&e.fingerprint),
        ));
    }
    out
}

/// The entries for the active (unsuppressed) findings of `report`.
pub fn entries_of(report: &Report) -> Vec<Entry> {
    report
        .active()
        .map(|f| Entry {
            path: f.path.clone(),
            rule: f.rule.clone(),
            fingerprint: f.fingerprint.clone(),
            message: f.message.clone(),
        })
        .collect()
}

/// Which entries of `baseline` are stale for a run that checked `checked` (display paths)
/// and produced `report`.
pub fn stale(baseline: &Baseline, report: &Report, checked: &HashSet<String>) -> Vec<usize> {
    let found: HashSet<(&str, &str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.path.as_str(), f.fingerprint.as_str()))
        .collect();
    baseline
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            let gone = !Path::new(&e.path).exists();
            (gone || checked.contains(&e.path)) && !found.contains(&e.key())
        })
        .map(|(i, _)| i)
        .collect()
}

/// Suppresses the findings of `report` recorded in the baseline at `path` (shown as
/// `shown`) and adds a note per stale entry.
pub fn apply(
    report: &mut Report,
    path: &Path,
    shown: &str,
    checked: &HashSet<String>,
) -> Result<(), Failure> {
    let baseline = load(path)?;
    let index: std::collections::HashMap<(&str, &str, &str), usize> = baseline
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key(), i))
        .collect();
    for f in report.findings.iter_mut() {
        if f.suppressed.is_some() {
            continue;
        }
        if let Some(&i) = index.get(&(f.rule.as_str(), f.path.as_str(), f.fingerprint.as_str())) {
            f.suppressed = Some(Suppressed {
                kind: "baseline".into(),
                reason: format!("in baseline {shown}"),
                location: format!("{shown}:{}", baseline.lines[i]),
            });
        }
    }
    let stale = stale(&baseline, report, checked);
    for i in stale {
        let e = &baseline.entries[i];
        report.notes.push(Note {
            path: format!("{shown}:{}", baseline.lines[i]),
            message: format!(
                "stale baseline entry: {} in {} ({}) no longer matches a finding; `phi-lint baseline prune {shown}` removes it",
                e.rule, e.path, e.fingerprint
            ),
            internal: false,
        });
    }
    Ok(())
}

/// Removes the stale entries of the baseline at `path`; returns (removed, kept).
pub fn prune(
    path: &Path,
    report: &Report,
    checked: &HashSet<String>,
) -> Result<(usize, usize), Failure> {
    let baseline = load(path)?;
    let stale: HashSet<usize> = stale(&baseline, report, checked).into_iter().collect();
    let kept: Vec<Entry> = baseline
        .entries
        .iter()
        .enumerate()
        .filter(|(i, _)| !stale.contains(i))
        .map(|(_, e)| e.clone())
        .collect();
    std::fs::write(path, render(&kept))
        .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
    Ok((stale.len(), kept.len()))
}

/// Writes the active findings of `report` as a new baseline at `path`; returns the count.
pub fn write(path: &Path, report: &Report) -> Result<usize, Failure> {
    let entries = entries_of(report);
    let n = entries.iter().collect::<BTreeSet<_>>().len();
    std::fs::write(path, render(&entries))
        .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_is_sorted_and_round_trips() {
        let e = |p: &str, r: &str, f: &str| Entry {
            path: p.into(),
            rule: r.into(),
            fingerprint: f.into(),
            message: "say \"hi\"".into(),
        };
        let text = render(&[
            e("b.env", "PHI101", "2"),
            e("a.env", "PHI101", "1"),
            e("a.env", "PHI101", "1"),
        ]);
        assert!(text.find("a.env").unwrap() < text.find("b.env").unwrap());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.toml");
        std::fs::write(&p, &text).unwrap();
        let b = load(&p).unwrap();
        assert_eq!(b.entries.len(), 2);
        assert_eq!(b.entries[0].message, "say \"hi\"");
        assert!(b.lines[0] > 0);
    }
}
