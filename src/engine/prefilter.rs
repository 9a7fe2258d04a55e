//! The keyword prefilter: one Aho-Corasick pass over a file's bytes decides which rules can
//! possibly match it, so most files of a large tree are never parsed.
//!
//! Each rule lists keywords (gitleaks-style); a rule runs on a file only if one of its
//! keywords occurs in it, compared ASCII-case-insensitively.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Maps keyword hits to rule indices.
pub struct Prefilter {
    ac: Option<AhoCorasick>,
    /// For each pattern, the rules it admits.
    owners: Vec<Vec<usize>>,
    rule_count: usize,
}

impl Prefilter {
    /// `keywords[i]` are the keywords of rule `i`.
    pub fn new(keywords: &[Vec<String>]) -> Prefilter {
        let mut patterns: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        for (rule, words) in keywords.iter().enumerate() {
            for w in words {
                let w = w.to_ascii_lowercase();
                match patterns.iter().position(|p| *p == w) {
                    Some(i) => owners[i].push(rule),
                    None => {
                        patterns.push(w);
                        owners.push(vec![rule]);
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
                .build(&patterns)
                .ok()
        };
        Prefilter {
            ac,
            owners,
            rule_count: keywords.len(),
        }
    }

    /// The rules (indices as given to `new`) whose keywords occur in `text`, sorted.
    pub fn rules_for(&self, text: &[u8]) -> Vec<usize> {
        let mut seen = vec![false; self.rule_count];
        let mut left = self.rule_count;
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(text) {
                for &r in &self.owners[m.pattern().as_usize()] {
                    if !seen[r] {
                        seen[r] = true;
                        left -= 1;
                    }
                }
                if left == 0 {
                    break;
                }
            }
        }
        (0..self.rule_count).filter(|&r| seen[r]).collect()
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
}
