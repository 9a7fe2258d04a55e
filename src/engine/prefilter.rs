//! The keyword prefilter: one Aho-Corasick pass over a file's bytes decides which rules can
//! possibly match it, so most files of a large tree are never parsed.
//!
//! Each rule lists keywords (gitleaks-style); a rule runs on a file only if one of its
//! keywords occurs in it and, when the rule has a second group (`keywords-also`), one of
//! those too, compared ASCII-case-insensitively. Both groups share the one automaton.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// Which keyword group of a rule a pattern belongs to.
const ANY: u8 = 1;
const ALSO: u8 = 2;

/// Maps keyword hits to rule indices.
pub struct Prefilter {
    ac: Option<AhoCorasick>,
    /// For each pattern, the (rule, group) pairs it serves.
    owners: Vec<Vec<(usize, u8)>>,
    /// For each rule, the groups it needs (`ANY`, or `ANY | ALSO`).
    needs: Vec<u8>,
}

impl Prefilter {
    /// `keywords[i]` are the keywords of rule `i`; no second group.
    pub fn new(keywords: &[Vec<String>]) -> Prefilter {
        let groups: Vec<(Vec<String>, Vec<String>)> =
            keywords.iter().map(|k| (k.clone(), Vec::new())).collect();
        Prefilter::with_groups(&groups)
    }

    /// `groups[i]` are rule `i`'s keywords and its second group (`keywords-also`, may be
    /// empty).
    pub fn with_groups(groups: &[(Vec<String>, Vec<String>)]) -> Prefilter {
        let mut patterns: Vec<String> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        let mut owners: Vec<Vec<(usize, u8)>> = Vec::new();
        let mut needs = Vec::with_capacity(groups.len());
        for (rule, (any, also)) in groups.iter().enumerate() {
            needs.push(if also.is_empty() { ANY } else { ANY | ALSO });
            for (words, group) in [(any, ANY), (also, ALSO)] {
                for w in words {
                    let w = w.to_ascii_lowercase();
                    let i = *index.entry(w.clone()).or_insert_with(|| {
                        patterns.push(w);
                        owners.push(Vec::new());
                        patterns.len() - 1
                    });
                    if !owners[i].contains(&(rule, group)) {
                        owners[i].push((rule, group));
                    }
                }
            }
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                // Every byte of every file goes through this automaton with overlapping
                // matches (no literal prefilter applies); a DFA is the fastest per byte.
                .kind(Some(AhoCorasickKind::DFA))
                .build(&patterns)
                .ok()
        };
        Prefilter { ac, owners, needs }
    }

    /// The rules (indices as given to `new`) whose keywords occur in `text`, sorted.
    pub fn rules_for(&self, text: &[u8]) -> Vec<usize> {
        let n = self.needs.len();
        let mut seen = vec![0u8; n];
        let mut left = n;
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(text) {
                for &(r, g) in &self.owners[m.pattern().as_usize()] {
                    let before = seen[r];
                    seen[r] |= g;
                    if before != self.needs[r] && seen[r] == self.needs[r] {
                        left -= 1;
                    }
                }
                if left == 0 {
                    break;
                }
            }
        }
        (0..n).filter(|&r| seen[r] == self.needs[r]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_rules_by_keyword_case_insensitively() {
        let p = Prefilter::new(&[
            vec!["OpenAI".into()],
            vec!["sentry".into(), "openai".into()],
            vec!["zzz".into()],
        ]);
        assert_eq!(p.rules_for(b"from OPENAI import x"), vec![0, 1]);
        assert_eq!(p.rules_for(b"import sentry_sdk"), vec![1]);
        assert!(p.rules_for(b"nothing here").is_empty());
    }

    #[test]
    fn second_group_must_also_occur() {
        let p = Prefilter::with_groups(&[
            (
                vec!["log".into()],
                vec!["completion".into(), "invoke".into()],
            ),
            (vec!["log".into()], vec![]),
            (vec!["x".into()], vec!["log".into()]),
        ]);
        assert_eq!(p.rules_for(b"logger.info(x)"), vec![1, 2]);
        assert_eq!(p.rules_for(b"log(llm.INVOKE(p))"), vec![0, 1]);
        assert!(p.rules_for(b"invoke only").is_empty());
    }
}
