//! The keyword prefilter: one Aho-Corasick pass over a file's bytes decides which rules can
//! possibly match it, so most files of a large tree are never parsed.
//!
//! Each rule lists keywords (gitleaks-style); a rule runs on a file only if one of its
//! keywords occurs in it and, when the rule has a second group (`keywords-also`), one of
//! those too, compared ASCII-case-insensitively. Both groups share the one automaton.
//!
//! A gate's word sets (the segments of the names a flow starts at) are compared with their
//! case as well, as the names are matched, and as whole identifiers ([`is_whole_word`]): a
//! second, case-sensitive pass runs only over the files whose sets hold without case.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::rule::{Gate, Rule};

/// What the prefilter knows of one rule.
#[derive(Clone, Debug, Default)]
pub struct RuleKeys {
    /// One of these must occur.
    pub any: Vec<String>,
    /// And, when not empty, one of these too (`keywords-also`).
    pub also: Vec<String>,
    /// One per match of the rule (`None`: the match has no gate); when not empty, one
    /// match must be ungated or have its gate hold. A match whose gate fails cannot match
    /// the text, and [`Scan::gated_out`] names it.
    pub gates: Vec<Option<Gate>>,
}

impl RuleKeys {
    pub fn of(rule: &Rule) -> RuleKeys {
        RuleKeys {
            any: rule.keywords.clone(),
            also: rule.keywords_also.clone(),
            gates: rule.matches.iter().map(|m| m.gate.clone()).collect(),
        }
    }
}

/// A compiled gate: pattern ids per group, and the text regex.
struct GateIds {
    groups: Vec<Vec<usize>>,
    sets: Vec<Vec<usize>>,
    /// `sets` as ids of the case-sensitive automaton.
    exact_sets: Vec<Vec<usize>>,
    text: Option<crate::rule::LazyRegex>,
}

struct RuleIds {
    any: Vec<usize>,
    also: Vec<usize>,
    gates: Vec<Option<GateIds>>,
}

/// What [`Prefilter::scan`] found.
#[derive(Debug, Default)]
pub struct Scan {
    /// The rules (indices as given) that may match, sorted.
    pub rules: Vec<usize>,
    /// Matches of those rules that cannot (rule index, match index): their gates fail.
    pub gated_out: Vec<(usize, usize)>,
    /// The text holds every word of one probe set (always `true` without probes).
    pub probed: bool,
}

/// Maps keyword hits to rule indices.
pub struct Prefilter {
    ac: Option<AhoCorasick>,
    patterns: usize,
    rules: Vec<RuleIds>,
    /// Word sets asked about besides the rules ([`Prefilter::new`]).
    probes: Vec<Vec<usize>>,
    /// The gates' set words, with their case (see the module docs).
    exact: Option<AhoCorasick>,
    exact_patterns: usize,
}

impl Prefilter {
    /// The prefilter of `rules` (rule `i` of the result is `rules[i]`). [`Prefilter::scan`] also
    /// tells whether the text holds every word of one of the `probes` sets (ASCII case
    /// ignored), from the same pass: a caller that needs the exact (case-sensitive) answer
    /// searches only texts that pass.
    /// `many` says the prefilter will scan many files: it is then compiled to a DFA, the
    /// fastest per byte but the slowest to build (a few milliseconds, most of a pre-commit
    /// run on five files, which gets a contiguous NFA instead).
    pub fn new(rules: &[RuleKeys], probes: &[Vec<String>], many: bool) -> Prefilter {
        let mut patterns: Vec<String> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        let mut id = |w: &String| -> usize {
            let w = w.to_ascii_lowercase();
            *index.entry(w.clone()).or_insert_with(|| {
                patterns.push(w);
                patterns.len() - 1
            })
        };
        let mut exact_words: Vec<String> = Vec::new();
        let mut exact_id = |w: &String| -> usize {
            match exact_words.iter().position(|x| x == w) {
                Some(i) => i,
                None => {
                    exact_words.push(w.clone());
                    exact_words.len() - 1
                }
            }
        };
        let mut compiled = Vec::with_capacity(rules.len());
        for r in rules {
            let any = r.any.iter().map(&mut id).collect();
            let also = r.also.iter().map(&mut id).collect();
            let gates = r
                .gates
                .iter()
                .map(|g| {
                    g.as_ref().map(|g| GateIds {
                        groups: g
                            .groups
                            .iter()
                            .map(|ws| ws.iter().map(&mut id).collect())
                            .collect(),
                        sets: g
                            .sets
                            .iter()
                            .map(|ws| ws.iter().map(&mut id).collect())
                            .collect(),
                        exact_sets: g
                            .sets
                            .iter()
                            .map(|ws| ws.iter().map(&mut exact_id).collect())
                            .collect(),
                        text: g.text.clone(),
                    })
                })
                .collect();
            compiled.push(RuleIds { any, also, gates });
        }
        let probes = probes
            .iter()
            .map(|set| set.iter().map(&mut id).collect())
            .collect();
        let ac = if patterns.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                // Every byte of every file goes through this automaton with overlapping
                // matches (no literal prefilter applies); a DFA is the fastest per byte.
                .kind(Some(if many {
                    AhoCorasickKind::DFA
                } else {
                    AhoCorasickKind::ContiguousNFA
                }))
                .build(&patterns)
                .ok()
        };
        let exact = (!exact_words.is_empty())
            .then(|| {
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .kind(many.then_some(AhoCorasickKind::DFA))
                    .build(&exact_words)
                    .ok()
            })
            .flatten();
        Prefilter {
            ac,
            patterns: patterns.len(),
            rules: compiled,
            probes,
            exact,
            exact_patterns: exact_words.len(),
        }
    }

    /// The rules that may match `text`, the matches of theirs that cannot, and whether it
    /// holds every word of one probe set ([`Scan`]). One pass of the automaton marks the
    /// keywords present; a rule's text regexes run only when its keywords already admit it.
    pub fn scan(&self, text: &[u8]) -> Scan {
        let mut seen = vec![false; self.patterns];
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(text) {
                seen[m.pattern().as_usize()] = true;
            }
        }
        let probed =
            self.probes.is_empty() || self.probes.iter().any(|set| set.iter().all(|&i| seen[i]));
        let any = |ids: &[usize]| ids.iter().any(|&i| seen[i]);
        let as_str = std::cell::OnceCell::new();
        let text_str = || *as_str.get_or_init(|| std::str::from_utf8(text).ok());
        let exact_seen = std::cell::OnceCell::new();
        let exact = || {
            exact_seen.get_or_init(|| {
                let mut seen = vec![false; self.exact_patterns];
                if let Some(ac) = &self.exact {
                    for m in ac.find_overlapping_iter(text) {
                        if is_whole_word(text, m.start(), m.end()) {
                            seen[m.pattern().as_usize()] = true;
                        }
                    }
                }
                seen
            })
        };
        let holds = |g: &GateIds| {
            g.groups.iter().all(|ids| any(ids))
                && (g.sets.is_empty()
                    || (g.sets.iter().any(|set| set.iter().all(|&i| seen[i]))
                        && g.exact_sets.iter().any(|set| {
                            let exact = exact();
                            set.iter().all(|&i| exact[i])
                        })))
                && g.text.as_ref().is_none_or(|re| {
                    // Text that is not UTF-8 was decoded before it got here; keep
                    // the rule when in doubt.
                    text_str().is_none_or(|t| re.is_match(t))
                })
        };
        let mut out = Scan {
            probed,
            ..Scan::default()
        };
        for (r, rule) in self.rules.iter().enumerate() {
            if !any(&rule.any) || (!rule.also.is_empty() && !any(&rule.also)) {
                continue;
            }
            let failed = out.gated_out.len();
            for (m, g) in rule.gates.iter().enumerate() {
                if g.as_ref().is_some_and(|g| !holds(g)) {
                    out.gated_out.push((r, m));
                }
            }
            if rule.gates.is_empty() || out.gated_out.len() - failed < rule.gates.len() {
                out.rules.push(r);
            } else {
                out.gated_out.truncate(failed);
            }
        }
        out
    }
}

/// A byte that continues an identifier in every language checked: an ASCII letter, digit or
/// `_`. Other bytes (`$`, non-ASCII) are taken as ending one, so a test built on this errs
/// toward finding a word, never toward missing it.
pub fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether `text[start..end]` is not part of a longer identifier: the byte before it and its
/// first byte are not both identifier bytes (ASCII letters, digits, `_`), nor its last byte
/// and the byte after it. A gate's set words are segments of called names, which the code
/// spells as whole identifiers (`invoke` is not in `uninvoked`); a word that does not start
/// or end with an identifier byte (`@langchain`) is not bounded on that side.
pub fn is_whole_word(text: &[u8], start: usize, end: usize) -> bool {
    let joined = |a: Option<&u8>, b: Option<&u8>| matches!((a, b), (Some(&a), Some(&b)) if is_ident_byte(a) && is_ident_byte(b));
    start < end
        && !joined(
            start.checked_sub(1).and_then(|i| text.get(i)),
            text.get(start),
        )
        && !joined(text.get(end - 1), text.get(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_are_bounded_by_what_cannot_continue_an_identifier() {
        let at = |text: &str, word: &str| {
            let start = text.find(word).unwrap();
            is_whole_word(text.as_bytes(), start, start + word.len())
        };
        assert!(at("invoke", "invoke"));
        assert!(at("chain.invoke(x)", "invoke"));
        assert!(at("\"invoke\"", "invoke"));
        assert!(!at("uninvoked", "invoke"));
        assert!(!at("invoke_all", "invoke"));
        assert!(!at("reinvoke", "invoke"));
        assert!(!at("invoke2", "invoke"));
        // A word starting or ending with what is not an identifier byte is open on that side.
        assert!(at("x@langchain/core", "@langchain"));
        assert!(!at("x@langchainx", "@langchain"));
        // Non-ASCII bytes do not join (the test is lenient there, never stricter).
        assert!(at("éinvoke", "invoke"));
    }

    fn with_rules(rules: &[RuleKeys]) -> Prefilter {
        Prefilter::new(rules, &[], false)
    }

    fn rules_for(p: &Prefilter, text: &[u8]) -> Vec<usize> {
        p.scan(text).rules
    }

    #[test]
    fn a_rule_whose_matches_all_have_gates_needs_one_of_them() {
        let gate = |groups: &[&[&str]], text: Option<&str>| Gate {
            groups: groups
                .iter()
                .map(|g| g.iter().map(|s| s.to_string()).collect())
                .collect(),
            sets: vec![],
            text: text.map(|t| crate::rule::LazyRegex::new(t).unwrap()),
        };
        let p = with_rules(&[
            RuleKeys {
                any: vec!["azure".into()],
                also: vec![],
                gates: vec![
                    Some(gate(&[&["AzureOpenAI"], &["create"]], None)),
                    Some(gate(&[], Some("[0-9a-f]{8}"))),
                ],
            },
            RuleKeys {
                any: vec!["azure".into()],
                also: vec![],
                gates: vec![],
            },
            RuleKeys {
                any: vec!["azure".into()],
                also: vec![],
                gates: vec![Some(gate(&[&["AzureOpenAI"]], None)), None],
            },
        ]);
        assert_eq!(rules_for(&p, b"azure region"), vec![1, 2]);
        assert_eq!(rules_for(&p, b"AzureOpenAI()"), vec![1, 2]);
        assert_eq!(rules_for(&p, b"azureopenai().CREATE()"), vec![0, 1, 2]);
        assert_eq!(rules_for(&p, b"azure key deadbeef"), vec![0, 1, 2]);
        // The matches of admitted rules whose gates fail are named; those of rules left out
        // are not.
        assert_eq!(p.scan(b"azure region").gated_out, vec![(2, 0)]);
        assert_eq!(p.scan(b"AzureOpenAI().create()").gated_out, vec![(0, 1)]);
        assert_eq!(
            p.scan(b"azure key deadbeef").gated_out,
            vec![(0, 0), (2, 0)]
        );
        assert!(p.scan(b"azureopenai deadbeef create").gated_out.is_empty());

        // Flow gates: every word of one set.
        let flow = with_rules(&[RuleKeys {
            any: vec!["log".into()],
            also: vec![],
            gates: vec![Some(Gate {
                groups: vec![],
                sets: vec![
                    vec!["chat".into(), "completions".into(), "create".into()],
                    vec!["summarize_note(".into()],
                ],
                text: None,
            })],
        }]);
        assert!(rules_for(&flow, b"log(chat); create()").is_empty());
        assert_eq!(
            rules_for(&flow, b"log(c.chat.completions.create())"),
            vec![0]
        );
        // Set words keep their case (names are matched with it); the keywords do not.
        assert!(rules_for(&flow, b"log(c.Chat.Completions.Create())").is_empty());
        assert_eq!(
            rules_for(&flow, b"LOG(c.chat.completions.create())"),
            vec![0]
        );
        assert_eq!(rules_for(&flow, b"log(summarize_note(x))"), vec![0]);
        // Set words are whole identifiers: not inside a longer one.
        assert!(rules_for(&flow, b"log(c.chat.completions.create_all())").is_empty());
        assert!(rules_for(&flow, b"log(c.chat.completions.recreate())").is_empty());
        assert!(rules_for(&flow, b"log(c.chat2.completions.create())").is_empty());
        assert_eq!(
            rules_for(&flow, b"create(x); log(chatty, c.chat.completions)"),
            vec![0]
        );
        assert_eq!(
            rules_for(&flow, b"log(c?.chat\n  .completions::create::<T>())"),
            vec![0]
        );
    }

    #[test]
    fn probes_answer_from_the_same_pass() {
        let keys = [RuleKeys {
            any: vec!["log".into()],
            ..RuleKeys::default()
        }];
        let sets = [
            vec!["chat".into(), "create".into()],
            vec!["summarize(".into()],
        ];
        let p = Prefilter::new(&keys, &sets, false);
        let scan = |p: &Prefilter, text: &[u8]| {
            let s = p.scan(text);
            (s.rules, s.probed)
        };
        assert_eq!(scan(&p, b"log(chat.Create())"), (vec![0], true));
        assert_eq!(scan(&p, b"chat only"), (vec![], false));
        assert_eq!(scan(&p, b"x = summarize(y)"), (vec![], true));
        assert_eq!(scan(&with_rules(&keys), b"nothing"), (vec![], true));
    }

    #[test]
    fn admits_rules_by_keyword_case_insensitively() {
        let any = |words: &[&str]| RuleKeys {
            any: words.iter().map(|w| w.to_string()).collect(),
            ..RuleKeys::default()
        };
        // Both automaton kinds: a DFA for many files, a contiguous NFA for a few.
        for many in [true, false] {
            let p = Prefilter::new(
                &[any(&["OpenAI"]), any(&["sentry", "openai"]), any(&["zzz"])],
                &[],
                many,
            );
            assert_eq!(rules_for(&p, b"from OPENAI import x"), vec![0, 1]);
            assert_eq!(rules_for(&p, b"import sentry_sdk"), vec![1]);
            assert!(rules_for(&p, b"nothing here").is_empty());
        }
    }

    #[test]
    fn second_group_must_also_occur() {
        let keys = |any: &[&str], also: &[&str]| RuleKeys {
            any: any.iter().map(|s| s.to_string()).collect(),
            also: also.iter().map(|s| s.to_string()).collect(),
            gates: vec![],
        };
        let p = with_rules(&[
            keys(&["log"], &["completion", "invoke"]),
            keys(&["log"], &[]),
            keys(&["x"], &["log"]),
        ]);
        assert_eq!(rules_for(&p, b"logger.info(x)"), vec![1, 2]);
        assert_eq!(rules_for(&p, b"log(llm.INVOKE(p))"), vec![0, 1]);
        assert!(rules_for(&p, b"invoke only").is_empty());
    }
}
