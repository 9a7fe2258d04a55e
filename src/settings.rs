//! Settings: the resolved configuration of a run (config files and CLI flags merged).
//!
//! Rule selection, severity overrides, the envelope, excludes and limits live here as plain
//! data; `Settings::active_rules` turns selection into catalogue indices.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::Severity;
use crate::engine::Envelope;
use crate::rule::Catalog;

/// The resolved settings for a run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Selectors: ids, names or id prefixes. Empty = all rules.
    pub select: Vec<String>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    /// Severity overrides by rule id.
    pub severity: BTreeMap<String, Severity>,
    pub envelope: Envelope,
    pub exclude: Vec<String>,
    pub max_filesize: u64,
    pub include_vendored: bool,
    /// Suppression comments must give a reason (`-- why`); PHI902 otherwise.
    pub require_suppression_reason: bool,
    /// Compiled `exclude` + `extend-exclude` globs, relative to the config that declares them.
    pub exclude_globs: Vec<PathGlob>,
    /// `[per-file-ignores]`: findings of these rules in matching files are suppressed.
    pub per_file_ignores: Vec<PerFileIgnore>,
    /// Folders of custom rules (absolute).
    pub rules_dirs: Vec<PathBuf>,
    /// The config file these settings come from (`None`: defaults).
    pub config_path: Option<PathBuf>,
    /// Rule selectors that also check the implementation code of LLM SDKs and providers
    /// (rules with `skip-provider-code` skip it otherwise).
    pub check_provider_code: Vec<String>,
}

/// A path glob and the folder it is relative to.
#[derive(Clone, Debug)]
pub struct PathGlob {
    pub base: PathBuf,
    pub pattern: String,
    pub matcher: globset::GlobMatcher,
}

impl PathGlob {
    /// Whether `path` (absolute) or one of its ancestors below `base` matches.
    pub fn matches(&self, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.base) else {
            return false;
        };
        rel.ancestors()
            .any(|a| !a.as_os_str().is_empty() && self.matcher.is_match(a))
    }
}

/// One `[per-file-ignores]` entry.
#[derive(Clone, Debug)]
pub struct PerFileIgnore {
    pub glob: PathGlob,
    /// Rule ids it silences.
    pub rules: Vec<String>,
    /// `path:line` of the entry in its config file.
    pub location: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            select: Vec::new(),
            extend_select: Vec::new(),
            ignore: Vec::new(),
            severity: BTreeMap::new(),
            envelope: Envelope::default(),
            exclude: Vec::new(),
            max_filesize: 5 * 1024 * 1024,
            include_vendored: false,
            require_suppression_reason: true,
            exclude_globs: Vec::new(),
            per_file_ignores: Vec::new(),
            rules_dirs: Vec::new(),
            config_path: None,
            check_provider_code: Vec::new(),
        }
    }
}

/// Whether a selector (id, name or id prefix such as `PHI4`) picks a rule.
pub fn selects(selector: &str, id: &str, name: &str) -> bool {
    selector.eq_ignore_ascii_case("ALL")
        || selector.eq_ignore_ascii_case(id)
        || selector == name
        || (selector.len() < id.len()
            && id
                .to_ascii_uppercase()
                .starts_with(&selector.to_ascii_uppercase()))
}

impl Settings {
    /// Indices of the rules this run uses.
    pub fn active_rules(&self, catalog: &Catalog) -> Vec<usize> {
        catalog
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                // Custom rules apply where their folder is configured.
                if r.info.custom
                    && !self
                        .rules_dirs
                        .iter()
                        .any(|d| Path::new(&r.source).starts_with(d))
                {
                    return false;
                }
                let (id, name) = (&r.info.id, &r.info.name);
                let selected =
                    self.select.is_empty() || self.select.iter().any(|s| selects(s, id, name));
                let extended = self.extend_select.iter().any(|s| selects(s, id, name));
                let ignored = self.ignore.iter().any(|s| selects(s, id, name));
                (selected || extended) && !ignored
            })
            .map(|(i, _)| i)
            .collect()
    }
}

impl Settings {
    /// Whether a file (absolute path) is excluded by the configured globs.
    pub fn excludes(&self, path: &Path) -> bool {
        self.exclude_globs.iter().any(|g| g.matches(path))
    }

    /// The per-file-ignores entry silencing `rule` in `path`, if any.
    pub fn per_file_ignore(&self, path: &Path, rule: &str) -> Option<&PerFileIgnore> {
        self.per_file_ignores
            .iter()
            .find(|p| p.rules.iter().any(|r| r == rule) && p.glob.matches(path))
    }
}
