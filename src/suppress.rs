//! Inline suppressions an auditor can read.
//!
//! Suppressions live in comments (taken from `Facts.comments`, so every comment syntax a
//! frontend understands works: `#`, `//`, `/* */`):
//!
//! - `phi-lint: ignore[PHI201] -- reason` at the end of a code line silences that line (every
//!   finding whose span covers it); alone on its own line it silences the next code line (every
//!   finding starting there, so the whole statement that line starts).
//! - `phi-lint: disable[PHI201] -- reason` … `phi-lint: enable[PHI201]` silences a block.
//! - `phi-lint: ignore-file[PHI201] -- reason` silences the file.
//! - `until=YYYY-MM-DD` before the `--` sets an expiry; after it the suppression stops working.
//!
//! Rules are named by id or name, comma-separated; a rule is required (no blanket
//! suppressions) and so, by default, is a reason. Problems with suppressions are findings of
//! the PHI90x rules. Suppressed findings are kept with a [`Suppressed`] record.

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

use crate::diagnostic::{Hit, Suppressed};
use crate::facts::{Facts, Span};
use crate::rule::Catalog;
use crate::source::LineIndex;

/// The directive a suppression comment holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Ignore,
    IgnoreFile,
    Disable,
    Enable,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ignore => "ignore",
            Kind::IgnoreFile => "ignore-file",
            Kind::Disable => "disable",
            Kind::Enable => "enable",
        }
    }
}

/// One suppression comment.
#[derive(Clone, Debug, Serialize)]
pub struct Directive {
    pub kind: Kind,
    /// Rules as written (ids or names).
    pub rules: Vec<String>,
    pub reason: Option<String>,
    pub until: Option<String>,
    /// 1-based line of the comment.
    pub line: usize,
    /// The comment stands alone on its line.
    pub own_line: bool,
    #[serde(skip)]
    pub span: Span,
    /// 0-based line an `ignore` applies to (own-line: the next code line).
    #[serde(skip)]
    pub target: usize,
}

/// A calendar date, comparable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub i64, pub u32, pub u32);

impl Date {
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.split('-');
        let y: i64 = it.next()?.parse().ok()?;
        let m: u32 = it.next()?.parse().ok()?;
        let d: u32 = it.next()?.parse().ok()?;
        if it.next().is_some() || s.len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&d)
        {
            return None;
        }
        Some(Date(y, m, d))
    }

    /// Today (UTC).
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        // Howard Hinnant's civil_from_days.
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        Date(y, m, d)
    }
}

/// What `apply` needs from the run.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    pub require_reason: bool,
    /// Catalogue indices of the rules active for this file.
    pub active: &'a [usize],
    pub today: Date,
}

fn directive_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?s)(?:^|[#/*;!-]\s*)phi-lint:\s*(ignore-file|ignore|disable|enable)\b\s*(?:\[([^\]]*)\])?\s*(?:until\s*=\s*(\S+))?\s*(?:--(.*))?$",
        )
        .unwrap()
    })
}

/// Strips a block comment's closing delimiter and surrounding space from a reason.
fn clean_reason(r: &str) -> Option<String> {
    let r = r.trim();
    let r = r
        .strip_suffix("*/")
        .or_else(|| r.strip_suffix("-->"))
        .unwrap_or(r);
    let r = r
        .lines()
        .map(|l| l.trim().trim_start_matches('*').trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!r.is_empty()).then_some(r)
}

/// Whether line `line` (0-based) holds nothing but comments and whitespace.
fn comment_only(text: &str, index: &LineIndex, facts: &Facts, line: usize) -> bool {
    let r = index.line_range(text, line);
    let s = &text[r.clone()];
    let Some(first) = s.find(|c: char| !c.is_whitespace()) else {
        return true;
    };
    let last = s.trim_end().len() - 1;
    let (a, b) = (r.start + first, r.start + last);
    let inside = |o: usize| facts.comments.iter().any(|c| c.span.contains(&o));
    inside(a) && inside(b)
}

/// Every suppression directive in a file, in source order.
pub fn parse(text: &str, index: &LineIndex, facts: &Facts) -> Vec<Directive> {
    let re = directive_re();
    let mut out = Vec::new();
    for c in &facts.comments {
        let body = c.text.trim_end();
        let body = body
            .strip_suffix("*/")
            .or_else(|| body.strip_suffix("-->"))
            .unwrap_or(body)
            .trim_end();
        let Some(m) = re.captures(body) else {
            continue;
        };
        let kind = match &m[1] {
            "ignore" => Kind::Ignore,
            "ignore-file" => Kind::IgnoreFile,
            "disable" => Kind::Disable,
            _ => Kind::Enable,
        };
        let rules: Vec<String> = m
            .get(2)
            .map(|r| {
                r.as_str()
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let line0 = index.line_of(c.span.start.min(text.len()));
        let ls = index.line_start(line0);
        let own_line = text[ls..c.span.start.min(text.len())].trim().is_empty();
        let end_line = index.line_of(c.span.end.min(text.len()));
        let target = if own_line {
            let mut t = end_line + 1;
            while t < index.line_count() && comment_only(text, index, facts, t) {
                t += 1;
            }
            t
        } else {
            line0
        };
        out.push(Directive {
            kind,
            rules,
            reason: m.get(4).and_then(|r| clean_reason(r.as_str())),
            until: m.get(3).map(|u| u.as_str().to_string()),
            line: line0 + 1,
            own_line,
            span: c.span.clone(),
            target,
        });
    }
    out
}

/// Levenshtein distance (for "did you mean").
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(!ca.eq_ignore_ascii_case(cb));
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest rule id or name to `word`, when close enough to be a likely typo.
pub fn did_you_mean(catalog: &Catalog, word: &str) -> Option<String> {
    catalog
        .rules
        .iter()
        .flat_map(|r| [r.info.id.as_str(), r.info.name.as_str()])
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min()
        .map(|(_, c)| c.to_string())
}

/// A directive's state while hits are matched against it.
struct Live {
    d: Directive,
    /// (rule as written, catalogue index, used).
    rules: Vec<(String, usize, bool)>,
    active: bool,
    /// For `disable`: the 0-based line of the matching `enable` (exclusive end).
    until_line: usize,
}

/// Marks hits silenced by suppression comments and adds hits for bad suppressions (PHI90x).
pub fn apply(
    catalog: &Catalog,
    text: &str,
    index: &LineIndex,
    facts: &Facts,
    path: &str,
    hits: Vec<Hit>,
    opts: &Options,
) -> (Vec<Hit>, Vec<Option<Suppressed>>) {
    let directives = parse(text, index, facts);
    let mut hits = hits;
    let mut sup: Vec<Option<Suppressed>> = vec![None; hits.len()];
    if directives.is_empty() {
        return (hits, sup);
    }
    let rule_ix = |id: &str| {
        catalog
            .rules
            .iter()
            .position(|r| r.info.id == id)
            .filter(|i| opts.active.contains(i))
    };
    let (r901, r902, r903, r904) = (
        rule_ix("PHI901"),
        rule_ix("PHI902"),
        rule_ix("PHI903"),
        rule_ix("PHI904"),
    );
    let mut extra: Vec<Hit> = Vec::new();
    let mut push = |rule: Option<usize>, span: &Span, message: String| {
        if let Some(rule) = rule {
            extra.push(Hit {
                rule,
                span: span.clone(),
                message,
                secret: None,
            });
        }
    };
    let mut live: Vec<Live> = Vec::new();
    for d in directives {
        let mut rules = Vec::new();
        if d.rules.is_empty() && d.kind != Kind::Enable {
            push(
                r901,
                &d.span,
                format!(
                    "`phi-lint: {}` names no rule; write the ids or names it silences, e.g. `{}[PHI201]`",
                    d.kind.as_str(),
                    d.kind.as_str()
                ),
            );
        }
        for w in &d.rules {
            match catalog
                .rules
                .iter()
                .position(|r| r.info.id.eq_ignore_ascii_case(w) || r.info.name == *w)
            {
                Some(i) => rules.push((w.clone(), i, false)),
                None => {
                    let hint = did_you_mean(catalog, w)
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    push(
                        r901,
                        &d.span,
                        format!("suppression names unknown rule `{w}`{hint}"),
                    );
                }
            }
        }
        let mut active = true;
        if d.kind != Kind::Enable {
            if opts.require_reason && d.reason.is_none() && !d.rules.is_empty() {
                push(
                    r902,
                    &d.span,
                    format!(
                        "suppression of {} gives no reason; add `-- <why this is safe>` for the audit trail",
                        d.rules.join(", ")
                    ),
                );
            }
            if let Some(u) = &d.until {
                match Date::parse(u) {
                    Some(date) if date < opts.today => {
                        active = false;
                        push(
                            r903,
                            &d.span,
                            format!(
                                "suppression of {} expired on {u}; it no longer applies",
                                d.rules.join(", ")
                            ),
                        );
                    }
                    Some(_) => {}
                    None => {
                        active = false;
                        push(
                            r903,
                            &d.span,
                            format!("suppression expiry `until={u}` is not a YYYY-MM-DD date; the suppression does not apply"),
                        );
                    }
                }
            }
        }
        live.push(Live {
            d,
            rules,
            active,
            until_line: usize::MAX,
        });
    }
    // Pair `disable` with the next `enable` naming the same rule.
    for i in 0..live.len() {
        if live[i].d.kind != Kind::Enable {
            continue;
        }
        let enable_line = live[i].d.line - 1;
        let mut closed_any = false;
        for (_, ri, used) in live[i].rules.clone() {
            let opener = (0..i).rev().find(|&j| {
                live[j].d.kind == Kind::Disable
                    && live[j].until_line == usize::MAX
                    && live[j].rules.iter().any(|(_, r, _)| *r == ri)
            });
            if let Some(j) = opener {
                live[j].until_line = enable_line;
                closed_any = true;
            }
            let _ = used;
        }
        if !closed_any && !live[i].rules.is_empty() {
            let span = live[i].d.span.clone();
            push(
                r904,
                &span,
                format!(
                    "`phi-lint: enable[{}]` has no matching `disable` above it",
                    live[i].d.rules.join(", ")
                ),
            );
        }
    }
    for (hi, hit) in hits.iter().enumerate() {
        let start = index.line_of(hit.span.start.min(text.len()));
        let end = index.line_of(hit.span.end.min(text.len()));
        for l in live.iter_mut() {
            if !l.active || l.d.kind == Kind::Enable {
                continue;
            }
            let covers = match l.d.kind {
                Kind::Ignore if l.d.own_line => start == l.d.target,
                Kind::Ignore => start <= l.d.target && l.d.target <= end,
                Kind::Disable => start > l.d.line - 1 && start < l.until_line,
                Kind::IgnoreFile => true,
                Kind::Enable => false,
            };
            if !covers {
                continue;
            }
            let Some(r) = l.rules.iter_mut().find(|(_, ri, _)| *ri == hit.rule) else {
                continue;
            };
            r.2 = true;
            if sup[hi].is_none() {
                sup[hi] = Some(Suppressed {
                    kind: match l.d.kind {
                        Kind::Ignore => "inline",
                        Kind::Disable => "block",
                        _ => "file",
                    }
                    .into(),
                    reason: l.d.reason.clone().unwrap_or_default(),
                    location: format!("{path}:{}", l.d.line),
                });
            }
        }
    }
    for l in &live {
        if !l.active || l.d.kind == Kind::Enable {
            continue;
        }
        let unused: Vec<&str> = l
            .rules
            .iter()
            .filter(|(_, ri, used)| !used && opts.active.contains(ri))
            .map(|(w, _, _)| w.as_str())
            .collect();
        if !unused.is_empty() {
            push(
                r904,
                &l.d.span,
                format!(
                    "`phi-lint: {}[{}]` suppresses nothing here; remove it",
                    l.d.kind.as_str(),
                    unused.join(", ")
                ),
            );
        }
    }
    sup.extend(extra.iter().map(|_| None));
    hits.extend(extra);
    (hits, sup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(Date::parse("2024-02-30").is_some());
        assert!(Date::parse("2024-2-3").is_none());
        assert!(Date::today() > Date(2024, 1, 1));
        assert!(Date::parse("2020-01-01").unwrap() < Date::parse("2020-01-02").unwrap());
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("PHI21", "PHI201"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn parses_forms() {
        let text = "A=1 # phi-lint: ignore[PHI101, x] until=2030-01-01 -- proxied\n# phi-lint: ignore-file[PHI101]\n";
        let mut f = Facts::default();
        for (i, _) in text.match_indices('#') {
            let end = text[i..].find('\n').map(|e| i + e).unwrap_or(text.len());
            f.comments.push(crate::facts::Comment {
                text: text[i..end].to_string(),
                span: i..end,
            });
        }
        let idx = LineIndex::new(text);
        let d = parse(text, &idx, &f);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].rules, vec!["PHI101", "x"]);
        assert_eq!(d[0].until.as_deref(), Some("2030-01-01"));
        assert_eq!(d[0].reason.as_deref(), Some("proxied"));
        assert!(!d[0].own_line);
        assert_eq!(d[1].kind, Kind::IgnoreFile);
        assert!(d[1].own_line && d[1].reason.is_none());
    }
}
