//! Settings: the resolved configuration of a run (config files and CLI flags merged).
//!
//! Rule selection, severity overrides, the envelope, excludes and limits live here as plain
//! data; `Settings::active_rules` turns selection into catalogue indices.

use std::collections::BTreeMap;

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
