//! The fixture runner behind `phi-lint test` and the project's own rule tests.
//!
//! A fixture is a real file in any language phi-lint reads, annotated on the line before the
//! code: `ruleid: PHI201` (that rule must report a finding starting on the next code line)
//! or `ok: PHI201` (it must not). Several ids may be comma-separated. Every finding in a
//! fixture file must be announced by a `ruleid:`; a finding that is not is Noisy, an
//! announced one that does not appear is Missing (semgrep's and ast-grep's vocabulary).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::check::{Checker, Input};
use crate::rule::Catalog;
use crate::settings::Settings;

/// One expectation or surprise in a fixture file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Case {
    pub path: String,
    pub line: usize,
    pub rule: String,
    pub outcome: Outcome,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// `ruleid:` and found.
    Validated,
    /// `ok:` and not found.
    Clean,
    /// `ruleid:` and not found.
    Missing,
    /// Found without a `ruleid:` (or against an `ok:`).
    Noisy,
}

/// Everything a fixture run found.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub cases: Vec<Case>,
    pub files: usize,
    /// (rule, language) pairs with a `ruleid:` case and with an `ok:` case.
    pub positive: BTreeSet<(String, String)>,
    pub negative: BTreeSet<(String, String)>,
    /// Notes the checker produced (parse problems in fixtures are worth seeing).
    pub notes: Vec<String>,
}

impl Summary {
    pub fn count(&self, o: Outcome) -> usize {
        self.cases.iter().filter(|c| c.outcome == o).count()
    }

    pub fn passed(&self) -> bool {
        self.count(Outcome::Missing) == 0 && self.count(Outcome::Noisy) == 0
    }
}

fn annotation_re() -> Regex {
    Regex::new(r"\b(ruleid|ok|todoruleid):\s*([A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*)").unwrap()
}

/// Lists fixture files under the given roots (sorted).
pub fn fixture_files(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in roots {
        for e in ignore::WalkBuilder::new(root)
            .hidden(false)
            .git_ignore(false)
            .ignore(false)
            .parents(false)
            .build()
            .flatten()
        {
            if e.file_type().is_some_and(|t| t.is_file()) && crate::lang::detect(e.path()).is_some()
            {
                out.push(e.path().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Runs every fixture under `roots` with every rule of the catalogue.
pub fn run(catalog: &Catalog, roots: &[PathBuf]) -> Summary {
    let files = fixture_files(roots);
    let settings = Settings {
        include_vendored: true,
        ..Settings::default()
    };
    let active: Vec<usize> = (0..catalog.rules.len()).collect();
    let mut checker = Checker::new(catalog, &settings, active);
    let inputs: Vec<Input> = files
        .iter()
        .map(|p| Input::new(p.clone(), &display(p, roots), None, true))
        .collect();
    // Project context per fixture folder would couple fixtures; each file stands alone.
    checker.gather_project(&[], false);
    let report = checker.run(
        &inputs,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    );
    let re = annotation_re();
    let mut summary = Summary {
        files: files.len(),
        ..Summary::default()
    };
    summary.notes = report
        .notes
        .iter()
        .map(|n| format!("{}: {}", n.path, n.message))
        .collect();
    for (path, input) in files.iter().zip(&inputs) {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let lang = crate::lang::detect(path)
            .map(|l| l.family().to_string())
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let mut expected: Vec<(usize, String, bool)> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let Some(c) = re.captures(line) else { continue };
            let kind = c.get(1).unwrap().as_str();
            if kind == "todoruleid" {
                continue;
            }
            // The annotation applies to the next line that is not itself an annotation.
            let mut target = i + 1;
            while target < lines.len()
                && re.is_match(lines[target])
                && !looks_like_code_with_trailing(lines[target])
            {
                target += 1;
            }
            for id in c.get(2).unwrap().as_str().split(',') {
                let id = id.trim().to_ascii_uppercase();
                let key = (id.clone(), lang.clone());
                if kind == "ruleid" {
                    summary.positive.insert(key);
                } else {
                    summary.negative.insert(key);
                }
                expected.push((target + 1, id, kind == "ruleid"));
            }
        }
        let found: Vec<(usize, String)> = report
            .findings
            .iter()
            .filter(|f| f.path == input.display() && f.suppressed.is_none())
            .map(|f| (f.line, f.rule.clone()))
            .collect();
        for (line, rule, positive) in &expected {
            let hit = found.iter().any(|(l, r)| l == line && r == rule);
            let outcome = match (positive, hit) {
                (true, true) => Outcome::Validated,
                (true, false) => Outcome::Missing,
                (false, false) => Outcome::Clean,
                (false, true) => Outcome::Noisy,
            };
            summary.cases.push(Case {
                path: input.display().to_string(),
                line: *line,
                rule: rule.clone(),
                outcome,
            });
        }
        for (line, rule) in &found {
            let announced = expected
                .iter()
                .any(|(l, r, p)| l == line && r == rule && *p);
            let refused = expected
                .iter()
                .any(|(l, r, p)| l == line && r == rule && !*p);
            if !announced && !refused {
                summary.cases.push(Case {
                    path: input.display().to_string(),
                    line: *line,
                    rule: rule.clone(),
                    outcome: Outcome::Noisy,
                });
            }
        }
    }
    summary.cases.sort();
    summary
}

/// An annotation at the end of a code line (`x = 1  # ok: PHI201`) is not a line of its own.
fn looks_like_code_with_trailing(line: &str) -> bool {
    let t = line.trim_start();
    !(t.starts_with('#')
        || t.starts_with("//")
        || t.starts_with("/*")
        || t.starts_with('*')
        || t.starts_with("<!--")
        || t.starts_with(';')
        || t.starts_with("--")
        || t.starts_with('"'))
}

fn display(path: &Path, roots: &[PathBuf]) -> String {
    for r in roots {
        if let Ok(rel) = path.strip_prefix(r) {
            return rel.to_string_lossy().replace('\\', "/");
        }
    }
    path.to_string_lossy().replace('\\', "/")
}
