//! The rule engine: given one file's facts and the active rules, produce hits.
//!
//! Each compiled [`Matcher`] kind has one function here: calls (callee globs, argument
//! conditions, receivers), strings (regexes over literal values), config entries, IaC blocks,
//! and flow (prompt or completion data reaching a sink, in [`flow`]). Values are resolved
//! through the file's assignments ([`resolve`]) so a literal bound to a constant is judged,
//! and reported, where it is written. The engine holds no SDK knowledge: that is in the rules.

pub mod flow;
pub mod prefilter;

use std::collections::{HashMap, HashSet};

use regex::Regex;

use crate::diagnostic::Hit;
use crate::facts::{root_of, Arg, Call, Facts, Lang, Part, Span, Value};
use crate::rule::{AttrCond, Catalog, Cond, Is, Knowledge, Match, Matcher, Report, Rule};

/// Project-wide context gathered before files are checked.
#[derive(Clone, Debug, Default)]
pub struct Project {
    /// Variables set to a non-empty value in the project's config and env files.
    pub env_set: HashSet<String>,
    /// The values those variables are set to (every file that sets one).
    pub env_values: HashMap<String, Vec<String>>,
    /// Names of functions anywhere in the project that return LLM content (their callers'
    /// results are content too); filled by a pre-pass when a flow rule is active.
    pub content_functions: HashSet<String>,
    /// IaC module parameters bound by callers: (module file, parameter) → what each caller
    /// passes (`None` when a caller passes something that cannot be resolved to a literal).
    pub module_params: HashMap<(std::path::PathBuf, String), Vec<Option<String>>>,
    /// How many module calls in the checked files use each module file; callers that do not
    /// pass a parameter get its default.
    pub module_callers: HashMap<std::path::PathBuf, usize>,
}

/// The envelope: what the organisation's contracts cover (from the config).
#[derive(Clone, Debug, Default)]
pub struct Envelope {
    pub covered_vendors: Vec<String>,
    pub allowed_hosts: Vec<String>,
    pub approved_providers: Vec<String>,
    /// Azure OpenAI API versions the organisation has approved (for PHI301 checks).
    pub approved_api_versions: Vec<String>,
    /// Azure regions inside the organisation's data-residency policy.
    pub allowed_regions: Vec<String>,
}

impl Envelope {
    pub(crate) fn covers_vendor(&self, v: &Option<String>) -> bool {
        v.as_ref().is_some_and(|v| {
            self.covered_vendors
                .iter()
                .any(|c| c.eq_ignore_ascii_case(v))
        })
    }

    fn approves(&self, p: &Option<String>) -> bool {
        p.as_ref().is_some_and(|p| {
            self.approved_providers
                .iter()
                .any(|c| c.eq_ignore_ascii_case(p))
        })
    }

    /// Whether a matched text names an allowed host (exact host or a subdomain of it).
    fn allows_host(&self, text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        self.allowed_hosts.iter().any(|h| {
            let h = h.to_ascii_lowercase();
            lower.match_indices(&h).any(|(i, _)| {
                i == 0
                    || matches!(
                        lower.as_bytes()[i - 1],
                        b'.' | b'/' | b'@' | b' ' | b'"' | b'\''
                    )
            })
        })
    }
}

/// One file, as the matchers see it.
pub struct FileCtx<'a> {
    pub rel_path: &'a str,
    /// The file's absolute path, when known (binds module parameters passed by callers).
    pub abs_path: Option<&'a std::path::Path>,
    /// The file's path as given (finds the package it belongs to), when it is on disk.
    pub path: Option<&'a std::path::Path>,
    /// Rule selectors of `check-provider-code`: these rules check provider code too.
    pub check_provider_code: &'a [String],
    pub lang: Lang,
    pub text: &'a str,
    pub facts: &'a Facts,
    pub project: &'a Project,
    pub envelope: &'a Envelope,
    pub knowledge: &'a Knowledge,
    /// Matches not to run (catalogue rule index, match index): the prefilter found that
    /// their gates fail, so they cannot match the text.
    pub gated_out: &'a [(usize, usize)],
    /// Where the file's flow analysis is kept once made, for its other flow matches.
    pub analysis: Option<&'a flow::Analysis<'a>>,
}

/// Runs the given rules (indices into the catalogue) over one file.
pub fn check(catalog: &Catalog, active: &[usize], ctx: &FileCtx) -> Vec<Hit> {
    match terraform_module_facts(catalog, active, ctx) {
        Some(with_module) => {
            let module_ctx = FileCtx {
                facts: &with_module,
                analysis: None,
                ..*ctx
            };
            check_facts(catalog, active, &module_ctx)
        }
        None => check_facts(catalog, active, ctx),
    }
}

fn check_facts(catalog: &Catalog, active: &[usize], ctx: &FileCtx) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut api_description = None;
    for &ri in active {
        let rule = &catalog.rules[ri];
        if rule.skip_api_descriptions
            && *api_description.get_or_insert_with(|| is_api_description(ctx.lang, ctx.text))
        {
            continue;
        }
        for (mi, m) in rule.matches.iter().enumerate() {
            if !applies_to(m, ctx.lang) || ctx.gated_out.contains(&(ri, mi)) {
                continue;
            }
            if !file_conditions(m, ctx) {
                continue;
            }
            if ctx.envelope.covers_vendor(&m.vendor) || ctx.envelope.approves(&m.provider) {
                continue;
            }
            run_match(ri, rule, m, ctx, &mut hits);
        }
    }
    drop_provider_code(catalog, ctx, &mut hits);
    hits.sort_by(|a, b| {
        (a.span.start, a.rule, a.span.end).cmp(&(b.span.start, b.rule, b.span.end))
    });
    hits.dedup_by(|a, b| a.rule == b.rule && a.span.start == b.span.start);
    hits
}

/// A Terraform module is a folder: `variable` defaults, `locals` and `.tfvars` values set in the
/// other `.tf` files of the file's folder apply to its blocks (`local_auth_enabled =
/// var.allow_keys` in main.tf, the default in variables.tf). When a block attribute of a kind
/// some active block match names reads a `var.` or `local.` name this file does not set, the
/// file's facts are returned with the folder's other assignments appended (`.tfvars` last:
/// their values override defaults). Their spans lie past the end of the file, so they are only
/// ever used as values, never reported.
fn terraform_module_facts(catalog: &Catalog, active: &[usize], ctx: &FileCtx) -> Option<Facts> {
    if ctx.lang != Lang::Hcl || ctx.facts.blocks.is_empty() {
        return None;
    }
    let path = ctx.path?;
    let kinds: Vec<&String> = active
        .iter()
        .flat_map(|&ri| &catalog.rules[ri].matches)
        .flat_map(|m| match &m.matcher {
            Matcher::Block { kinds, .. } => kinds.iter().collect(),
            _ => Vec::new(),
        })
        .collect();
    let unresolved = ctx.facts.config.iter().any(|e| {
        let Some(b) = e.block.and_then(|b| ctx.facts.blocks.get(b)) else {
            return false;
        };
        if b.existing || !kinds.iter().any(|k| k.eq_ignore_ascii_case(&b.kind)) {
            return false;
        }
        let mut refs = Vec::new();
        e.value.refs(&mut refs, &ctx.facts.calls);
        refs.iter().any(|r| {
            (r.starts_with("var.") || r.starts_with("local."))
                && !ctx.facts.assigns.iter().any(|a| &a.target == r)
        })
    });
    if !unresolved {
        return None;
    }
    let dir = path.parent()?;
    let own = path.file_name()?;
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name() != Some(own) && p.is_file())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            name.ends_with(".tf") || name == "terraform.tfvars" || name.ends_with(".auto.tfvars")
        })
        .collect();
    // `.tfvars` last: a name is resolved to its last assignment, and a tfvars value
    // overrides the variable's default.
    files.sort_by_key(|p| (p.to_string_lossy().ends_with(".tfvars"), p.clone()));
    let mut facts = ctx.facts.clone();
    let past = ctx.text.len() + 1;
    for p in files.iter().take(256) {
        if p.metadata().map_or(true, |m| m.len() > 4 * 1024 * 1024) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(p) else {
            continue;
        };
        let other = crate::lang::extract(Lang::Hcl, &text);
        facts.assigns.extend(
            other
                .assigns
                .into_iter()
                .filter(|a| a.scope == 0)
                .map(|mut a| {
                    a.span = past..past;
                    a
                }),
        );
    }
    Some(facts)
}

/// An OpenAPI or Swagger description: a YAML file with a top-level `openapi:` / `swagger:`
/// version, or a JSON file whose top-level object sets `"openapi"` / `"swagger"` to one. Such a
/// file documents an API's endpoints; it does not call them.
pub fn is_api_description(lang: Lang, text: &str) -> bool {
    static YAML: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    static JSON: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = match lang {
        Lang::Yaml => YAML.get_or_init(|| {
            Regex::new(r#"(?m)^["']?(?:openapi|swagger)["']?[ \t]*:[ \t]*["']?[0-9]"#).unwrap()
        }),
        // The key at the top level: first in the object, or indented one step.
        Lang::Json => JSON.get_or_init(|| {
            Regex::new(
                r#"\A\s*\{\s*"(?:openapi|swagger)"\s*:\s*"[0-9]|(?m)^(?: {2}| {4}|\t)"(?:openapi|swagger)"\s*:\s*"[0-9]"#,
            )
            .unwrap()
        }),
        _ => return false,
    };
    re.is_match(text)
}

/// Drops the hits of rules that skip provider code (`skip-provider-code`) when the file is
/// the implementation of an LLM SDK or provider (see [`is_provider_code`]), unless the
/// config's `check-provider-code` selects the rule. The file's package is only looked up
/// when such a hit exists.
fn drop_provider_code(catalog: &Catalog, ctx: &FileCtx, hits: &mut Vec<Hit>) {
    let skips = |ri: usize| skips_provider_code(catalog, ri, ctx.check_provider_code);
    if !hits.iter().any(|h| skips(h.rule)) {
        return;
    }
    let Some(path) = ctx.path else { return };
    if is_provider_code(ctx.knowledge, path, ctx.lang, ctx.text) {
        hits.retain(|h| !skips(h.rule));
    }
}

/// Whether rule `ri` skips provider code: it is `skip-provider-code` and the config's
/// `check-provider-code` (`selectors`) does not select it.
pub fn skips_provider_code(catalog: &Catalog, ri: usize, selectors: &[String]) -> bool {
    let r = &catalog.rules[ri];
    r.skip_provider_code
        && !selectors
            .iter()
            .any(|s| crate::settings::selects(s, &r.info.id, &r.info.name))
}

/// Whether the file at `path` is the implementation of an LLM SDK or provider: its package
/// (`crate::package::identity`) is `[markers] provider-code` and not `provider-code-samples`.
pub fn is_provider_code(
    knowledge: &Knowledge,
    path: &std::path::Path,
    lang: Lang,
    text: &str,
) -> bool {
    let Some(id) = crate::package::identity(path, lang, text) else {
        return false;
    };
    let marked = |name: &str| knowledge.markers.get(name).is_some_and(|g| g.matches(&id));
    marked("provider-code") && !marked("provider-code-samples")
}

/// Whether a match of rule `ri` may report on a file of `lang` at `rel_path`, judged from
/// what is known before the file is parsed: the match's languages and path conditions, the
/// envelope, and whether the prefilter found its gate to fail (`gated_out`: rule and match
/// indices). `check` applies the same conditions and runs no gated-out match, so a rule this
/// rejects has no hits.
pub fn may_report(
    catalog: &Catalog,
    ri: usize,
    lang: Lang,
    rel_path: &str,
    envelope: &Envelope,
    gated_out: &[(usize, usize)],
) -> bool {
    catalog.rules[ri].matches.iter().enumerate().any(|(mi, m)| {
        !gated_out.contains(&(ri, mi))
            && applies_to(m, lang)
            && path_conditions(m, rel_path)
            && !(envelope.covers_vendor(&m.vendor) || envelope.approves(&m.provider))
    })
}

/// A match's languages include `lang` (a notebook is checked by the Python matches).
pub fn applies_to(m: &Match, lang: Lang) -> bool {
    m.languages.contains(&lang) || (lang == Lang::Notebook && m.languages.contains(&Lang::Python))
}

/// A match's `paths` admit `rel_path` and its `exclude-paths` do not.
fn path_conditions(m: &Match, rel_path: &str) -> bool {
    m.paths.as_ref().is_none_or(|p| p.is_match(rel_path))
        && !m
            .exclude_paths
            .as_ref()
            .is_some_and(|p| p.is_match(rel_path))
}

fn file_conditions(m: &Match, ctx: &FileCtx) -> bool {
    if !path_conditions(m, ctx.rel_path) {
        return false;
    }
    if !m.if_imports.is_empty()
        && !ctx
            .facts
            .imports
            .iter()
            .any(|i| m.if_imports.matches(&i.path))
    {
        return false;
    }
    if !m.if_calls.is_empty()
        && !ctx
            .facts
            .calls
            .iter()
            .any(|c| m.if_calls.matches(&c.qualified))
    {
        return false;
    }
    for (target, value) in &m.unless_assigned {
        let hit = ctx.facts.assigns.iter().any(|a| {
            target.matches(&a.target)
                && value_text(ctx.facts, &a.value, a.scope).is_some_and(|t| value.is_match(&t))
        });
        if hit {
            return false;
        }
    }
    if m.unless_text.as_ref().is_some_and(|r| r.is_match(ctx.text)) {
        return false;
    }
    if m.unless_project_sets.iter().any(|(v, re)| match re {
        None => ctx.project.env_set.contains(v),
        // Every place that sets it must agree: one `true` elsewhere keeps the finding.
        Some(re) => ctx
            .project
            .env_values
            .get(v)
            .is_some_and(|vals| !vals.is_empty() && vals.iter().all(|t| re.is_match(t.trim()))),
    }) {
        return false;
    }
    true
}

fn message(rule: &Rule, m: &Match, vars: &[(&str, &str)]) -> String {
    let mut s = m.message.clone().unwrap_or_else(|| rule.message.clone());
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    if let Some(p) = &m.provider {
        s = s.replace("{provider}", p);
    }
    if let Some(v) = &m.vendor {
        s = s.replace("{vendor}", v);
    }
    s
}

fn run_match(ri: usize, rule: &Rule, m: &Match, ctx: &FileCtx, hits: &mut Vec<Hit>) {
    match &m.matcher {
        Matcher::Call {
            callee,
            not_callee,
            receiver,
            when,
            unless,
            new,
            decorator,
            report,
        } => {
            for (ci, call) in ctx.facts.calls.iter().enumerate() {
                if !callee.matches(&call.qualified) && !callee.matches(&call.callee) {
                    continue;
                }
                if not_callee.matches(&call.qualified) || not_callee.matches(&call.callee) {
                    continue;
                }
                if new.is_some_and(|n| n != call.is_new)
                    || decorator.is_some_and(|d| d != call.decorator)
                {
                    continue;
                }
                if !receiver.is_empty() && !receiver_built_by(ctx.facts, ci, receiver) {
                    continue;
                }
                let mut report_span = None;
                let mut value_shown = String::new();
                let mut arg_name = String::new();
                let ok = when.iter().all(|c| match eval_cond(ctx, call, c) {
                    Some(sp) => {
                        if report_span.is_none() && !c.args.is_empty()
                            || report_span.is_none() && c.pos.is_some()
                        {
                            if let Some((span, shown)) = sp {
                                report_span = Some(span);
                                value_shown = shown;
                                arg_name = c.args.first().cloned().unwrap_or_default();
                            }
                        }
                        true
                    }
                    None => false,
                });
                if !ok || unless.iter().any(|c| eval_cond(ctx, call, c).is_some()) {
                    continue;
                }
                let span = match report {
                    Report::Call => call.span.clone(),
                    Report::Callee => call.callee_span.clone(),
                    Report::Arg => report_span
                        .clone()
                        .unwrap_or_else(|| call.callee_span.clone()),
                };
                let msg = message(
                    rule,
                    m,
                    &[
                        ("callee", &call.callee),
                        ("value", &value_shown),
                        ("arg", &arg_name),
                    ],
                );
                hits.push(Hit {
                    rule: ri,
                    span,
                    message: msg,
                    secret: None,
                });
            }
        }
        Matcher::Str {
            pattern,
            not,
            code,
            config,
            context,
            secret,
            entropy,
        } => {
            let is_code = ctx.lang.is_code();
            if (is_code && !code) || (!is_code && !config) {
                return;
            }
            let contexts = if context.is_some() {
                Some(bound_names(ctx.facts))
            } else {
                None
            };
            for s in &ctx.facts.strings {
                for caps in pattern.captures_iter(&s.value) {
                    let whole = caps.get(0).unwrap();
                    let hit = caps.name("hit").unwrap_or(whole);
                    let text = hit.as_str();
                    if not.iter().any(|r| r.is_match(text) || r.is_match(&s.value)) {
                        continue;
                    }
                    if ctx.envelope.allows_host(text) {
                        continue;
                    }
                    if let Some(min) = entropy {
                        if shannon(text) < *min {
                            continue;
                        }
                    }
                    let mut ctx_name = String::new();
                    if let (Some(re), Some(names)) = (context, &contexts) {
                        match name_for(names, &s.span) {
                            Some(n) if re.is_match(n) => ctx_name = n.to_string(),
                            _ => continue,
                        }
                    }
                    let span = if s.raw_is_value {
                        s.content_start + hit.start()..s.content_start + hit.end()
                    } else {
                        s.span.clone()
                    };
                    let shown = if *secret {
                        crate::diagnostic::redact(text)
                    } else {
                        text.to_string()
                    };
                    let msg = message(rule, m, &[("value", &shown), ("key", &ctx_name)]);
                    let secret_span = if *secret { Some(span.clone()) } else { None };
                    hits.push(Hit {
                        rule: ri,
                        span,
                        message: msg,
                        secret: secret_span,
                    });
                }
            }
        }
        Matcher::Config {
            key,
            value,
            not,
            unless_entry,
            objects,
        } => {
            let mut owned;
            let mut entries = &ctx.facts.config;
            if *objects {
                owned = ctx.facts.config.clone();
                object_entries(ctx.facts, &mut owned);
                entries = &owned;
            }
            if unless_entry.iter().any(|(k, v)| {
                entries.iter().any(|e| {
                    k.is_match(&e.key)
                        && value_text(ctx.facts, &e.value, 0).is_some_and(|t| v.is_match(&t))
                })
            }) {
                return;
            }
            for e in entries {
                if !key.is_match(&e.key) {
                    continue;
                }
                let text = value_text(ctx.facts, &e.value, 0).unwrap_or_default();
                if let Some(v) = value {
                    if !v.is_match(&text) {
                        continue;
                    }
                }
                if not.iter().any(|r| r.is_match(&text)) {
                    continue;
                }
                let span = if e.value_span.is_empty() {
                    e.key_span.clone()
                } else {
                    e.key_span.start.min(e.value_span.start)..e.value_span.end.max(e.key_span.end)
                };
                let msg = message(rule, m, &[("key", &e.key), ("value", &text)]);
                hits.push(Hit {
                    rule: ri,
                    span,
                    message: msg,
                    secret: None,
                });
            }
        }
        Matcher::Block {
            kinds,
            where_attr,
            unless_attr,
            attr,
        } => {
            for (bi, block) in ctx.facts.blocks.iter().enumerate() {
                if block.existing || !kinds.iter().any(|k| k.eq_ignore_ascii_case(&block.kind)) {
                    continue;
                }
                if !where_attr.iter().all(|a| attr_state(ctx, bi, a).is_some())
                    || unless_attr.iter().any(|a| attr_state(ctx, bi, a).is_some())
                {
                    continue;
                }
                if let Some((span, shown)) = attr_state(ctx, bi, attr) {
                    let span = span.unwrap_or_else(|| block.span.clone());
                    let msg = message(
                        rule,
                        m,
                        &[
                            ("value", &shown),
                            ("key", attr.keys.first().map(|s| s.as_str()).unwrap_or("")),
                            ("resource", &block.name),
                            ("kind", &block.kind),
                        ],
                    );
                    hits.push(Hit {
                        rule: ri,
                        span,
                        message: msg,
                        secret: None,
                    });
                }
            }
        }
        Matcher::Flow { sinks } => flow::run(ri, rule, m, sinks, ctx, hits),
        // Suppression findings come from `suppress::apply`.
        Matcher::Suppression => {}
    }
}

/// Flattens object literals assigned at module level (`exports.config = { a: { b: true } }`)
/// into entries keyed `exports.config.a.b`, for config matches that ask for them.
fn object_entries(facts: &Facts, out: &mut Vec<crate::facts::ConfigEntry>) {
    fn walk(prefix: &str, items: &[Arg], out: &mut Vec<crate::facts::ConfigEntry>, depth: usize) {
        if depth > 32 {
            return;
        }
        for a in items {
            let Some(name) = &a.name else { continue };
            let key = format!("{prefix}.{name}");
            match &a.value {
                Value::Object(inner) => walk(&key, inner, out, depth + 1),
                v => out.push(crate::facts::ConfigEntry {
                    key,
                    value: v.clone(),
                    key_span: a.span.clone(),
                    value_span: a.span.clone(),
                    block: None,
                }),
            }
        }
    }
    for a in facts.assigns.iter().filter(|a| a.scope == 0) {
        if let Value::Object(items) = &a.value {
            walk(&a.target, items, out, 0);
        }
    }
}

/// Whether the block attribute condition holds: `Some((span of the value, or None when the
/// attribute is absent), shown value)`.
fn attr_state(ctx: &FileCtx, block: usize, a: &AttrCond) -> Option<(Option<Span>, String)> {
    let entry =
        ctx.facts.config.iter().find(|e| {
            e.block == Some(block) && a.keys.iter().any(|k| k.eq_ignore_ascii_case(&e.key))
        });
    match entry {
        None => a.absent.then(|| (None, "absent".to_string())),
        Some(e) => {
            if let Some(bound) = bound_by_callers(ctx, &e.value) {
                // Judge what the callers pass; one unknown value means no verdict. Callers that
                // leave the parameter out get its default.
                let values: Option<Vec<String>> = bound.iter().cloned().collect();
                let mut values = values?;
                let callers = ctx
                    .abs_path
                    .and_then(|p| ctx.project.module_callers.get(p))
                    .copied()
                    .unwrap_or(0);
                if values.len() < callers {
                    values.push(value_text(ctx.facts, &e.value, 0)?);
                }
                let hit = values.iter().find(|t| {
                    a.values.iter().any(|r| r.is_match(t))
                        || (!a.not_values.is_empty() && !a.not_values.iter().any(|r| r.is_match(t)))
                })?;
                return Some((Some(e.value_span.clone()), hit.clone()));
            }
            let text = value_text(ctx.facts, &e.value, 0)?;
            // `not:` judges only what is known: a literal, directly or through assignments.
            let literal = matches!(resolve(ctx.facts, &e.value, 0, usize::MAX).0, Value::Str(_));
            let negated = literal
                && !a.not_values.is_empty()
                && !a.not_values.iter().any(|r| r.is_match(&text));
            (negated || a.values.iter().any(|r| r.is_match(&text)))
                .then(|| (Some(e.value_span.clone()), text))
        }
    }
}

/// When a block attribute is a module parameter (`disableLocalAuth: disableLocalAuth` with
/// `param disableLocalAuth bool = false`) and callers elsewhere in the project pass it, the
/// values they pass; `None` when nothing binds it (the default then applies).
fn bound_by_callers<'p>(ctx: &'p FileCtx, v: &Value) -> Option<&'p Vec<Option<String>>> {
    let Value::Ident(name) = v else { return None };
    let path = ctx.abs_path?;
    ctx.project
        .module_params
        .get(&(path.to_path_buf(), name.clone()))
}

/// The text of a value for regex matching: literals as is, env reads as `${NAME}`, names
/// resolved through assignments when possible.
pub fn value_text(facts: &Facts, v: &Value, scope: usize) -> Option<String> {
    let (v, _) = resolve(facts, v, scope, usize::MAX);
    Some(match v {
        Value::Str(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.clone(),
        Value::Null => "null".into(),
        Value::Env { name, fallback } => match fallback.as_deref() {
            Some(Value::Str(f)) => format!("${{{name}:-{f}}}"),
            _ => format!("${{{name}}}"),
        },
        Value::Ident(n) => n.clone(),
        Value::Template(parts) => parts
            .iter()
            .map(|p| match p {
                Part::Lit(s) => s.clone(),
                Part::Hole(_) => "{}".into(),
            })
            .collect(),
        _ => return None,
    })
}

/// Follows a name to the value last assigned to it before `before` (any earlier assignment
/// when none precedes), in its scope or an enclosing one, up to a few hops. Returns the value
/// and the span where it was written.
pub fn resolve<'f>(
    facts: &'f Facts,
    v: &'f Value,
    scope: usize,
    before: usize,
) -> (&'f Value, Option<Span>) {
    let mut cur = v;
    let mut span = None;
    let mut scope = scope;
    for _ in 0..8 {
        let Value::Ident(name) = cur else { break };
        match lookup(facts, name, scope, before) {
            Some(a) => {
                cur = &a.value;
                span = Some(a.span.clone());
                scope = a.scope;
            }
            None => break,
        }
    }
    (cur, span)
}

fn lookup<'f>(
    facts: &'f Facts,
    name: &str,
    scope: usize,
    before: usize,
) -> Option<&'f crate::facts::Assign> {
    let mut s = scope;
    let mut guard = 0;
    loop {
        let mut best: Option<&crate::facts::Assign> = None;
        let mut any: Option<&crate::facts::Assign> = None;
        let at = facts.index().assigns.get(&(s, name.to_string()));
        for a in at.into_iter().flatten().map(|&i| &facts.assigns[i]) {
            if a.span.start < before {
                best = Some(a);
            }
            any.get_or_insert(a);
        }
        // A parameter of this scope shadows outer names.
        let is_param = s != 0
            && facts
                .scopes
                .get(s)
                .is_some_and(|sc| sc.params.iter().any(|p| p == name));
        if let Some(a) = best.or(any) {
            if !(is_param && best.is_none()) {
                return Some(a);
            }
        }
        if is_param || s == 0 || guard > 64 {
            return None;
        }
        s = facts.scopes.get(s).map(|sc| sc.parent).unwrap_or(0);
        guard += 1;
    }
}

/// The argument a condition talks about: by name (also inside object-literal arguments and
/// dotted through nested objects) or by position.
pub fn find_arg<'c>(call: &'c Call, names: &[String], pos: Option<usize>) -> Option<&'c Arg> {
    for name in names {
        // Folded builder chains name further arguments `method.1` / `method.param`.
        if name.contains('.') {
            if let Some(a) = call.args.iter().find(|a| a.name.as_deref() == Some(name)) {
                return Some(a);
            }
        }
        let mut parts = name.split('.');
        let first = parts.next().unwrap_or("");
        let rest: Vec<&str> = parts.collect();
        let direct = call.args.iter().find(|a| a.name.as_deref() == Some(first));
        let found = direct.or_else(|| {
            call.args
                .iter()
                .filter(|a| a.name.is_none())
                .find_map(|a| match &a.value {
                    Value::Object(items) => items.iter().find(|i| i.name.as_deref() == Some(first)),
                    _ => None,
                })
        });
        if let Some(mut arg) = found {
            let mut ok = true;
            for seg in &rest {
                match &arg.value {
                    Value::Object(items) => {
                        match items.iter().find(|i| i.name.as_deref() == Some(*seg)) {
                            Some(next) => arg = next,
                            None => {
                                ok = false;
                                break;
                            }
                        }
                    }
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                return Some(arg);
            }
        }
    }
    if let Some(p) = pos {
        return call.args.iter().filter(|a| a.name.is_none()).nth(p);
    }
    None
}

/// A named argument held by an options object passed positionally: a name bound to an object
/// literal (`new AzureOpenAI(options)`) or a constructed options object
/// (`new AzureOpenAIClientOptions { ServiceVersion = ... }`).
fn find_arg_indirect(ctx: &FileCtx, call: &Call, names: &[String]) -> Option<Arg> {
    if names.is_empty() {
        return None;
    }
    for a in call.args.iter().filter(|a| a.name.is_none()) {
        let (v, _) = resolve(ctx.facts, &a.value, call.scope, call.span.start);
        let holder = match v {
            Value::Object(items) => Call {
                args: vec![Arg {
                    name: None,
                    value: Value::Object(items.clone()),
                    span: a.span.clone(),
                }],
                ..call.clone()
            },
            Value::Call(j) => match ctx.facts.calls.get(*j) {
                Some(inner) if inner.is_new => inner.clone(),
                _ => continue,
            },
            _ => continue,
        };
        if let Some(found) = find_arg(&holder, names, None) {
            return Some(found.clone());
        }
    }
    None
}

/// A dotted argument whose first part is bound to a name: `invoke(state, config=config)` with
/// `config = {"callbacks": [...]}` answers `config.callbacks`.
fn find_arg_through_names(ctx: &FileCtx, call: &Call, names: &[String]) -> Option<Arg> {
    for name in names {
        let Some((first, rest)) = name.split_once('.') else {
            continue;
        };
        let Some(arg) = call.args.iter().find(|a| a.name.as_deref() == Some(first)) else {
            continue;
        };
        let (mut v, _) = resolve(ctx.facts, &arg.value, call.scope, call.span.start);
        let mut found: Option<&Arg> = None;
        for seg in rest.split('.') {
            let Value::Object(items) = v else {
                found = None;
                break;
            };
            match items.iter().find(|i| i.name.as_deref() == Some(seg)) {
                Some(next) => {
                    found = Some(next);
                    v = &next.value;
                }
                None => {
                    found = None;
                    break;
                }
            }
        }
        if let Some(f) = found {
            return Some(f.clone());
        }
    }
    None
}

/// Evaluates one condition. `None`: it does not hold. `Some(Some((span, shown)))`: it holds on
/// a value at `span`. `Some(None)`: it holds without a value (absent).
fn eval_cond(ctx: &FileCtx, call: &Call, c: &Cond) -> Option<Option<(Span, String)>> {
    let indirect;
    let arg = match find_arg(call, &c.args, c.pos) {
        Some(a) => Some(a),
        None => {
            indirect = find_arg_indirect(ctx, call, &c.args)
                .or_else(|| find_arg_through_names(ctx, call, &c.args));
            indirect.as_ref()
        }
    };
    for is in &c.is {
        match (is, arg) {
            (Is::Absent, None) if spread_may_hold(ctx, call, &c.args, c.pos) => continue,
            (Is::Absent, None) => return Some(None),
            (Is::Absent, Some(_)) => continue,
            (_, None) => continue,
            (is, Some(a)) => {
                if let Some(r) = value_is(ctx, &a.value, &a.span, call.scope, call.span.start, is) {
                    return Some(Some(r));
                }
            }
        }
    }
    None
}

/// Whether an argument that was not found may still be passed through a spread whose keys
/// are unknown (`AzureOpenAI(**kwargs)`, `new AzureOpenAI({ ...options })`, `f(*args)`): then
/// its absence cannot be told. A spread of a name bound to a literal is looked into.
fn spread_may_hold(ctx: &FileCtx, call: &Call, names: &[String], pos: Option<usize>) -> bool {
    let is_spread = |a: &Arg| {
        a.name.is_none()
            && ctx
                .text
                .get(a.span.clone())
                .is_some_and(|t| t.starts_with('*') || t.starts_with("..."))
    };
    let nested = call.args.iter().filter(|a| a.name.is_none());
    let nested = nested.flat_map(|a| match &a.value {
        Value::Object(items) => items.iter().collect::<Vec<_>>(),
        _ => Vec::new(),
    });
    let spreads: Vec<&Arg> = call
        .args
        .iter()
        .chain(nested)
        .filter(|a| is_spread(a))
        .collect();
    spreads.iter().any(|a| {
        let mut refs = Vec::new();
        a.value.refs(&mut refs, &ctx.facts.calls);
        if refs.is_empty() {
            // A spread of a literal: its entries were read as arguments already.
            return false;
        }
        refs.iter().any(|r| {
            let name = Value::Ident(r.clone());
            let (v, _) = resolve(ctx.facts, &name, call.scope, call.span.start);
            match v {
                Value::Object(items) => items
                    .iter()
                    .any(|i| i.name.as_ref().is_some_and(|n| names.contains(n)) || is_spread(i)),
                Value::Array(_) => pos.is_some(),
                _ => true,
            }
        })
    })
}

/// Whether a value satisfies an `is` atom; the span and text to report when it does.
fn value_is(
    ctx: &FileCtx,
    v: &Value,
    span: &Span,
    scope: usize,
    before: usize,
    is: &Is,
) -> Option<(Span, String)> {
    let (rv, origin) = resolve(ctx.facts, v, scope, before);
    // A value is reported where it was set (a literal bound to a constant); presence is about
    // the argument, so it is reported where the argument is written.
    let at = match is {
        Is::Present => span.clone(),
        _ => origin.clone().unwrap_or_else(|| span.clone()),
    };
    let shown = value_text(ctx.facts, rv, scope).unwrap_or_default();
    let yes = match is {
        Is::Absent => false,
        Is::Present => true,
        Is::Literal => matches!(rv, Value::Str(s) if !s.trim().is_empty()),
        Is::Env(re) => match rv {
            Value::Env { name, .. } => re.as_ref().is_none_or(|r| r.is_match(name)),
            _ => false,
        },
        Is::True => {
            matches!(rv, Value::Bool(true))
                || matches!(rv, Value::Str(s) if s.eq_ignore_ascii_case("true"))
        }
        Is::False => {
            matches!(rv, Value::Bool(false))
                || matches!(rv, Value::Str(s) if s.eq_ignore_ascii_case("false"))
        }
        Is::Unresolved => matches!(rv, Value::Ident(_) | Value::Other(_) | Value::Call(_)),
        Is::CallTo(g) => match rv {
            Value::Call(j) => ctx
                .facts
                .calls
                .get(*j)
                .is_some_and(|c| g.matches(&c.qualified) || g.matches(&c.callee)),
            _ => false,
        },
        Is::Class(name) => ctx
            .knowledge
            .classes
            .get(name)
            .is_some_and(|c| in_class(ctx, rv, scope, before, c, 0)),
    };
    yes.then_some((at, shown))
}

fn in_class(
    ctx: &FileCtx,
    v: &Value,
    scope: usize,
    before: usize,
    c: &crate::rule::Class,
    depth: usize,
) -> bool {
    if depth > 6 {
        return false;
    }
    let (v, _) = resolve(ctx.facts, v, scope, before);
    let str_ok = |s: &str| c.string.as_ref().is_some_and(|r| r.is_match(s));
    match v {
        Value::Str(s) => str_ok(s),
        Value::Env { name, fallback } => {
            c.env.as_ref().is_some_and(|r| r.is_match(name))
                || fallback
                    .as_deref()
                    .is_some_and(|f| in_class(ctx, f, scope, before, c, depth + 1))
        }
        Value::Template(parts) => parts.iter().any(|p| match p {
            Part::Lit(s) => str_ok(s),
            Part::Hole(h) => in_class(ctx, h, scope, before, c, depth + 1),
        }),
        Value::Ident(n) => c.ident.as_ref().is_some_and(|r| r.is_match(n)),
        Value::Array(items) => items
            .iter()
            .any(|i| in_class(ctx, i, scope, before, c, depth + 1)),
        Value::Other(names) => c
            .ident
            .as_ref()
            .is_some_and(|r| names.iter().any(|n| r.is_match(n))),
        Value::Call(i) => {
            // A call that merely wraps one value (`str(x)`, `new Uri(x)`, `url.format(x)`)
            // keeps its argument's class.
            ctx.facts.calls.get(*i).is_some_and(|call| {
                call.args
                    .iter()
                    .any(|a| in_class(ctx, &a.value, scope, before, c, depth + 1))
            })
        }
        _ => false,
    }
}

/// Whether the receiver of call `ci` (the callee's root name, or `self.x`) holds an object
/// built by a call matching `glob`.
pub fn receiver_built_by(facts: &Facts, ci: usize, glob: &crate::rule::Glob) -> bool {
    let call = &facts.calls[ci];
    // Inline: AzureOpenAI(...).chat.completions.create(...)
    let index = facts.index();
    if index
        .chained_into
        .get(&ci)
        .into_iter()
        .flatten()
        .any(|&c| glob.matches(&facts.calls[c].qualified))
    {
        return true;
    }
    let callee = &call.callee;
    // `az("deployment")` where `az = createAzure(...)`: the callee itself is the object.
    let object = match callee.rfind('.') {
        Some(dot) => &callee[..dot],
        None => callee.as_str(),
    };
    let mut names = vec![object.to_string()];
    // `self.client.chat.completions.create`: try each prefix (`self.client`, `client`, ...).
    let segs: Vec<&str> = object.split('.').collect();
    for n in 1..segs.len() {
        names.push(segs[..n].join("."));
    }
    let root = root_of(callee);
    names.push(root.to_string());
    if param_built_by(facts, call.scope, root, glob, 0) {
        return true;
    }
    for name in names {
        let mut seen = 0;
        let mut cur = Value::Ident(name.clone());
        let mut scope = call.scope;
        loop {
            let (v, _) = resolve(facts, &cur, scope, call.span.start);
            match v {
                Value::Call(j) => {
                    let built = &facts.calls[*j];
                    if glob.matches(&built.qualified) {
                        return true;
                    }
                    break;
                }
                Value::Ident(n) if seen < 4 && *n != name => {
                    cur = Value::Ident(n.clone());
                    scope = 0;
                    seen += 1;
                }
                _ => break,
            }
        }
        // Attribute set anywhere in the file (`self.client = AzureOpenAI(...)` in `__init__`).
        if name.contains('.') {
            for a in facts.assigns.iter().filter(|a| a.target == name) {
                if let Value::Call(j) = &a.value {
                    if glob.matches(&facts.calls[*j].qualified) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// Whether `name`, a parameter of scope `scope`, receives an object built by a call matching
/// `glob` at some call site of that function in the same file (`def ask(client): ...` called as
/// `ask(AzureOpenAI(...))` or with a name bound to one).
fn param_built_by(
    facts: &Facts,
    scope: usize,
    name: &str,
    glob: &crate::rule::Glob,
    depth: usize,
) -> bool {
    if scope == 0 || depth > 3 {
        return false;
    }
    let Some(sc) = facts.scopes.get(scope) else {
        return false;
    };
    let params: Vec<&String> = sc
        .params
        .iter()
        .filter(|p| *p != "self" && *p != "cls")
        .collect();
    let Some(k) = params.iter().position(|p| *p == name) else {
        return false;
    };
    let sites = facts.index().calls_by_name.get(sc.name.as_str());
    for site in sites.into_iter().flatten().map(|&i| &facts.calls[i]) {
        let arg = site
            .args
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .or_else(|| site.args.iter().filter(|a| a.name.is_none()).nth(k));
        let Some(arg) = arg else { continue };
        let (v, _) = resolve(facts, &arg.value, site.scope, site.span.start);
        match v {
            Value::Call(j) if glob.matches(&facts.calls[*j].qualified) => return true,
            Value::Ident(n) if param_built_by(facts, site.scope, root_of(n), glob, depth + 1) => {
                return true
            }
            _ => {}
        }
    }
    false
}

/// (start, end, name) of every value bound to a name: assignment targets, argument names,
/// config keys; innermost first when searched by [`name_for`].
fn bound_names(facts: &Facts) -> Vec<(usize, usize, String)> {
    let mut v: Vec<(usize, usize, String)> = Vec::new();
    for a in &facts.assigns {
        v.push((a.span.start, a.span.end, a.target.clone()));
        nested_names(&a.value, &a.target, &mut v, 0);
    }
    for c in &facts.calls {
        for a in &c.args {
            let name = match &a.name {
                Some(n) => format!("{}.{}", c.callee, n),
                None => c.callee.clone(),
            };
            v.push((a.span.start, a.span.end, name.clone()));
            // A positional object literal is a bag of named arguments: its keys bind to the callee.
            let parent = if a.name.is_none() { &c.callee } else { &name };
            nested_names(&a.value, parent, &mut v, 0);
        }
    }
    for e in &facts.config {
        v.push((e.value_span.start, e.value_span.end, e.key.clone()));
    }
    v
}

/// Names for the entries of object literals nested in a bound value: `parent.key`, list
/// elements transparent (`messages=[{"content": [{"type": ...}]}]` binds
/// `create.messages.content.type`).
fn nested_names(value: &Value, parent: &str, out: &mut Vec<(usize, usize, String)>, depth: usize) {
    if depth > 32 {
        return;
    }
    match value {
        Value::Object(items) => {
            for i in items {
                match &i.name {
                    Some(n) => {
                        let name = format!("{parent}.{n}");
                        out.push((i.span.start, i.span.end, name.clone()));
                        nested_names(&i.value, &name, out, depth + 1);
                    }
                    None => nested_names(&i.value, parent, out, depth + 1),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                nested_names(item, parent, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn name_for<'n>(names: &'n [(usize, usize, String)], span: &Span) -> Option<&'n str> {
    names
        .iter()
        .filter(|(s, e, _)| *s <= span.start && span.end <= *e + 1)
        .min_by_key(|(s, e, _)| e - s)
        .map(|(_, _, n)| n.as_str())
}

/// Shannon entropy in bits per character.
pub fn shannon(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let n = s.chars().count() as f64;
    if n == 0.0 {
        return 0.0;
    }
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Compiles a regex that is known to be valid (used for built-in constants).
pub fn re(s: &str) -> Regex {
    Regex::new(s).expect("valid built-in regex")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{compile, Catalog};

    const HEAD: &str = "id = \"TST001\"\nname = \"t\"\nseverity = \"warning\"\nsummary = \"s\"\nlanguages = [\"hcl\", \"env\"]\nkeywords = [\"x\"]\nmessage = \"m\"\nhelp = \"h\"\n[docs]\nwhat = \"\"\nwhy = \"\"\nsafeguard = \"\"\nbad = \"\"\ngood = \"\"\n";

    fn catalog(matches: &str) -> Catalog {
        let knowledge = Knowledge::default();
        let rule = compile("t.toml", &format!("{HEAD}{matches}"), &knowledge, true).unwrap();
        Catalog {
            rules: vec![rule],
            knowledge,
        }
    }

    fn lines(cat: &Catalog, lang: Lang, text: &str, project: &Project) -> Vec<usize> {
        let facts = crate::lang::extract(lang, text);
        let envelope = Envelope::default();
        let ctx = FileCtx {
            abs_path: None,
            path: None,
            check_provider_code: &[],
            rel_path: "main.tf",
            lang,
            text,
            facts: &facts,
            project,
            envelope: &envelope,
            knowledge: &cat.knowledge,
            gated_out: &[],
            analysis: None,
        };
        check(cat, &[0], &ctx)
            .iter()
            .map(|h| text[..h.span.start].lines().count().max(1))
            .collect()
    }

    #[test]
    fn unless_attr_spares_the_block_and_not_atoms_judge_literals_only() {
        let cat = catalog(
            "[[match]]\nkind = \"block\"\nblock = [\"svc\"]\nattr = { key = [\"location\"], is = ['not:^(eastus|westus)$'] }\nunless-attr = [{ key = [\"acl.mode\"], is = [\"Deny\"] }]\n",
        );
        let tf = r#"variable "loc" {
  default = "westeurope"
}
resource "svc" "a" {
  location = var.loc
}
resource "svc" "b" {
  location = "eastus"
}
resource "svc" "c" {
  location = azurerm_resource_group.rg.location
}
resource "svc" "d" {
  location = "uksouth"
  acl {
    mode = "Deny"
  }
}
"#;
        assert_eq!(lines(&cat, Lang::Hcl, tf, &Project::default()), vec![5]);
    }

    #[test]
    fn config_objects_flatten_module_level_literals() {
        let head = HEAD.replace("[\"hcl\", \"env\"]", "[\"javascript\"]");
        let m = "[[match]]\nkind = \"config\"\nobjects = true\nkey = '(^|\\.)mon\\.enabled$'\nvalue = 'true'\nunless-entry = [{ key = 'mon\\.content$', value = 'false' }]\n";
        let knowledge = Knowledge::default();
        let rule = compile("t.toml", &format!("{head}{m}"), &knowledge, true).unwrap();
        let cat = Catalog {
            rules: vec![rule],
            knowledge,
        };
        let on = "exports.config = {\n  name: 'x',\n  mon: {\n    enabled: true\n  }\n}\nfunction f() { const local = { mon: { enabled: true } } }\n";
        assert_eq!(
            lines(&cat, Lang::JavaScript, on, &Project::default()),
            vec![4]
        );
        let off = "exports.config = { mon: { enabled: true, content: false } }\n";
        assert!(lines(&cat, Lang::JavaScript, off, &Project::default()).is_empty());
    }

    #[test]
    fn config_not_pattern_and_project_values() {
        let cat = catalog(
            "[[match]]\nkind = \"config\"\nkey = '^REGION$'\nnot-pattern = ['^us']\nunless-project-sets = [\"MODE=off|false\"]\n",
        );
        let env = "REGION=eu-west\n# skipped\nREGION=us-east\n";
        assert_eq!(lines(&cat, Lang::Env, env, &Project::default()), vec![1]);
        let mut project = Project::default();
        project.env_set.insert("MODE".into());
        project
            .env_values
            .insert("MODE".into(), vec!["False".into()]);
        assert!(lines(&cat, Lang::Env, env, &project).is_empty());
        // One file that sets it to something else keeps the finding.
        project
            .env_values
            .get_mut("MODE")
            .unwrap()
            .push("on".into());
        assert_eq!(lines(&cat, Lang::Env, env, &project), vec![1]);
    }

    use crate::facts::Arg;

    fn arg(name: Option<&str>, value: Value, span: Span) -> Arg {
        Arg {
            name: name.map(str::to_string),
            value,
            span,
        }
    }

    #[test]
    fn nested_object_entries_bind_their_key_path() {
        // create(messages=[{"content": [{"type": "image_url"}]}]) with made-up spans.
        let part = Value::Object(vec![arg(
            Some("type"),
            Value::Str("image_url".into()),
            40..51,
        )]);
        let msg = Value::Object(vec![arg(Some("content"), Value::Array(vec![part]), 30..60)]);
        let mut f = Facts::new();
        f.calls.push(Call {
            callee: "client.create".into(),
            qualified: "client.create".into(),
            is_new: false,
            args: vec![arg(Some("messages"), Value::Array(vec![msg]), 20..70)],
            span: 0..71,
            callee_span: 0..13,
            scope: 0,
            chained_into: None,
            decorator: false,
        });
        let names = bound_names(&f);
        assert_eq!(
            name_for(&names, &(41..50)),
            Some("client.create.messages.content.type")
        );
        assert_eq!(
            name_for(&names, &(31..35)),
            Some("client.create.messages.content")
        );
    }

    #[test]
    fn dotted_names_find_folded_chain_arguments_and_object_members() {
        let call = Call {
            callee: "Kernel.CreateBuilder".into(),
            qualified: "Kernel.CreateBuilder".into(),
            is_new: false,
            args: vec![
                arg(
                    Some("AddAzureOpenAIChatCompletion"),
                    Value::Str("dep".into()),
                    0..0,
                ),
                arg(
                    Some("AddAzureOpenAIChatCompletion.apiVersion"),
                    Value::Str("2024-10-21".into()),
                    0..0,
                ),
                arg(
                    None,
                    Value::Object(vec![arg(
                        Some("configuration"),
                        Value::Object(vec![arg(Some("baseURL"), Value::Null, 0..0)]),
                        0..0,
                    )]),
                    0..0,
                ),
            ],
            span: 0..0,
            callee_span: 0..0,
            scope: 0,
            chained_into: None,
            decorator: false,
        };
        let found = |n: &str| find_arg(&call, &[n.to_string()], None).map(|a| a.value.clone());
        assert_eq!(
            found("AddAzureOpenAIChatCompletion.apiVersion"),
            Some(Value::Str("2024-10-21".into()))
        );
        assert_eq!(found("configuration.baseURL"), Some(Value::Null));
        assert_eq!(found("AddAzureOpenAIChatCompletion.1"), None);
    }

    #[test]
    fn a_rule_whose_matches_for_the_language_are_gated_out_may_not_report() {
        let cat = crate::rule::builtin().unwrap();
        let ri = cat
            .rules
            .iter()
            .position(|r| r.info.id == "PHI201")
            .unwrap();
        let envelope = Envelope::default();
        let may = |gated_out: &[(usize, usize)]| {
            may_report(&cat, ri, Lang::Python, "app.py", &envelope, gated_out)
        };
        let matches = &cat.rules[ri].matches;
        let of = |python: bool| -> Vec<(usize, usize)> {
            (0..matches.len())
                .filter(|&m| applies_to(&matches[m], Lang::Python) == python)
                .map(|m| (ri, m))
                .collect()
        };
        let (python, other) = (of(true), of(false));
        assert!(!python.is_empty() && !other.is_empty());
        assert!(may(&[]));
        // Its JavaScript matches' gates hold (`azure` of `@ai-sdk/azure.azure`), its Python
        // ones fail: nothing can report on a Python file.
        assert!(may(&other));
        assert!(!may(&python));
        assert!(may(&python[1..]));
    }
}
