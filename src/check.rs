//! The checker: runs the pipeline over candidate files in parallel and builds a [`Report`].
//!
//! Per file: read → size / binary / minified checks → keyword prefilter → parse (only when
//! a rule survived the prefilter) → facts → match → suppress → position. A panic while
//! checking one file becomes an `internal-error` note for that file; the run goes on.
//! Results are sorted so output is identical across runs and thread counts.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::diagnostic::{Finding, Hit, Locator, Note, Report};
use crate::engine::{self, prefilter::Prefilter, FileCtx, Project};
use crate::facts::Lang;
use crate::lang;
use crate::rule::Catalog;
use crate::settings::Settings;
use crate::source::{self, LineIndex};
use crate::suppress;

/// A file to check: where it is, how to show its path, and optionally its content (staged
/// blobs come from git's index, not the work tree).
#[derive(Clone, Debug)]
pub struct Input {
    pub path: PathBuf,
    pub display: String,
    pub content: Option<Vec<u8>>,
    pub explicit: bool,
}

/// The outcome for one file.
#[derive(Default)]
struct FileResult {
    findings: Vec<Finding>,
    notes: Vec<Note>,
}

/// Checks inputs with the given rules and settings.
pub struct Checker<'a> {
    pub catalog: &'a Catalog,
    pub settings: &'a Settings,
    pub active: Vec<usize>,
    pub project: Project,
    /// The roots named on the command line (absolute): rule path filters
    /// (`exclude-paths`) see paths relative to their root, so a `tests/` folder above the
    /// project, or named as the root, never matches.
    pub roots: Vec<PathBuf>,
    prefilter: Prefilter,
}

/// Lines longer than this in a JS file mark it as minified.
const MINIFIED_LINE: usize = 5_000;

impl<'a> Checker<'a> {
    pub fn new(catalog: &'a Catalog, settings: &'a Settings, active: Vec<usize>) -> Checker<'a> {
        let keywords: Vec<Vec<String>> = active
            .iter()
            .map(|&i| catalog.rules[i].keywords.clone())
            .collect();
        Checker {
            catalog,
            settings,
            prefilter: Prefilter::new(&keywords),
            active,
            project: Project::default(),
            roots: Vec::new(),
        }
    }

    /// Collects project context (variables set in config and env files) from the inputs,
    /// when an active rule asks for it.
    pub fn gather_project(&mut self, inputs: &[Input]) {
        self.gather_content_functions(inputs);
        self.gather_module_params(inputs);
        let wanted: Vec<String> = self
            .active
            .iter()
            .flat_map(|&i| {
                self.catalog.rules[i]
                    .matches
                    .iter()
                    .flat_map(|m| m.unless_project_sets.iter().map(|(n, _)| n.clone()))
            })
            .collect();
        if wanted.is_empty() {
            return;
        }
        for input in inputs {
            let Some(lang) = lang::detect(&input.path) else {
                continue;
            };
            if lang.is_code() {
                continue;
            }
            let Some(bytes) = read(input).ok() else {
                continue;
            };
            if bytes.len() as u64 > self.settings.max_filesize || source::looks_binary(&bytes) {
                continue;
            }
            let text = source::decode(&bytes).text;
            if !wanted.iter().any(|w| text.contains(w.as_str())) {
                continue;
            }
            let facts = match catch_unwind(AssertUnwindSafe(|| lang::extract(lang, &text))) {
                Ok(f) => f,
                Err(_) => continue,
            };
            for e in &facts.config {
                let name = e.key.rsplit('.').next().unwrap_or(&e.key);
                if wanted.iter().any(|w| w == name || *w == e.key) {
                    let empty =
                        matches!(&e.value, crate::facts::Value::Str(s) if s.trim().is_empty());
                    if !empty {
                        self.project.env_set.insert(name.to_string());
                        if let Some(v) = engine::value_text(&facts, &e.value, 0) {
                            self.project
                                .env_values
                                .entry(name.to_string())
                                .or_default()
                                .push(v);
                        }
                    }
                }
            }
        }
    }

    /// IaC module calls (`module x 'core/ai/account.bicep' = { params: {...} }`): what each
    /// caller passes to each parameter of the module file, so a block attribute set from a
    /// parameter is judged by the callers' values, not by the parameter's default.
    fn gather_module_params(&mut self, inputs: &[Input]) {
        let block_rules = self.active.iter().any(|&i| {
            self.catalog.rules[i]
                .matches
                .iter()
                .any(|m| matches!(m.matcher, crate::rule::Matcher::Block { .. }))
        });
        if !block_rules {
            return;
        }
        for input in inputs {
            if lang::detect(&input.path) != Some(Lang::Bicep) {
                continue;
            }
            let Ok(bytes) = read(input) else { continue };
            if bytes.len() as u64 > self.settings.max_filesize
                || !bytes.windows(6).any(|w| w == b"module")
            {
                continue;
            }
            let text = source::decode(&bytes).text;
            let Ok(facts) = catch_unwind(AssertUnwindSafe(|| lang::extract(Lang::Bicep, &text)))
            else {
                continue;
            };
            let dir = input.path.parent().unwrap_or(Path::new("."));
            for e in &facts.config {
                let Some(module) = e
                    .key
                    .strip_prefix("module.")
                    .and_then(|k| k.strip_suffix(".source"))
                else {
                    continue;
                };
                let crate::facts::Value::Str(src) = &e.value else {
                    continue;
                };
                let Ok(target) = dir.join(src).canonicalize() else {
                    continue;
                };
                let prefix = format!("module.{module}.params.");
                for p in facts.config.iter() {
                    let Some(param) = p.key.strip_prefix(&prefix) else {
                        continue;
                    };
                    if param.contains('.') {
                        continue;
                    }
                    let (v, _) = engine::resolve(&facts, &p.value, 0, usize::MAX);
                    let value = match v {
                        crate::facts::Value::Str(x) => Some(x.clone()),
                        crate::facts::Value::Bool(b) => Some(b.to_string()),
                        crate::facts::Value::Number(n) => Some(n.clone()),
                        _ => None,
                    };
                    self.project
                        .module_params
                        .entry((target.clone(), param.to_string()))
                        .or_default()
                        .push(value);
                }
            }
        }
    }

    /// The project pre-pass of the flow rules: which functions, anywhere in the checked files,
    /// return LLM content. Two rounds: files that call an LLM, then files that call one of the
    /// functions found (a service wrapping a provider). Only code files that mention an LLM call
    /// or one of those names are parsed.
    fn gather_content_functions(&mut self, inputs: &[Input]) {
        let flow_active = self.active.iter().any(|&i| {
            self.catalog.rules[i]
                .matches
                .iter()
                .any(|m| matches!(m.matcher, crate::rule::Matcher::Flow { .. }))
        });
        if !flow_active || inputs.len() < 2 {
            return;
        }
        let k = &self.catalog.knowledge;
        let words: Vec<String> = k
            .llm_call_patterns
            .iter()
            .filter_map(|p| {
                let p = p.rsplit('*').next().unwrap_or(p).trim_start_matches('.');
                let segs: Vec<&str> = p.split('.').collect();
                let last = *segs.last()?;
                Some(if last.len() >= 6 || segs.len() < 2 {
                    last.to_string()
                } else {
                    segs[segs.len() - 2..].join(".")
                })
            })
            .filter(|w| !w.is_empty())
            .collect();
        let mut found: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut triggers = words;
        for _round in 0..2 {
            if triggers.is_empty() {
                break;
            }
            let ac = match aho_corasick::AhoCorasick::new(&triggers) {
                Ok(a) => a,
                Err(_) => break,
            };
            let before = found.len();
            for input in inputs {
                let Some(lang) = lang::detect(&input.path) else {
                    continue;
                };
                if !lang.is_code() {
                    continue;
                }
                let Ok(bytes) = read(input) else { continue };
                if bytes.len() as u64 > self.settings.max_filesize
                    || source::looks_binary(&bytes)
                    || self.is_minified(input, lang, &bytes)
                    || !ac.is_match(&bytes)
                {
                    continue;
                }
                let text = source::decode(&bytes).text;
                let project = self.project.clone();
                let names = catch_unwind(AssertUnwindSafe(|| {
                    let facts = lang::extract(lang, &text);
                    let ctx = FileCtx {
                        abs_path: None,
                        rel_path: &self.rule_path(input),
                        lang,
                        text: &text,
                        facts: &facts,
                        project: &project,
                        envelope: &self.settings.envelope,
                        knowledge: k,
                    };
                    engine::flow::content_functions(&ctx)
                }))
                .unwrap_or_default();
                found.extend(names);
            }
            self.project.content_functions = found.clone();
            if found.len() == before {
                break;
            }
            triggers = found.iter().map(|n| format!("{n}(")).collect();
        }
    }

    /// The path rules filter on (`exclude-paths`): the part of the displayed path below the
    /// root it was found under, so folders above or naming the root never match.
    fn rule_path(&self, input: &Input) -> String {
        if let Ok(abs) = std::path::absolute(&input.path) {
            for root in &self.roots {
                let Ok(root) = std::path::absolute(root) else {
                    continue;
                };
                if let Ok(rel) = abs.strip_prefix(&root) {
                    return rel.to_string_lossy().replace('\\', "/");
                }
            }
        }
        input.display.clone()
    }

    /// A minified or bundled JavaScript file, skipped unless vendored code is included.
    fn is_minified(&self, input: &Input, lang: Lang, bytes: &[u8]) -> bool {
        if self.settings.include_vendored || !matches!(lang, Lang::JavaScript | Lang::TypeScript) {
            return false;
        }
        let file_name = input
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        crate::discover::is_minified_name(file_name)
            || (bytes.len() > 20_000
                && bytes
                    .split(|&b| b == b'\n')
                    .any(|l| l.len() > MINIFIED_LINE))
    }

    /// Checks every input on `threads` workers.
    pub fn run(&self, inputs: &[Input], threads: usize) -> Report {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<(usize, FileResult)>> = Mutex::new(Vec::with_capacity(inputs.len()));
        let threads = threads.clamp(1, 64).min(inputs.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..threads {
                let builder = std::thread::Builder::new().stack_size(256 * 1024 * 1024);
                let next = &next;
                let results = &results;
                builder
                    .spawn_scoped(s, move || {
                        let mut local = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= inputs.len() {
                                break;
                            }
                            let input = &inputs[i];
                            let r = catch_unwind(AssertUnwindSafe(|| self.check_one(input))).unwrap_or_else(|p| {
                                let what = p
                                    .downcast_ref::<&str>()
                                    .map(|s| s.to_string())
                                    .or_else(|| p.downcast_ref::<String>().cloned())
                                    .unwrap_or_else(|| "panic".into());
                                FileResult {
                                    findings: vec![],
                                    notes: vec![Note { path: input.display.clone(), message: format!("internal-error: phi-lint failed on this file ({what}); please report it"), internal: true }],
                                }
                            });
                            local.push((i, r));
                        }
                        results.lock().unwrap().append(&mut local);
                    })
                    .expect("spawn worker thread");
            }
        });
        let mut all = results.into_inner().unwrap();
        all.sort_by_key(|(i, _)| *i);
        let mut report = Report {
            files_scanned: inputs.len(),
            ..Report::default()
        };
        for (_, r) in all {
            report.findings.extend(r.findings);
            report.notes.extend(r.notes);
        }
        report.findings.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule, a.end_line, a.end_column).cmp(&(
                &b.path,
                b.line,
                b.column,
                &b.rule,
                b.end_line,
                b.end_column,
            ))
        });
        report.notes.sort();
        report.rules = self
            .active
            .iter()
            .map(|&i| self.catalog.rules[i].info.clone())
            .collect();
        report
    }

    fn check_one(&self, input: &Input) -> FileResult {
        if cfg!(debug_assertions)
            && std::env::var_os("PHI_LINT_TEST_PANIC_ON")
                .is_some_and(|v| input.path.file_name() == Some(v.as_os_str()))
        {
            panic!("test panic requested by PHI_LINT_TEST_PANIC_ON"); // debug builds only: tests/integration/hostile.rs
        }
        let mut out = FileResult::default();
        let note = |out: &mut FileResult, m: String| {
            out.notes.push(Note {
                path: input.display.clone(),
                message: m,
                internal: false,
            })
        };
        let Some(lang) = lang::detect(&input.path) else {
            return out;
        };
        if input.content.is_none() {
            match std::fs::metadata(&input.path) {
                Ok(m) if m.len() > self.settings.max_filesize => {
                    note(
                        &mut out,
                        format!(
                            "skipped: {} bytes is over the {}-byte limit (--max-filesize)",
                            m.len(),
                            self.settings.max_filesize
                        ),
                    );
                    return out;
                }
                Ok(_) => {}
                Err(e) => {
                    note(&mut out, format!("skipped: cannot read: {e}"));
                    return out;
                }
            }
        }
        let bytes = match read(input) {
            Ok(b) => b,
            Err(e) => {
                note(&mut out, format!("skipped: cannot read: {e}"));
                return out;
            }
        };
        if bytes.len() as u64 > self.settings.max_filesize {
            note(
                &mut out,
                format!(
                    "skipped: {} bytes is over the {}-byte limit (--max-filesize)",
                    bytes.len(),
                    self.settings.max_filesize
                ),
            );
            return out;
        }
        if source::looks_binary(&bytes) {
            if input.explicit {
                note(&mut out, "skipped: binary file".into());
            }
            return out;
        }
        if self.is_minified(input, lang, &bytes) {
            note(
                &mut out,
                "skipped: minified or bundled file (--include-vendored to check it)".into(),
            );
            return out;
        }
        // Decoded first: UTF-16 files hold no ASCII keywords until they are decoded.
        let decoded = source::decode(&bytes);
        let rules: Vec<usize> = self
            .prefilter
            .rules_for(decoded.text.as_bytes())
            .into_iter()
            .map(|k| self.active[k])
            .filter(|&ri| {
                let langs = &self.catalog.rules[ri].languages;
                langs.contains(&lang) || (lang == Lang::Notebook && langs.contains(&Lang::Python))
            })
            .collect();
        if let Some(n) = decoded.note {
            note(&mut out, n);
        }
        let text = decoded.text;
        let needs_suppress_scan = text.contains("phi-lint:");
        if rules.is_empty() && !needs_suppress_scan {
            return out;
        }
        let facts = lang::extract(lang, &text);
        for n in &facts.notes {
            note(&mut out, n.clone());
        }
        // Only IaC module files need their real path (to bind callers' parameters).
        let abs_path = if lang == Lang::Bicep {
            input.path.canonicalize().ok()
        } else {
            None
        };
        let ctx = FileCtx {
            abs_path: abs_path.as_deref(),
            rel_path: &self.rule_path(input),
            lang,
            text: &text,
            facts: &facts,
            project: &self.project,
            envelope: &self.settings.envelope,
            knowledge: &self.catalog.knowledge,
        };
        let hits = engine::check(self.catalog, &rules, &ctx);
        let index = LineIndex::new(&text);
        let opts = suppress::Options {
            require_reason: self.settings.require_suppression_reason,
            active: &self.active,
            today: suppress::Date::today(),
        };
        let (hits, suppressions) = suppress::apply(
            self.catalog,
            &text,
            &index,
            &facts,
            &input.display,
            hits,
            &opts,
        );
        out.findings = self.position(input, &text, &index, hits, suppressions);
        out
    }

    fn position(
        &self,
        input: &Input,
        text: &str,
        index: &LineIndex,
        hits: Vec<Hit>,
        suppressed: Vec<Option<crate::diagnostic::Suppressed>>,
    ) -> Vec<Finding> {
        let loc = Locator { text, index };
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::new();
        for (hit, sup) in hits.into_iter().zip(suppressed) {
            let rule = &self.catalog.rules[hit.rule];
            let (line, column, end_line, end_column) = loc.positions(&hit.span);
            let excerpt = loc.excerpt(&hit.span, hit.secret.as_ref());
            let matched = text.get(hit.span.clone()).unwrap_or("");
            let normalised: String = if hit.secret.is_some() {
                format!("secret:{:x}", Sha256::digest(matched.as_bytes()))
            } else {
                matched.split_whitespace().collect::<Vec<_>>().join(" ")
            };
            let mut h = Sha256::new();
            h.update(rule.info.id.as_bytes());
            h.update([0]);
            h.update(input.display.as_bytes());
            h.update([0]);
            h.update(normalised.as_bytes());
            let base = format!("{:x}", h.finalize())[..32].to_string();
            let n = seen.entry(base.clone()).or_insert(0);
            let fingerprint = if *n == 0 {
                base.clone()
            } else {
                format!("{base}:{n}")
            };
            *n += 1;
            let severity = self
                .settings
                .severity
                .get(&rule.info.id)
                .copied()
                .unwrap_or(rule.info.severity);
            out.push(Finding {
                rule: rule.info.id.clone(),
                name: rule.info.name.clone(),
                severity,
                path: input.display.clone(),
                line,
                column,
                end_line,
                end_column,
                message: hit.message,
                help: rule.info.help.clone(),
                docs: rule.info.url.clone(),
                fingerprint,
                excerpt,
                suppressed: sup,
                span: hit.span,
            });
        }
        out
    }
}

fn read(input: &Input) -> std::io::Result<Vec<u8>> {
    match &input.content {
        Some(c) => Ok(c.clone()),
        None => std::fs::read(&input.path),
    }
}

/// How a path is shown: relative to the working directory when below it, `/`-separated,
/// without a leading `./`.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let p = if path.is_absolute() {
        path.strip_prefix(cwd).unwrap_or(path)
    } else {
        path
    };
    let s = p.to_string_lossy().replace('\\', "/");
    let s = s.trim_start_matches("./").to_string();
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}
