//! Configuration files: `phi-lint.toml`, `.phi-lint.toml` or `[tool.phi-lint]` in
//! `pyproject.toml`.
//!
//! The closest config file to each checked file applies (monorepos); `extend = "<path>"`
//! inherits from another file. Every error (unknown key, wrong type, bad glob, unknown rule,
//! bad severity, missing extend file) is a [`ConfigError`] pointing at the span in the file.
//! [`resolve`] turns a loaded chain plus the CLI overrides into [`Settings`].

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::diagnostic::Severity;
use crate::rule::{self, Catalog};
use crate::settings::{selects, PathGlob, PerFileIgnore, Settings};
use crate::suppress::did_you_mean;

/// The config file names, in order of precedence within one folder.
pub const FILE_NAMES: &[&str] = &[".phi-lint.toml", "phi-lint.toml", "pyproject.toml"];

/// A config error, with the file text and the span to point at.
#[derive(Clone, Debug)]
pub struct ConfigError {
    pub path: String,
    pub text: String,
    pub span: Option<Range<usize>>,
    pub message: String,
    pub help: Option<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl ConfigError {
    fn at(file: &ConfigFile, span: Option<Range<usize>>, message: String) -> ConfigError {
        ConfigError {
            path: file.display.clone(),
            text: file.text.clone(),
            span,
            message,
            help: None,
        }
    }

    fn help(mut self, h: Option<String>) -> ConfigError {
        self.help = h;
        self
    }

    /// Renders the error as a miette diagnostic (no colour) pointing into the file.
    pub fn render(&self) -> String {
        use miette::{
            GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource,
            Report,
        };
        let mut d = MietteDiagnostic::new(self.message.clone()).with_code("phi-lint::config");
        if let Some(span) = &self.span {
            d = d.with_label(LabeledSpan::at(span.clone(), "here"));
        }
        if let Some(h) = &self.help {
            d = d.with_help(h.clone());
        }
        let report =
            Report::new(d).with_source_code(NamedSource::new(&self.path, self.text.clone()));
        let mut out = String::new();
        let handler =
            GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
        if handler.render_report(&mut out, report.as_ref()).is_err() {
            out = self.to_string();
        }
        out
    }
}

/// The `[envelope]` table: what the organisation's contracts (BAAs) cover.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EnvelopeSpec {
    pub covered_vendors: Option<Vec<String>>,
    pub allowed_hosts: Option<Vec<String>>,
    pub approved_providers: Option<Vec<String>>,
    pub approved_api_versions: Option<Vec<String>>,
    pub allowed_regions: Option<Vec<String>>,
}

/// One config file's keys, exactly as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigSpec {
    pub extend: Option<Spanned<String>>,
    pub select: Option<Vec<Spanned<String>>>,
    pub extend_select: Option<Vec<Spanned<String>>>,
    pub ignore: Option<Vec<Spanned<String>>>,
    pub severity: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    pub per_file_ignores: Option<BTreeMap<Spanned<String>, Vec<Spanned<String>>>>,
    pub exclude: Option<Vec<Spanned<String>>>,
    pub extend_exclude: Option<Vec<Spanned<String>>>,
    pub max_filesize: Option<u64>,
    pub require_suppression_reason: Option<bool>,
    pub rules_dirs: Option<Vec<Spanned<String>>>,
    pub check_provider_code: Option<Vec<Spanned<String>>>,
    pub envelope: Option<EnvelopeSpec>,
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<PyTool>,
}

#[derive(Deserialize)]
struct PyTool {
    #[serde(rename = "phi-lint")]
    phi_lint: Option<ConfigSpec>,
}

/// A loaded config file and the chain it extends.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// The path as shown in messages.
    pub display: String,
    pub text: String,
    pub spec: ConfigSpec,
    pub parent: Option<Box<ConfigFile>>,
}

impl ConfigFile {
    /// The folder relative paths in this file are resolved against.
    pub fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }
}

/// Lexically normalises an absolute path (`.` and `..` removed), without touching the disk.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Absolute, normalised form of `p` relative to `cwd`.
pub fn absolute(p: &Path, cwd: &Path) -> PathBuf {
    normalize(&cwd.join(p))
}

fn pyproject_has_section(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().starts_with("[tool.phi-lint"))
}

/// Loads a config file and everything it extends.
pub fn load(path: &Path, cwd: &Path) -> Result<ConfigFile, ConfigError> {
    load_chain(&absolute(path, cwd), cwd, &mut Vec::new())
}

fn load_chain(
    path: &Path,
    cwd: &Path,
    stack: &mut Vec<PathBuf>,
) -> Result<ConfigFile, ConfigError> {
    let display = crate::check::display_path(path, cwd);
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: display.clone(),
        text: String::new(),
        span: None,
        message: format!("cannot read config file: {e}"),
        help: None,
    })?;
    let terr = |e: toml::de::Error| ConfigError {
        path: display.clone(),
        text: text.clone(),
        span: e.span(),
        message: e.message().trim().to_string(),
        help: None,
    };
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let spec = if is_pyproject {
        let p: Pyproject = toml::from_str(&text).map_err(terr)?;
        p.tool.and_then(|t| t.phi_lint).unwrap_or_default()
    } else {
        toml::from_str(&text).map_err(terr)?
    };
    let mut file = ConfigFile {
        path: path.to_path_buf(),
        display,
        text,
        spec,
        parent: None,
    };
    if let Some(ext) = file.spec.extend.clone() {
        let target = normalize(&file.dir().join(ext.get_ref()));
        if stack.contains(&target) || target == file.path {
            return Err(ConfigError::at(
                &file,
                Some(ext.span()),
                format!("`extend` forms a cycle through {}", target.display()),
            ));
        }
        if !target.is_file() {
            return Err(ConfigError::at(
                &file,
                Some(ext.span()),
                format!("`extend`: config file `{}` does not exist", ext.get_ref()),
            ));
        }
        stack.push(file.path.clone());
        let parent = load_chain(&target, cwd, stack)?;
        stack.pop();
        file.parent = Some(Box::new(parent));
    }
    Ok(file)
}

/// Finds the config file governing files in a folder (the closest one upwards), with a cache.
#[derive(Default)]
pub struct Discovery {
    cache: HashMap<PathBuf, Option<PathBuf>>,
    /// Folders already looked in ([`Discovery::probe`]): the config file each holds itself.
    local: HashMap<PathBuf, Option<PathBuf>>,
}

/// The config file a folder holds itself, of [`FILE_NAMES`] in order (a `pyproject.toml`
/// counts only with a `[tool.phi-lint]` section).
fn own_config(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES.iter().map(|name| dir.join(name)).find(|p| {
        p.is_file()
            && (!p.ends_with("pyproject.toml")
                || std::fs::read_to_string(p).is_ok_and(|t| pyproject_has_section(&t)))
    })
}

impl Discovery {
    /// Looks in each of `dirs` (absolute) for a config file on `threads` threads: three
    /// failing lookups per folder, 19k for the sparse benchmark tree's 6.3k folders, took
    /// 50 ms one after another before any file was read.
    pub fn probe(&mut self, dirs: &[&Path], threads: usize) {
        let chunk = dirs.len().div_ceil(threads.clamp(1, 64)).max(256);
        if dirs.len() <= chunk {
            // A few folders (a commit hook's files): not worth a thread.
            for d in dirs {
                self.local.insert(d.to_path_buf(), own_config(d));
            }
            return;
        }
        let found: Vec<Vec<Option<PathBuf>>> = std::thread::scope(|s| {
            let parts: Vec<_> = dirs
                .chunks(chunk)
                .map(|part| s.spawn(move || part.iter().map(|d| own_config(d)).collect()))
                .collect();
            parts
                .into_iter()
                .map(|p| p.join().unwrap_or_default())
                .collect()
        });
        for (part, found) in dirs.chunks(chunk).zip(found) {
            // A thread that failed left its folders to be looked in again when asked.
            for (d, c) in part.iter().zip(found) {
                self.local.insert(d.to_path_buf(), c);
            }
        }
    }

    /// The config file for a folder (absolute).
    pub fn for_dir(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(c) = self.cache.get(dir) {
            return c.clone();
        }
        let mut found = match self.local.get(dir) {
            Some(c) => c.clone(),
            None => own_config(dir),
        };
        if found.is_none() {
            if let Some(parent) = dir.parent() {
                found = self.for_dir(parent);
            }
        }
        self.cache.insert(dir.to_path_buf(), found.clone());
        found
    }

    /// The config file for a file or folder (absolute).
    pub fn for_path(&mut self, path: &Path) -> Option<PathBuf> {
        if path.is_dir() {
            self.for_dir(path)
        } else {
            self.for_dir(path.parent().unwrap_or(Path::new("/")))
        }
    }
}

/// The chain from the root-most extended file to `file`.
fn chain(file: &ConfigFile) -> Vec<&ConfigFile> {
    let mut v = vec![file];
    let mut cur = file;
    while let Some(p) = &cur.parent {
        v.push(p);
        cur = p;
    }
    v.reverse();
    v
}

/// Every `rules-dirs` folder of a config chain (absolute), checked to exist.
pub fn rules_dirs(file: &ConfigFile) -> Result<Vec<PathBuf>, ConfigError> {
    let mut out: Vec<PathBuf> = Vec::new();
    for f in chain(file) {
        if let Some(dirs) = &f.spec.rules_dirs {
            out.clear();
            for d in dirs {
                let p = normalize(&f.dir().join(d.get_ref()));
                if !p.is_dir() {
                    return Err(ConfigError::at(
                        f,
                        Some(d.span()),
                        format!("`rules-dirs`: folder `{}` does not exist", d.get_ref()),
                    ));
                }
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// Loads every `*.toml` rule file under `dir` into the catalogue as custom rules.
pub fn load_custom_rules(
    catalog: &mut Catalog,
    dir: &Path,
    cwd: &Path,
) -> Result<(), rule::LoadError> {
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .git_ignore(false)
        .ignore(false)
        .parents(false)
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        // Fixtures of custom rules may live beside them; they are not rules.
        .filter(|p| !p.strip_prefix(dir).is_ok_and(|r| r.starts_with("fixtures")))
        .collect();
    files.sort();
    for f in files {
        let abs = absolute(&f, cwd);
        let shown = crate::check::display_path(&abs, cwd);
        let text = std::fs::read_to_string(&f).map_err(|e| rule::LoadError {
            path: shown.clone(),
            text: String::new(),
            span: None,
            message: format!("cannot read rule file: {e}"),
        })?;
        let mut r = rule::compile(&shown, &text, &catalog.knowledge, true)?;
        r.source = abs.to_string_lossy().into_owned();
        if catalog.rules.iter().any(|x| x.source == r.source) {
            continue;
        }
        catalog.add(r).map_err(|mut e| {
            e.path = shown.clone();
            e.text = text.clone();
            e.span = text.find("id").map(|i| i..i + 2);
            e
        })?;
    }
    Ok(())
}

/// Selection and limits given on the command line (they win over config files).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub select: Vec<String>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    pub max_filesize: Option<u64>,
    pub include_vendored: bool,
}

fn check_selector(
    catalog: &Catalog,
    f: &ConfigFile,
    key: &str,
    s: &Spanned<String>,
) -> Result<(), ConfigError> {
    let sel = s.get_ref();
    if catalog
        .rules
        .iter()
        .any(|r| selects(sel, &r.info.id, &r.info.name))
    {
        return Ok(());
    }
    Err(
        ConfigError::at(f, Some(s.span()), format!("`{key}`: unknown rule `{sel}`")).help(
            did_you_mean(catalog, sel)
                .map(|m| format!("did you mean `{m}`?"))
                .or_else(|| Some("`phi-lint rules` lists the rules".into())),
        ),
    )
}

fn compile_glob(f: &ConfigFile, key: &str, s: &Spanned<String>) -> Result<PathGlob, ConfigError> {
    let g = globset::GlobBuilder::new(s.get_ref())
        .literal_separator(false)
        .build()
        .map_err(|e| {
            ConfigError::at(
                f,
                Some(s.span()),
                format!("`{key}`: invalid glob `{}`: {}", s.get_ref(), e.kind()),
            )
        })?;
    Ok(PathGlob {
        base: f.dir(),
        pattern: s.get_ref().clone(),
        matcher: g.compile_matcher(),
    })
}

fn ids_for(catalog: &Catalog, sel: &str) -> Vec<String> {
    catalog
        .rules
        .iter()
        .filter(|r| selects(sel, &r.info.id, &r.info.name))
        .map(|r| r.info.id.clone())
        .collect()
}

/// Resolves settings from an optional config chain and the CLI overrides, validating rule
/// names against the catalogue.
pub fn resolve(
    file: Option<&ConfigFile>,
    catalog: &Catalog,
    cli: &Overrides,
) -> Result<Settings, ConfigError> {
    let mut s = Settings::default();
    // The default envelope is empty: the rules themselves treat Azure OpenAI as the covered path
    // (their knowledge of Azure hosts and clients lives in the rule files), so nothing else is
    // covered until the organisation lists it.
    if let Some(file) = file {
        s.config_path = Some(file.path.clone());
        s.rules_dirs = rules_dirs(file)?;
        for f in chain(file) {
            let sp = &f.spec;
            let sel =
                |key: &str, v: &Option<Vec<Spanned<String>>>| -> Result<Vec<String>, ConfigError> {
                    let mut out = Vec::new();
                    for x in v.iter().flatten() {
                        check_selector(catalog, f, key, x)?;
                        out.push(x.get_ref().clone());
                    }
                    Ok(out)
                };
            if sp.select.is_some() {
                s.select = sel("select", &sp.select)?;
                s.extend_select.clear();
            }
            s.extend_select
                .extend(sel("extend-select", &sp.extend_select)?);
            s.ignore.extend(sel("ignore", &sp.ignore)?);
            for (k, v) in sp.severity.iter().flatten() {
                check_selector(catalog, f, "severity", k)?;
                let sev = Severity::parse(v.get_ref()).ok_or_else(|| {
                    ConfigError::at(
                        f,
                        Some(v.span()),
                        format!("unknown severity `{}`", v.get_ref()),
                    )
                    .help(Some("use \"error\", \"warning\" or \"note\"".into()))
                })?;
                for id in ids_for(catalog, k.get_ref()) {
                    s.severity.insert(id, sev);
                }
            }
            for (k, v) in sp.per_file_ignores.iter().flatten() {
                let glob = compile_glob(f, "per-file-ignores", k)?;
                let mut rules = Vec::new();
                for x in v {
                    check_selector(catalog, f, "per-file-ignores", x)?;
                    rules.extend(ids_for(catalog, x.get_ref()));
                }
                s.per_file_ignores.push(PerFileIgnore {
                    glob,
                    rules,
                    location: format!("{}:{}", f.display, f.line_of(k.span().start)),
                });
            }
            if let Some(ex) = &sp.exclude {
                s.exclude_globs.clear();
                s.exclude.clear();
                for x in ex {
                    s.exclude_globs.push(compile_glob(f, "exclude", x)?);
                    s.exclude.push(x.get_ref().clone());
                }
            }
            for x in sp.extend_exclude.iter().flatten() {
                s.exclude_globs.push(compile_glob(f, "extend-exclude", x)?);
                s.exclude.push(x.get_ref().clone());
            }
            if let Some(m) = sp.max_filesize {
                s.max_filesize = m;
            }
            if let Some(r) = sp.require_suppression_reason {
                s.require_suppression_reason = r;
            }
            if sp.check_provider_code.is_some() {
                s.check_provider_code = sel("check-provider-code", &sp.check_provider_code)?;
            }
            if let Some(e) = &sp.envelope {
                let env = &mut s.envelope;
                let set = |dst: &mut Vec<String>, src: &Option<Vec<String>>| {
                    if let Some(v) = src {
                        *dst = v.clone();
                    }
                };
                set(&mut env.covered_vendors, &e.covered_vendors);
                set(&mut env.allowed_hosts, &e.allowed_hosts);
                set(&mut env.approved_providers, &e.approved_providers);
                set(&mut env.approved_api_versions, &e.approved_api_versions);
                set(&mut env.allowed_regions, &e.allowed_regions);
            }
        }
    }
    if !cli.select.is_empty() {
        s.select = cli.select.clone();
        s.extend_select.clear();
    }
    s.extend_select.extend(cli.extend_select.iter().cloned());
    s.ignore.extend(cli.ignore.iter().cloned());
    if let Some(m) = cli.max_filesize {
        s.max_filesize = m;
    }
    s.include_vendored = cli.include_vendored;
    Ok(s)
}

/// The resolved settings as `phi-lint config --show` prints them.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Shown {
    pub config_file: String,
    pub select: Vec<String>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    pub active_rules: Vec<String>,
    pub severity: BTreeMap<String, String>,
    pub per_file_ignores: BTreeMap<String, Vec<String>>,
    pub exclude: Vec<String>,
    pub max_filesize: u64,
    pub require_suppression_reason: bool,
    pub rules_dirs: Vec<String>,
    pub check_provider_code: Vec<String>,
    pub envelope: ShownEnvelope,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ShownEnvelope {
    pub covered_vendors: Vec<String>,
    pub allowed_hosts: Vec<String>,
    pub approved_providers: Vec<String>,
    pub approved_api_versions: Vec<String>,
    pub allowed_regions: Vec<String>,
}

/// Renders settings as TOML for `phi-lint config --show`.
pub fn show(s: &Settings, catalog: &Catalog, cwd: &Path) -> String {
    let e = &s.envelope;
    let shown = Shown {
        config_file: s
            .config_path
            .as_ref()
            .map(|p| crate::check::display_path(p, cwd))
            .unwrap_or_else(|| "(none: defaults)".into()),
        select: s.select.clone(),
        extend_select: s.extend_select.clone(),
        ignore: s.ignore.clone(),
        active_rules: s
            .active_rules(catalog)
            .into_iter()
            .map(|i| catalog.rules[i].info.id.clone())
            .collect(),
        severity: s
            .severity
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        per_file_ignores: s
            .per_file_ignores
            .iter()
            .map(|p| {
                (
                    crate::check::display_path(&p.glob.base.join(&p.glob.pattern), cwd),
                    p.rules.clone(),
                )
            })
            .collect(),
        exclude: s.exclude.clone(),
        max_filesize: s.max_filesize,
        require_suppression_reason: s.require_suppression_reason,
        rules_dirs: s
            .rules_dirs
            .iter()
            .map(|d| crate::check::display_path(d, cwd))
            .collect(),
        check_provider_code: s.check_provider_code.clone(),
        envelope: ShownEnvelope {
            covered_vendors: e.covered_vendors.clone(),
            allowed_hosts: e.allowed_hosts.clone(),
            approved_providers: e.approved_providers.clone(),
            approved_api_versions: e.approved_api_versions.clone(),
            allowed_regions: e.allowed_regions.clone(),
        },
    };
    toml::to_string_pretty(&shown).unwrap_or_default()
}

/// The commented starter config `phi-lint init` writes.
pub const STARTER: &str = r#"# phi-lint configuration. The closest phi-lint.toml (or .phi-lint.toml, or [tool.phi-lint]
# in pyproject.toml) to a file applies to it; `extend = "../phi-lint.toml"` inherits another file.
# `phi-lint config --show PATH` prints the settings that apply to PATH.

# Rules by id, name or id prefix (PHI4 = every telemetry rule). `select` replaces the default
# (every rule); `extend-select` adds; `ignore` removes. `--select` on the command line replaces.
# select = ["PHI1", "PHI2", "PHI4"]
# extend-select = []
# ignore = []

# Severity per rule: "error", "warning" or "note".
# [severity]
# PHI201 = "error"

# Rules that do not apply to some files (globs relative to this file). The findings are kept,
# marked suppressed with kind `per-file-ignores`, and listed with --show-suppressed.
# [per-file-ignores]
# "tests/**" = ["PHI201"]

# Files not to check (globs relative to this file). Paths named on the command line are
# checked anyway unless --force-exclude is given.
# exclude = []
# extend-exclude = ["generated/**"]

# Skip files larger than this many bytes.
# max-filesize = 5242880

# Suppression comments must give a reason after `--` (PHI902 otherwise).
# require-suppression-reason = true

# Folders of custom rule files (the same TOML format as the built-in rules).
# rules-dirs = ["phi-lint-rules"]

# Rules that also check the source of LLM SDKs and providers themselves (openai, @ai-sdk/*,
# @langchain/*, Semantic Kernel, ...). Rules about applications skip that code by default
# (`phi-lint rules` and docs/rules.md say which): converting a caller's image into the wire
# format, or forwarding a caller's endpoint, is not an application choosing one.
# check-provider-code = ["PHI501"]

# The envelope: what your organisation's contracts cover. Anything listed here is inside a
# signed Business Associate Agreement, so phi-lint stops reporting it. List only vendors and
# hosts you have a BAA with, and keep the contract reference next to each entry.
# The defaults cover nothing but Azure (Azure OpenAI under Microsoft's BAA).
[envelope]
# Telemetry vendors under a BAA: prompts reaching their SDKs are not PHI401/402/404.
# (sentry, datadog, newrelic, opentelemetry, langfuse, langsmith, ...)
covered-vendors = []
# Hosts that are not consumer endpoints for you (a company gateway that holds the BAA):
# not PHI101/PHI103. Subdomains are included.
allowed-hosts = []
# LLM providers under a BAA (besides Azure): not PHI103.
approved-providers = ["azure"]
# Azure OpenAI API versions your change process has approved.
approved-api-versions = []
# Azure regions inside your data-residency policy.
allowed-regions = []
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// Folders looked in beforehand give the config each would find by itself.
    #[test]
    fn probed_folders_find_what_a_lookup_finds() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let dir = |rel: &str| {
            let d = root.join(rel);
            std::fs::create_dir_all(&d).unwrap();
            d
        };
        let a = dir("a");
        std::fs::write(a.join("phi-lint.toml"), "").unwrap();
        let b = dir("a/b");
        std::fs::write(b.join("pyproject.toml"), "[tool.ruff]\n").unwrap();
        let c = dir("a/b/c");
        std::fs::write(c.join("pyproject.toml"), "[tool.phi-lint]\n").unwrap();
        std::fs::write(c.join(".phi-lint.toml"), "").unwrap();
        let d = dir("a/b/c/d");
        let e = dir("e");
        let dirs: Vec<&Path> = vec![&d, &c, &b, &a, &e];
        let mut probed = Discovery::default();
        // More folders than one thread's share, so each thread looks in some.
        let many: Vec<&Path> = dirs.iter().cycle().take(600).copied().collect();
        probed.probe(&many, 2);
        // A few folders are looked in without threads.
        let mut few = Discovery::default();
        few.probe(&dirs, 2);
        let mut fresh = Discovery::default();
        for x in &dirs {
            let want = fresh.for_dir(x);
            assert_eq!(probed.for_dir(x), want, "{}", x.display());
            assert_eq!(few.for_dir(x), want, "{}", x.display());
        }
        assert_eq!(fresh.for_dir(&d), Some(c.join(".phi-lint.toml")));
        assert_eq!(fresh.for_dir(&b), Some(a.join("phi-lint.toml")));
    }
}
