//! Rules: loading rule files (built-in ones embedded at build time, custom ones from
//! `rules-dirs`), checking them, and compiling them into the matchers the engine runs.
//!
//! A rule file is parsed into [`spec::RuleSpec`] (serde, unknown keys rejected), then compiled
//! into a [`Rule`]: regexes built, globs turned into anchored regexes, value classes looked up.
//! Every error names the file and points at the offending text. Nothing here matches source.

pub mod spec;

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;

use crate::diagnostic::{RuleInfo, Severity};
use crate::engine::prefilter::{Chain, WordSet};
use crate::facts::Lang;
use spec::{KnowledgeSpec, MatchSpec, RuleSpec};

/// The built-in rule files, embedded by build.rs: (path, text).
pub const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The base of every rule's documentation link.
pub const DOCS_BASE: &str = "https://github.com/phi-lint/phi-lint/blob/main/docs/rules.md";

/// A rule file that could not be loaded: the file, its text and where the problem is.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub path: String,
    pub text: String,
    pub span: Option<std::ops::Range<usize>>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A regex checked when its rule loads and compiled the first time it is used: a run
/// compiles only the patterns of rules that reach a file (`--staged` on a few files, a
/// `--select`ed rule), not all of them at startup. Dereferences to [`Regex`].
///
/// The built-in rules' patterns are not checked at each start (their test loads them
/// checked): parsing them all was a tenth of a pre-commit run.
#[derive(Clone, Debug)]
pub struct LazyRegex {
    source: String,
    compiled: std::sync::OnceLock<Regex>,
}

impl LazyRegex {
    /// Parses `source` (syntax errors are reported now); compiles it on first use.
    pub fn new(source: &str) -> Result<LazyRegex, String> {
        if !TRUSTED.get() {
            regex_syntax::ParserBuilder::new()
                .build()
                .parse(source)
                .map_err(|e| e.to_string())?;
        }
        Ok(LazyRegex {
            source: source.to_string(),
            compiled: std::sync::OnceLock::new(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl std::ops::Deref for LazyRegex {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            // The syntax was checked at load; only a size limit can fail here.
            Regex::new(&self.source).unwrap_or_else(|e| panic!("regex `{}`: {e}", self.source))
        })
    }
}

/// An anchored pattern over dotted names, compiled from globs where `*` is any text (but a
/// line break, as the regex it stands for).
///
/// Most globs are exact names, `*.suffix` or `prefix.*`: those are string comparisons, so
/// matching a call against the hundreds of callee globs of the rule set costs no regex
/// search; the other shapes are one regex.
#[derive(Clone, Debug, Default)]
pub struct Glob(Option<Box<GlobParts>>);

#[derive(Clone, Debug, Default)]
struct GlobParts {
    exact: std::collections::HashSet<String>,
    suffixes: Vec<String>,
    prefixes: Vec<String>,
    rest: Option<LazyRegex>,
}

impl Glob {
    pub fn new(patterns: &[String]) -> Result<Glob, String> {
        if patterns.is_empty() {
            return Ok(Glob(None));
        }
        let mut g = GlobParts::default();
        let mut alts: Vec<String> = Vec::new();
        for p in patterns {
            let stars = p.matches('*').count();
            if stars == 0 {
                g.exact.insert(p.clone());
            } else if stars == 1 && p.starts_with('*') {
                g.suffixes.push(p[1..].to_string());
            } else if stars == 1 && p.ends_with('*') {
                g.prefixes.push(p[..p.len() - 1].to_string());
            } else {
                alts.push(regex::escape(p).replace("\\*", ".*"));
            }
        }
        if !alts.is_empty() {
            g.rest = Some(LazyRegex::new(&format!("^(?:{})$", alts.join("|")))?);
        }
        Ok(Glob(Some(Box::new(g))))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn matches(&self, name: &str) -> bool {
        let Some(g) = &self.0 else {
            return false;
        };
        // `*` is `.*`: any text without a line break.
        g.exact.contains(name)
            || g.suffixes.iter().any(|s| {
                name.strip_suffix(s.as_str())
                    .is_some_and(|head| !head.contains('\n'))
            })
            || g.prefixes.iter().any(|p| {
                name.strip_prefix(p.as_str())
                    .is_some_and(|tail| !tail.contains('\n'))
            })
            || g.rest.as_ref().is_some_and(|r| r.is_match(name))
    }
}

/// A compiled value class (see knowledge.toml).
#[derive(Clone, Debug, Default)]
pub struct Class {
    pub string: Option<LazyRegex>,
    pub env: Option<LazyRegex>,
    pub ident: Option<LazyRegex>,
}

/// One atom of a condition's `is` list.
#[derive(Clone, Debug)]
pub enum Is {
    Absent,
    Present,
    Literal,
    Env(Option<LazyRegex>),
    True,
    False,
    Unresolved,
    Class(String),
    /// The value is the result of a call whose callee matches (`call:OpenAIKeyCredential`).
    CallTo(Glob),
}

/// A compiled argument condition.
#[derive(Clone, Debug)]
pub struct Cond {
    pub args: Vec<String>,
    pub pos: Option<usize>,
    pub is: Vec<Is>,
}

#[derive(Clone, Debug)]
pub struct AttrCond {
    pub keys: Vec<String>,
    pub absent: bool,
    pub values: Vec<LazyRegex>,
    /// `not:` atoms: a literal value matching none of these satisfies the condition.
    pub not_values: Vec<LazyRegex>,
}

#[derive(Clone, Debug)]
pub struct Sink {
    pub callee: Glob,
    pub receiver: Glob,
    pub args: Vec<String>,
    pub if_file: Option<String>,
    pub assign: bool,
    pub unless_text: Option<LazyRegex>,
    pub if_text: Option<LazyRegex>,
    pub vendor: Option<String>,
    pub label: Option<String>,
}

/// What a compiled match looks for.
#[derive(Clone, Debug)]
pub enum Matcher {
    Call {
        callee: Glob,
        not_callee: Glob,
        receiver: Glob,
        when: Vec<Cond>,
        unless: Vec<Cond>,
        new: Option<bool>,
        decorator: Option<bool>,
        report: Report,
    },
    Str {
        pattern: LazyRegex,
        not: Vec<LazyRegex>,
        code: bool,
        config: bool,
        context: Option<LazyRegex>,
        secret: bool,
        entropy: Option<f64>,
    },
    Config {
        key: LazyRegex,
        value: Option<LazyRegex>,
        not: Vec<LazyRegex>,
        unless_entry: Vec<(LazyRegex, LazyRegex)>,
        objects: bool,
    },
    Block {
        kinds: Vec<String>,
        where_attr: Vec<AttrCond>,
        unless_attr: Vec<AttrCond>,
        attr: AttrCond,
    },
    Flow {
        sinks: Vec<Sink>,
    },
    /// Findings about suppression comments; produced by `suppress`, not by the engine.
    Suppression,
}

/// Where a call match points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    Call,
    Callee,
    Arg,
}

/// A compiled match with its file-level conditions.
#[derive(Clone, Debug)]
pub struct Match {
    pub matcher: Matcher,
    pub languages: Vec<Lang>,
    pub message: Option<String>,
    pub vendor: Option<String>,
    pub provider: Option<String>,
    pub if_imports: Glob,
    pub unless_assigned: Vec<(Glob, LazyRegex)>,
    /// Variable names, each with an optional regex its project value must match.
    pub unless_project_sets: Vec<(String, Option<LazyRegex>)>,
    pub if_calls: Glob,
    pub unless_text: Option<LazyRegex>,
    pub paths: Option<std::sync::Arc<globset::GlobSet>>,
    pub exclude_paths: Option<std::sync::Arc<globset::GlobSet>>,
    /// What a file must hold for this match to be possible (see [`Gate`]); `None` when
    /// nothing is known, and then the rule's keywords alone decide.
    pub gate: Option<Gate>,
}

impl Match {
    /// A flow (taint) match.
    pub fn is_flow(&self) -> bool {
        matches!(self.matcher, Matcher::Flow { .. })
    }
}

/// A necessary condition on a file's raw text for one match: every group has a keyword in
/// the text (ASCII-case-insensitively), and `text` matches. The prefilter runs a rule only
/// where its own keywords occur and, when every match of it has a gate, one of the gates holds.
#[derive(Clone, Debug, Default)]
pub struct Gate {
    pub groups: Vec<Vec<String>>,
    /// And, when not empty, every word of one of these sets (call matches: the segments of
    /// one `callee` pattern; flow matches: of one LLM-call or message-builder pattern, or a
    /// content function's name).
    pub sets: Vec<WordSet>,
    pub text: Option<LazyRegex>,
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub info: RuleInfo,
    pub languages: Vec<Lang>,
    pub keywords: Vec<String>,
    /// A second group of which one keyword must also occur (empty: no second condition).
    pub keywords_also: Vec<String>,
    pub message: String,
    pub matches: Vec<Match>,
    /// Files implementing an LLM SDK or provider are not checked (`skip-provider-code`).
    pub skip_provider_code: bool,
    /// OpenAPI / Swagger descriptions are not checked (`skip-api-descriptions`).
    pub skip_api_descriptions: bool,
    /// The file the rule came from (for error messages and `phi-lint rule`).
    pub source: String,
}

/// Compiled knowledge shared by all rules.
#[derive(Clone, Debug, Default)]
pub struct Knowledge {
    pub classes: BTreeMap<String, Class>,
    pub llm_calls: Glob,
    pub prompt_args: Vec<String>,
    pub prompt_positions: Vec<usize>,
    pub content_free: Vec<String>,
    pub sanitizers: Glob,
    pub message_builders: Glob,
    pub accessors: Vec<String>,
    pub generic_functions: Vec<String>,
    pub content_free_suffixes: Vec<String>,
    pub content_free_prefixes: Vec<String>,
    pub mutators: Vec<String>,
    pub transforms: Glob,
    pub completion_callbacks: Vec<String>,
    pub exception_suffixes: Vec<String>,
    /// The `opt-in-guards` joined into one pattern.
    pub opt_in_guard: Option<LazyRegex>,
    /// The `llm-calls` patterns as written (for the project pre-pass' trigger words).
    pub llm_call_patterns: Vec<String>,
    /// The `message-builders` patterns as written (likewise).
    pub message_builder_patterns: Vec<String>,
    pub markers: BTreeMap<String, Glob>,
}

/// Every loaded rule plus the shared knowledge.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub rules: Vec<Rule>,
    pub knowledge: Knowledge,
}

fn err(path: &str, text: &str, needle: Option<&str>, message: String) -> LoadError {
    let span = needle.and_then(|n| text.find(n).map(|i| i..i + n.len()));
    LoadError {
        path: path.to_string(),
        text: text.to_string(),
        span,
        message,
    }
}

fn regex(path: &str, text: &str, re: &str) -> Result<LazyRegex, LoadError> {
    LazyRegex::new(re).map_err(|e| err(path, text, Some(re), format!("invalid regex: {e}")))
}

fn glob(path: &str, text: &str, pats: &[String]) -> Result<Glob, LoadError> {
    Glob::new(pats).map_err(|e| {
        err(
            path,
            text,
            pats.first().map(|s| s.as_str()),
            format!("invalid pattern: {e}"),
        )
    })
}

fn path_globs(
    path: &str,
    text: &str,
    pats: &[String],
) -> Result<Option<std::sync::Arc<globset::GlobSet>>, LoadError> {
    if pats.is_empty() {
        return Ok(None);
    }
    // A rule's `exclude-paths` (30-odd test-code globs) is added to each of its matches:
    // compiled once per list, not once per match (that was half of the start-up time).
    thread_local! {
        static COMPILED: std::cell::RefCell<std::collections::HashMap<Vec<String>, std::sync::Arc<globset::GlobSet>>> =
            Default::default();
    }
    if let Some(set) = COMPILED.with(|c| c.borrow().get(pats).cloned()) {
        return Ok(Some(set));
    }
    let mut b = globset::GlobSetBuilder::new();
    for p in pats {
        let g = globset::Glob::new(p)
            .map_err(|e| err(path, text, Some(p), format!("invalid glob: {e}")))?;
        b.add(g);
    }
    let set = std::sync::Arc::new(
        b.build()
            .map_err(|e| err(path, text, None, e.to_string()))?,
    );
    COMPILED.with(|c| c.borrow_mut().insert(pats.to_vec(), set.clone()));
    Ok(Some(set))
}

fn toml_error(path: &str, text: &str, e: toml::de::Error) -> LoadError {
    LoadError {
        path: path.to_string(),
        text: text.to_string(),
        span: e.span(),
        message: e.message().to_string(),
    }
}

/// Parses and compiles `rules/knowledge.toml`.
pub fn load_knowledge(path: &str, text: &str) -> Result<Knowledge, LoadError> {
    let spec: KnowledgeSpec = toml::from_str(text).map_err(|e| toml_error(path, text, e))?;
    let mut classes = BTreeMap::new();
    for (name, c) in &spec.classes {
        let class = Class {
            string: c
                .string
                .as_deref()
                .map(|r| regex(path, text, r))
                .transpose()?,
            env: c.env.as_deref().map(|r| regex(path, text, r)).transpose()?,
            ident: c
                .ident
                .as_deref()
                .map(|r| regex(path, text, r))
                .transpose()?,
        };
        classes.insert(name.clone(), class);
    }
    let mut markers = BTreeMap::new();
    for (name, pats) in &spec.markers {
        markers.insert(name.clone(), glob(path, text, pats)?);
    }
    Ok(Knowledge {
        classes,
        llm_calls: glob(path, text, &spec.flow.llm_calls)?,
        prompt_args: spec.flow.prompt_args.clone(),
        prompt_positions: spec.flow.prompt_positions.clone(),
        content_free: spec.flow.content_free.clone(),
        sanitizers: glob(path, text, &spec.flow.sanitizers)?,
        message_builders: glob(path, text, &spec.flow.message_builders)?,
        accessors: spec.flow.accessors.clone(),
        generic_functions: spec.flow.generic_functions.clone(),
        content_free_suffixes: spec.flow.content_free_suffixes.clone(),
        content_free_prefixes: spec.flow.content_free_prefixes.clone(),
        mutators: spec.flow.mutators.clone(),
        transforms: glob(path, text, &spec.flow.transforms)?,
        completion_callbacks: spec.flow.completion_callbacks.clone(),
        exception_suffixes: spec.flow.exception_suffixes.clone(),
        opt_in_guard: if spec.flow.opt_in_guards.is_empty() {
            None
        } else {
            let joined = spec
                .flow
                .opt_in_guards
                .iter()
                .map(|g| format!("(?:{g})"))
                .collect::<Vec<_>>()
                .join("|");
            Some(regex(path, text, &joined)?)
        },
        llm_call_patterns: spec.flow.llm_calls.clone(),
        message_builder_patterns: spec.flow.message_builders.clone(),
        markers,
    })
}

fn languages(path: &str, text: &str, names: &[String]) -> Result<Vec<Lang>, LoadError> {
    names
        .iter()
        .map(|n| {
            Lang::from_name(n).ok_or_else(|| {
                let known: Vec<&str> = Lang::ALL.iter().map(|l| l.name()).collect();
                err(
                    path,
                    text,
                    Some(&format!("\"{n}\"")),
                    format!("unknown language `{n}` (known: {})", known.join(", ")),
                )
            })
        })
        .collect()
}

/// Parses and compiles one rule file against the knowledge (for class names).
pub fn compile(
    path: &str,
    text: &str,
    knowledge: &Knowledge,
    custom: bool,
) -> Result<Rule, LoadError> {
    let spec: RuleSpec = toml::from_str(text).map_err(|e| toml_error(path, text, e))?;
    if spec.schema != 1 {
        return Err(err(
            path,
            text,
            Some("schema"),
            format!(
                "unsupported rule schema {}; this phi-lint reads schema 1",
                spec.schema
            ),
        ));
    }
    let id_ok = spec.id.len() >= 4
        && spec
            .id
            .chars()
            .take_while(|c| c.is_ascii_uppercase())
            .count()
            >= 2
        && spec.id.chars().rev().take(3).all(|c| c.is_ascii_digit());
    if !id_ok {
        return Err(err(
            path,
            text,
            Some(&spec.id),
            format!(
                "rule id `{}` must be letters then at least three digits, like PHI101 or ACME001",
                spec.id
            ),
        ));
    }
    if spec.name.is_empty()
        || !spec
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(err(
            path,
            text,
            Some(&spec.name),
            format!("rule name `{}` must be kebab-case", spec.name),
        ));
    }
    let severity = Severity::parse(&spec.severity).ok_or_else(|| {
        err(
            path,
            text,
            Some(&spec.severity),
            format!(
                "unknown severity `{}` (error, warning, note)",
                spec.severity
            ),
        )
    })?;
    let langs = languages(path, text, &spec.languages)?;
    if spec.matches.is_empty() {
        return Err(err(
            path,
            text,
            Some("[[match]]"),
            "a rule needs at least one [[match]]".into(),
        ));
    }
    let matches = spec
        .matches
        .iter()
        .map(|m| {
            if spec.exclude_paths.is_empty() {
                return compile_match(path, text, m, knowledge, &langs);
            }
            let mut m = m.clone();
            m.exclude_paths.extend(spec.exclude_paths.iter().cloned());
            compile_match(path, text, &m, knowledge, &langs)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let url = format!("{DOCS_BASE}#{}", spec.id.to_ascii_lowercase());
    let info = RuleInfo {
        id: spec.id.clone(),
        name: spec.name.clone(),
        severity,
        summary: spec.summary.clone(),
        languages: spec.languages.clone(),
        help: spec.help.clone(),
        docs: spec.docs.clone(),
        url,
        custom,
    };
    Ok(Rule {
        info,
        languages: langs,
        keywords: spec.keywords.clone(),
        keywords_also: spec.keywords_also.clone(),
        message: spec.message.clone(),
        matches,
        skip_provider_code: spec.skip_provider_code,
        skip_api_descriptions: spec.skip_api_descriptions,
        source: path.to_string(),
    })
}

fn compile_is(
    path: &str,
    text: &str,
    atoms: &[String],
    knowledge: &Knowledge,
) -> Result<Vec<Is>, LoadError> {
    atoms
        .iter()
        .map(|a| {
            Ok(match a.as_str() {
                "absent" => Is::Absent,
                "present" => Is::Present,
                "literal" => Is::Literal,
                "env" => Is::Env(None),
                "true" => Is::True,
                "false" => Is::False,
                "unresolved" => Is::Unresolved,
                other if other.starts_with("env:") => Is::Env(Some(regex(path, text, &other[4..])?)),
                other if other.starts_with("call:") => Is::CallTo(glob(path, text, &[other[5..].to_string()])?),
                other => {
                    if !knowledge.classes.contains_key(other) {
                        let known: Vec<&str> = knowledge.classes.keys().map(|s| s.as_str()).collect();
                        return Err(err(path, text, Some(&format!("\"{other}\"")), format!("unknown condition `{other}`: use absent, present, literal, env, env:REGEX, true, false, unresolved or a class ({})", known.join(", "))));
                    }
                    Is::Class(other.to_string())
                }
            })
        })
        .collect()
}

fn compile_attr(path: &str, text: &str, a: &spec::AttrCondSpec) -> Result<AttrCond, LoadError> {
    let mut values = Vec::new();
    let mut not_values = Vec::new();
    let mut absent = false;
    for v in &a.is {
        if v == "absent" {
            absent = true;
        } else if let Some(re) = v.strip_prefix("not:") {
            not_values.push(regex(path, text, re)?);
        } else if let Some(re) = v.strip_prefix("re:") {
            values.push(regex(path, text, re)?);
        } else {
            values.push(regex(path, text, &format!("(?i)^{}$", regex::escape(v)))?);
        }
    }
    Ok(AttrCond {
        keys: a.key.clone(),
        absent,
        values,
        not_values,
    })
}

fn compile_match(
    path: &str,
    text: &str,
    m: &MatchSpec,
    knowledge: &Knowledge,
    rule_langs: &[Lang],
) -> Result<Match, LoadError> {
    let languages = if m.languages.is_empty() {
        rule_langs.to_vec()
    } else {
        let l = languages(path, text, &m.languages)?;
        if let Some(extra) = l.iter().find(|x| !rule_langs.contains(x)) {
            return Err(err(
                path,
                text,
                Some(extra.name()),
                format!(
                    "match language `{}` is not among the rule's languages",
                    extra.name()
                ),
            ));
        }
        l
    };
    let unexpected = |field: &str, present: bool| -> Result<(), LoadError> {
        if present {
            Err(err(
                path,
                text,
                Some(field),
                format!("`{field}` does not apply to kind = \"{}\"", m.kind),
            ))
        } else {
            Ok(())
        }
    };
    let matcher = match m.kind.as_str() {
        "call" => {
            if m.callee.is_empty() {
                return Err(err(
                    path,
                    text,
                    Some("kind = \"call\""),
                    "a call match needs `callee`".into(),
                ));
            }
            unexpected("pattern", m.pattern.is_some())?;
            let report = match m.report.as_deref() {
                None | Some("call") => Report::Call,
                Some("callee") => Report::Callee,
                Some("arg") => Report::Arg,
                Some(other) => {
                    return Err(err(
                        path,
                        text,
                        Some(other),
                        format!("unknown report `{other}` (call, callee, arg)"),
                    ))
                }
            };
            let conds = |cs: &[spec::CondSpec]| -> Result<Vec<Cond>, LoadError> {
                cs.iter()
                    .map(|c| {
                        Ok(Cond {
                            args: c.arg.clone(),
                            pos: c.pos,
                            is: compile_is(path, text, &c.is, knowledge)?,
                        })
                    })
                    .collect()
            };
            Matcher::Call {
                callee: glob(path, text, &m.callee)?,
                not_callee: glob(path, text, &m.not_callee)?,
                receiver: glob(path, text, &m.receiver)?,
                when: conds(&m.when)?,
                unless: conds(&m.unless)?,
                new: m.new,
                decorator: m.decorator,
                report,
            }
        }
        "string" => {
            let pattern = m.pattern.as_deref().ok_or_else(|| {
                err(
                    path,
                    text,
                    Some("kind = \"string\""),
                    "a string match needs `pattern`".into(),
                )
            })?;
            unexpected("callee", !m.callee.is_empty())?;
            let (code, config) = if m.r#in.is_empty() {
                (true, true)
            } else {
                (
                    m.r#in.iter().any(|s| s == "code"),
                    m.r#in.iter().any(|s| s == "config"),
                )
            };
            Matcher::Str {
                pattern: regex(path, text, pattern)?,
                not: m
                    .not_pattern
                    .iter()
                    .map(|r| regex(path, text, r))
                    .collect::<Result<_, _>>()?,
                code,
                config,
                context: m
                    .context
                    .as_deref()
                    .map(|r| regex(path, text, r))
                    .transpose()?,
                secret: m.secret,
                entropy: m.entropy,
            }
        }
        "config" => {
            let key = m.key.as_deref().ok_or_else(|| {
                err(
                    path,
                    text,
                    Some("kind = \"config\""),
                    "a config match needs `key`".into(),
                )
            })?;
            Matcher::Config {
                key: regex(path, text, key)?,
                value: m
                    .value
                    .as_deref()
                    .map(|r| regex(path, text, r))
                    .transpose()?,
                not: m
                    .not_pattern
                    .iter()
                    .map(|r| regex(path, text, r))
                    .collect::<Result<_, _>>()?,
                unless_entry: m
                    .unless_entry
                    .iter()
                    .map(|e| Ok((regex(path, text, &e.key)?, regex(path, text, &e.value)?)))
                    .collect::<Result<_, LoadError>>()?,
                objects: m.objects,
            }
        }
        "block" => {
            let attr = m.attr.as_ref().ok_or_else(|| {
                err(
                    path,
                    text,
                    Some("kind = \"block\""),
                    "a block match needs `attr`".into(),
                )
            })?;
            Matcher::Block {
                kinds: m.block.clone(),
                where_attr: m
                    .where_attr
                    .iter()
                    .map(|a| compile_attr(path, text, a))
                    .collect::<Result<_, _>>()?,
                unless_attr: m
                    .unless_attr
                    .iter()
                    .map(|a| compile_attr(path, text, a))
                    .collect::<Result<_, _>>()?,
                attr: compile_attr(path, text, attr)?,
            }
        }
        "flow" => {
            if m.sinks.is_empty() {
                return Err(err(
                    path,
                    text,
                    Some("kind = \"flow\""),
                    "a flow match needs `sinks`".into(),
                ));
            }
            let sinks = m
                .sinks
                .iter()
                .map(|s| {
                    if let Some(marker) = &s.if_file {
                        if !knowledge.markers.contains_key(marker) {
                            return Err(err(
                                path,
                                text,
                                Some(marker),
                                format!("unknown marker set `{marker}`"),
                            ));
                        }
                    }
                    Ok(Sink {
                        callee: glob(path, text, &s.callee)?,
                        receiver: glob(path, text, &s.receiver)?,
                        args: s.args.clone(),
                        if_file: s.if_file.clone(),
                        assign: s.assign,
                        unless_text: s
                            .unless_text
                            .as_deref()
                            .map(|r| regex(path, text, r))
                            .transpose()?,
                        if_text: s
                            .if_text
                            .as_deref()
                            .map(|r| regex(path, text, r))
                            .transpose()?,
                        vendor: s.vendor.clone(),
                        label: s.label.clone(),
                    })
                })
                .collect::<Result<_, _>>()?;
            Matcher::Flow { sinks }
        }
        "suppression" => Matcher::Suppression,
        other => {
            return Err(err(
                path,
                text,
                Some(other),
                format!(
                    "unknown match kind `{other}` (call, string, config, block, flow, suppression)"
                ),
            ));
        }
    };
    let gate = gate_of(path, text, m, knowledge)?;
    Ok(Match {
        matcher,
        languages,
        message: m.message.clone(),
        vendor: m.vendor.clone(),
        provider: m.provider.clone(),
        if_imports: glob(path, text, &m.if_imports)?,
        unless_assigned: m
            .unless_assigned
            .iter()
            .map(|a| Ok((glob(path, text, &a.target)?, regex(path, text, &a.value)?)))
            .collect::<Result<_, LoadError>>()?,
        unless_project_sets: m
            .unless_project_sets
            .iter()
            .map(|v| match v.split_once('=') {
                Some((name, re)) => Ok((
                    name.trim().to_string(),
                    Some(regex(path, text, &format!("(?i)^(?:{re})$"))?),
                )),
                None => Ok((v.clone(), None)),
            })
            .collect::<Result<_, LoadError>>()?,
        if_calls: glob(path, text, &m.if_calls)?,
        unless_text: m
            .unless_text
            .as_deref()
            .map(|r| regex(path, text, r))
            .transpose()?,
        paths: path_globs(path, text, &m.paths)?,
        exclude_paths: path_globs(path, text, &m.exclude_paths)?,
        gate,
    })
}

/// The [`Gate`] of a match: keywords from the names a call match needs (see [`gate_words`]:
/// one per `callee`, `receiver`, `if-calls` and `if-imports` pattern), the kinds of a block
/// match, the seed patterns of a flow match (see [`flow_seed_sets`]), the match's own
/// `keywords`, and its `text-pattern`.
fn gate_of(
    path: &str,
    text: &str,
    m: &MatchSpec,
    knowledge: &Knowledge,
) -> Result<Option<Gate>, LoadError> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut sets: Vec<WordSet> = Vec::new();
    if m.kind == "flow" {
        // The flow starts only at an LLM call, a chat-history builder or a call to a content
        // function (added at run time): the file spells every segment of one such pattern.
        sets = flow_seed_sets(knowledge);
    }
    if m.kind == "call" {
        // A call the match reports is named by one of its `callee` patterns.
        sets = pattern_sets(m.callee.iter());
        // `if-calls` of a config match looks at the whole project, not the file.
        for patterns in [&m.callee, &m.receiver, &m.if_calls] {
            if let Some(g) = gate_words(patterns) {
                groups.push(g);
            }
        }
    }
    if m.kind == "block" && !m.block.is_empty() {
        // A resource of a kind is declared with that kind's name (`resource "azurerm_..."`,
        // `'Microsoft.CognitiveServices/accounts@...'`, `"type": "..."`).
        groups.push(m.block.clone());
    }
    if let Some(g) = gate_words(&m.if_imports) {
        groups.push(g);
    }
    if !m.keywords.is_empty() {
        groups.push(m.keywords.clone());
    }
    let text_re = m
        .text_pattern
        .as_deref()
        .map(|r| regex(path, text, r))
        .transpose()?;
    if groups.is_empty() && sets.is_empty() && text_re.is_none() {
        return Ok(None);
    }
    Ok(Some(Gate {
        groups,
        sets,
        text: text_re,
    }))
}

/// The sets of the `llm-calls` and `message-builders` patterns ([`pattern_sets`]).
pub fn flow_seed_sets(k: &Knowledge) -> Vec<WordSet> {
    pattern_sets(
        k.llm_call_patterns
            .iter()
            .chain(&k.message_builder_patterns),
    )
}

/// For each call pattern, its plain segments of three characters or more
/// (`*.chat.completions.create` → chat, completions, create), and its last segments as a
/// [`Chain`] (`completions` then `create`; `.invoke` of `*.invoke`). A call the pattern
/// matches spells each of them as a whole identifier (the prefilter compares them so, see
/// [`crate::engine::prefilter::is_whole_word`]): a frontend names a call as written, or with
/// its first segment replaced by the import path it came from, which the file spells too. A
/// segment joined to a `*` (`langchain*.HumanMessage`) may be part of a longer one and is left
/// out. A pattern with neither (`openai*`) gets an empty set, which every text holds: the
/// gates never drop a file one of the patterns may name.
pub fn pattern_sets<'a>(patterns: impl Iterator<Item = &'a String>) -> Vec<WordSet> {
    patterns
        .map(|p| WordSet {
            words: p
                .split(['.', '/'])
                .filter(|w| w.len() >= 3 && !w.contains('*'))
                .map(str::to_string)
                .collect(),
            chain: Chain::of(p),
        })
        .collect()
}

/// One keyword per pattern (see [`gate_of`]): its longest plain part between `.`, `/` and `*` (the code spells
/// every segment of a name it calls, in the call or in the import it came from; the longest
/// is the rarest). `None` when a pattern has no plain part of three characters or more (`*`),
/// as the group would then not cover it.
fn gate_words(patterns: &[String]) -> Option<Vec<String>> {
    if patterns.is_empty() {
        return None;
    }
    let mut words: Vec<String> = Vec::new();
    for p in patterns {
        // Import paths are split at `/` too: a frontend may drop parts of one (Go drops the
        // host and the major version: `github.com/openai/openai-go/v3/azure` is
        // `openai/openai-go/azure`), so only a part is sure to be in the text.
        // An npm scope (`@ai-sdk`) is shared by many packages: any other part is rarer.
        let word = p
            .split(['.', '/'])
            .flat_map(|seg| seg.split('*'))
            .max_by_key(|w| (w.len() >= 3 && !w.starts_with('@'), w.len()))?;
        if word.len() < 3 {
            return None;
        }
        if !words.iter().any(|w| w.eq_ignore_ascii_case(word)) {
            words.push(word.to_string());
        }
    }
    Some(words)
}

thread_local! {
    /// Set while the built-in rules load: their regexes are not syntax-checked (see
    /// [`LazyRegex`]).
    static TRUSTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Loads the built-in catalogue. Built-in rules are tested, so a failure here is a bug.
pub fn builtin() -> Result<Catalog, LoadError> {
    TRUSTED.set(true);
    let c = load_builtin();
    TRUSTED.set(false);
    c
}

fn load_builtin() -> Result<Catalog, LoadError> {
    let (kpath, ktext) = BUILTIN
        .iter()
        .find(|(p, _)| p.ends_with("knowledge.toml"))
        .copied()
        .unwrap_or(("rules/knowledge.toml", ""));
    let knowledge = load_knowledge(kpath, ktext)?;
    let mut rules = Vec::new();
    for (path, text) in BUILTIN {
        if path.ends_with("knowledge.toml") {
            continue;
        }
        rules.push(compile(path, text, &knowledge, false)?);
    }
    rules.sort_by(|a, b| a.info.id.cmp(&b.info.id));
    Ok(Catalog { rules, knowledge })
}

impl Catalog {
    /// Finds a rule by id or name.
    pub fn find(&self, key: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.info.id.eq_ignore_ascii_case(key) || r.info.name == key)
    }

    /// Adds custom rules; an id or name that already exists is an error.
    pub fn add(&mut self, rule: Rule) -> Result<(), LoadError> {
        if let Some(other) = self
            .find(&rule.info.id)
            .or_else(|| self.find(&rule.info.name))
        {
            return Err(LoadError {
                path: rule.source.clone(),
                text: String::new(),
                span: None,
                message: format!(
                    "rule {} ({}) clashes with {} from {}",
                    rule.info.id, rule.info.name, other.info.id, other.source
                ),
            });
        }
        self.rules.push(rule);
        self.rules.sort_by(|a, b| a.info.id.cmp(&b.info.id));
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn call_gates_take_the_longest_plain_segment_of_each_pattern() {
        let w = |ps: &[&str]| gate_words(&ps.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            w(&["openai.lib.azure.*", "*.chat.completions.create"]),
            Some(vec!["openai".to_string(), "completions".to_string()])
        );
        assert_eq!(
            w(&["@ai-sdk/azure.azure", "langchain*.AzureChatOpenAI"]),
            Some(vec!["azure".to_string(), "AzureChatOpenAI".to_string()])
        );
        // A pattern with no plain part leaves the match without a gate.
        assert_eq!(w(&["AzureOpenAI", "*"]), None);
        assert_eq!(w(&["*.op"]), None);
    }

    /// A call match's gate holds one set per `callee` pattern: a file that spells the words
    /// of none (with their case, as whole identifiers, the last two chained) cannot call it.
    #[test]
    fn call_gates_need_the_segments_of_one_callee_pattern() {
        use crate::engine::prefilter::{Prefilter, RuleKeys};
        let c = builtin().unwrap();
        let rule = c.rules.iter().find(|r| r.info.id == "PHI501").unwrap();
        let m = rule
            .matches
            .iter()
            .find(|m| {
                matches!(&m.matcher, Matcher::Call { callee, .. } if callee.matches("c.images.generate"))
            })
            .unwrap();
        let gate = m.gate.clone().unwrap();
        let words: Vec<Vec<&str>> = gate
            .sets
            .iter()
            .map(|s| s.words.iter().map(String::as_str).collect())
            .collect();
        assert!(words.contains(&vec!["images", "generate"]), "{words:?}");
        let p = Prefilter::new(
            &[RuleKeys {
                any: vec!["x".into()],
                also: vec![],
                gates: vec![Some(gate)],
            }],
            &[],
            false,
        );
        // The rule has the one match: it is left out when the match's gate fails.
        let gated = |t: &str| p.scan(t.as_bytes(), true, true).rules.is_empty();
        assert!(!gated("x = client.images.generate(prompt=p)"));
        assert!(!gated("x = openai.Image.create(prompt=p)"));
        // The case-insensitive group alone (`generate`) admitted these.
        assert!(gated("x Generate images"));
        assert!(gated("x: images; generate()"));
    }

    /// The string fast paths of `Glob` agree with the regex every glob stands for.
    #[test]
    fn glob_fast_paths_agree_with_the_regex() {
        let pats = [
            "openai.OpenAI",
            "*.chat.completions.create",
            "openai.*",
            "semantic_kernel.*.AzureChatCompletion",
            "@sentry/*.openAIIntegration",
            "*",
            "a*b",
            "langchain*.HumanMessage",
        ];
        let names = [
            "openai.OpenAI",
            "client.chat.completions.create",
            ".chat.completions.create",
            "chat.completions.create",
            "x\ny.chat.completions.create",
            "openai.",
            "openai.x\ny",
            "openai",
            "semantic_kernel.connectors.AzureChatCompletion",
            "@sentry/node.openAIIntegration",
            "",
            "ab",
            "a.b",
            "a\nb",
            "langchain_core.HumanMessage",
            "langchain.HumanMessage.x",
            "OpenAI.openai",
        ];
        for p in pats {
            let g = Glob::new(&[p.to_string()]).unwrap();
            let re =
                Regex::new(&format!("^(?:{})$", regex::escape(p).replace("\\*", ".*"))).unwrap();
            for n in names {
                assert_eq!(g.matches(n), re.is_match(n), "glob {p:?} on {n:?}");
            }
        }
        assert!(!Glob::new(&[]).unwrap().matches(""));
    }

    /// `keywords-also` may only skip files a rule cannot match: every LLM-call and
    /// chat-history builder glob (flow matches need one in the file) and every callee glob (for call matches) must have a name segment containing
    /// one of the rule's second-group keywords, since a matching call spells that segment in
    /// the file (at the call or in the import that names it).
    #[test]
    fn gate_words_are_parts_the_code_spells() {
        let words = |ps: &[&str]| gate_words(&ps.iter().map(|p| p.to_string()).collect::<Vec<_>>());
        // Go drops the host and major version of an import path: only a part is sure to be
        // in the text (`github.com/openai/openai-go/v3/azure`).
        assert_eq!(
            words(&["openai/openai-go/azure.WithAPIKey"]),
            Some(vec!["WithAPIKey".to_string()])
        );
        assert_eq!(
            words(&[
                "@ai-sdk/anthropic.anthropic",
                "@langchain/x.y",
                "*.AzureOpenAI"
            ]),
            Some(vec![
                "anthropic".to_string(),
                "@langchain".to_string(),
                "AzureOpenAI".to_string()
            ])
        );
        // A pattern with no plain part of three characters leaves the group out.
        assert_eq!(words(&["*.ai"]), None);
    }

    #[test]
    fn flow_seed_sets_hold_the_whole_segments_of_each_pattern() {
        let k = Knowledge {
            llm_call_patterns: vec![
                "*.chat.completions.create".into(),
                "*.invoke".into(),
                "ai*".into(),
            ],
            message_builder_patterns: vec![
                "langchain*.HumanMessage".into(),
                "@langchain/*.AIMessage".into(),
            ],
            ..Knowledge::default()
        };
        // `langchain*` may be the start of a longer identifier (`langchain_core`): left out,
        // as the prefilter compares set words as whole identifiers.
        let sets = flow_seed_sets(&k);
        let words: Vec<Vec<&str>> = sets
            .iter()
            .map(|s| s.words.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            words,
            [
                vec!["chat", "completions", "create"],
                vec!["invoke"],
                vec![],
                vec!["HumanMessage"],
                vec!["@langchain", "AIMessage"],
            ]
        );
        // The last two segments when both are plain: the prefilter looks for them chained.
        let chain = |head: Option<&str>, tail: &str| Chain {
            head: head.map(str::to_string),
            tail: tail.into(),
            rooted: false,
        };
        let chains: Vec<Option<Chain>> = sets.iter().map(|s| s.chain.clone()).collect();
        assert_eq!(
            chains,
            [
                Some(chain(Some("completions"), "create")),
                Some(chain(None, "invoke")),
                None,
                Some(chain(None, "HumanMessage")),
                Some(chain(None, "AIMessage")),
            ]
        );
        // `ai*` has neither words nor a chain: its set holds for any text, so a flow gate
        // never drops a file that calls `aiClient(...)`.
        let gates = crate::engine::prefilter::Prefilter::new(&[], &sets[2..3], false);
        assert!(gates.scan(b"x = aiClient(prompt)", true, true).probed);
    }

    #[test]
    fn keywords_also_cover_every_match() {
        let (_, ktext) = BUILTIN
            .iter()
            .find(|(p, _)| p.ends_with("knowledge.toml"))
            .unwrap();
        let k: KnowledgeSpec = toml::from_str(ktext).unwrap();
        let mut checked = 0;
        for (path, text) in BUILTIN {
            if path.ends_with("knowledge.toml") {
                continue;
            }
            let spec: RuleSpec = toml::from_str(text).unwrap();
            if spec.keywords_also.is_empty() {
                continue;
            }
            let also: Vec<String> = spec
                .keywords_also
                .iter()
                .map(|w| w.to_ascii_lowercase())
                .collect();
            let flow: Vec<String> = k
                .flow
                .llm_calls
                .iter()
                .chain(&k.flow.message_builders)
                .cloned()
                .collect();
            for m in &spec.matches {
                let globs = match m.kind.as_str() {
                    "flow" => &flow,
                    "call" => &m.callee,
                    other => panic!("{path}: keywords-also with a `{other}` match"),
                };
                for g in globs {
                    let covered = g
                        .split(['.', '*', '/'])
                        .map(|s| s.to_ascii_lowercase())
                        .any(|s| also.iter().any(|w| s.contains(w.as_str())));
                    assert!(covered, "{path}: no keywords-also keyword for `{g}`");
                    checked += 1;
                }
            }
        }
        assert!(checked > 0);
    }
    use super::*;

    #[test]
    fn builtin_catalogue_compiles() {
        let c = builtin().expect("built-in rules compile");
        assert!(!c.rules.is_empty());
        // With every regex syntax-checked, as a custom rule's are.
        let checked = load_builtin().expect("built-in regexes parse");
        assert_eq!(checked.rules.len(), c.rules.len());
        // The check is on again after a built-in load.
        assert!(LazyRegex::new("(").is_err());
    }

    #[test]
    fn globs_are_anchored() {
        let g = Glob::new(&["openai.OpenAI".into(), "*.chat.completions.create".into()]).unwrap();
        assert!(g.matches("openai.OpenAI"));
        assert!(!g.matches("openai.OpenAIx"));
        assert!(g.matches("self.client.chat.completions.create"));
    }

    #[test]
    fn errors_point_into_the_file() {
        let k = Knowledge::default();
        let text = "id = \"PHI999\"\nname = \"x\"\nseverity = \"fatal\"\nsummary = \"s\"\nlanguages = [\"python\"]\nkeywords = [\"a\"]\nmessage = \"m\"\nhelp = \"h\"\n[docs]\nwhat = \"\"\nwhy = \"\"\nsafeguard = \"\"\nbad = \"\"\ngood = \"\"\n[[match]]\nkind = \"call\"\ncallee = [\"x\"]\n";
        let e = compile("r.toml", text, &k, true).unwrap_err();
        assert!(e.message.contains("unknown severity"));
        assert_eq!(&text[e.span.unwrap()], "fatal");
    }
}
