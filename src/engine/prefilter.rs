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
    sets: Vec<SetIds>,
    text: Option<crate::rule::LazyRegex>,
}

/// A compiled [`WordSet`].
struct SetIds {
    /// Ids of the case-insensitive automaton.
    words: Vec<usize>,
    /// The same words as ids of the case-sensitive automaton.
    exact: Vec<usize>,
    /// Index into [`Prefilter::chains`].
    chain: Option<usize>,
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
    /// The text holds one probe set as a gate's set must hold (every word with its case, as
    /// a whole identifier, and its chain); always `true` without probes, `false` when not
    /// asked for.
    pub probed: bool,
}

/// Maps keyword hits to rule indices.
pub struct Prefilter {
    ac: Option<AhoCorasick>,
    patterns: usize,
    rules: Vec<RuleIds>,
    /// Word sets asked about besides the rules ([`Prefilter::new`]).
    probes: Vec<SetIds>,
    /// The gates' set words, with their case (see the module docs).
    exact: Option<AhoCorasick>,
    exact_patterns: usize,
    /// The sets' chains, each once (the flow matches of several rules share them).
    chains: Vec<Chain>,
}

impl Prefilter {
    /// The prefilter of `rules` (rule `i` of the result is `rules[i]`). [`Prefilter::scan`] also
    /// tells whether the text holds one of the `probes` sets, from the same passes as the
    /// gates' sets.
    /// `many` says the prefilter will scan many files: it is then compiled to a DFA, the
    /// fastest per byte but the slowest to build (a few milliseconds, most of a pre-commit
    /// run on five files, which gets a contiguous NFA instead).
    pub fn new(rules: &[RuleKeys], probes: &[WordSet], many: bool) -> Prefilter {
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
        let mut chains: Vec<Chain> = Vec::new();
        let mut chain_id = |c: &Chain| match chains.iter().position(|x| x == c) {
            Some(i) => i,
            None => {
                chains.push(c.clone());
                chains.len() - 1
            }
        };
        let mut set_ids = |ws: &WordSet, id: &mut dyn FnMut(&String) -> usize| SetIds {
            words: ws.words.iter().map(&mut *id).collect(),
            exact: ws.words.iter().map(&mut exact_id).collect(),
            chain: ws.chain.as_ref().map(&mut chain_id),
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
                        sets: g.sets.iter().map(|ws| set_ids(ws, &mut id)).collect(),
                        text: g.text.clone(),
                    })
                })
                .collect();
            compiled.push(RuleIds { any, also, gates });
        }
        let probes = probes.iter().map(|ws| set_ids(ws, &mut id)).collect();
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
            chains,
        }
    }

    /// The rules that may match `text`, the matches of theirs that cannot, and whether it
    /// holds one probe set ([`Scan`]). One pass of the automaton marks the
    /// keywords present; a rule's text regexes run only when its keywords already admit it.
    /// `verbatim` says the text spells code as written, so a set's [`Chain`] is looked for
    /// (not in a notebook's JSON, whose strings split lines and escape quotes); `probe` asks
    /// for [`Scan::probed`].
    pub fn scan(&self, text: &[u8], verbatim: bool, probe: bool) -> Scan {
        let mut seen = vec![false; self.patterns];
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(text) {
                seen[m.pattern().as_usize()] = true;
            }
        }
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
        let chained: Vec<std::cell::OnceCell<bool>> = vec![Default::default(); self.chains.len()];
        let set_holds = |set: &SetIds| {
            set.words.iter().all(|&i| seen[i])
                && set.exact.iter().all(|&i| exact()[i])
                && set.chain.is_none_or(|c| {
                    !verbatim || *chained[c].get_or_init(|| self.chains[c].holds(text))
                })
        };
        let holds = |g: &GateIds| {
            g.groups.iter().all(|ids| any(ids))
                && (g.sets.is_empty() || g.sets.iter().any(set_holds))
                && g.text.as_ref().is_none_or(|re| {
                    // Text that is not UTF-8 was decoded before it got here; keep
                    // the rule when in doubt.
                    text_str().is_none_or(|t| re.is_match(t))
                })
        };
        let mut out = Scan {
            probed: self.probes.is_empty() || (probe && self.probes.iter().any(set_holds)),
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

/// Words that must all occur in a text, case and all, each as a whole identifier
/// ([`is_whole_word`]); for the segments of a call pattern, also the pattern's last two
/// segments chained as a call spells them ([`Chain`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WordSet {
    pub words: Vec<String>,
    pub chain: Option<Chain>,
}

impl WordSet {
    /// A set of words with no chain.
    pub fn of(words: Vec<String>) -> WordSet {
        WordSet { words, chain: None }
    }
}

/// The last two segments of a call pattern (`*.messages.create`: `messages`, `create`), or its
/// last segment alone when the one before is not a plain identifier (`*.invoke`,
/// `langchain*.HumanMessage`). A call the pattern matches has a name ending in `head.tail`
/// (or `.tail`): the callee as written (a member chain) or with its first segment replaced by
/// the import path the name came from ([`crate::facts::Facts::resolve_imports`]). Either way
/// the text spells them in one of a few shapes ([`Chain::holds`]), where the words of a
/// [`WordSet`] may be anywhere: `messages` and `create` are in most JavaScript files,
/// `messages.create` is not; `invoke` is in prose, `.invoke` is not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub head: Option<String>,
    pub tail: String,
    /// `head` is the first segment of the whole name (`ai.generateText`), so it may be a
    /// module's name by itself (`from 'ai'`).
    pub rooted: bool,
}

/// How far a chain's argument list, index or comment is followed before the text is
/// admitted unexamined.
const CHAIN_GROUP_LIMIT: usize = 8192;
/// Aliases of a head (`messages as m`) looked up before the text is admitted unexamined.
const CHAIN_ALIAS_LIMIT: usize = 16;
/// Occurrences of a chain's first word examined before the text is admitted unexamined: with
/// [`CHAIN_GROUP_LIMIT`], this bounds the work per file (a file repeating `messages /*` a
/// million times would otherwise be scanned to its end from each).
const CHAIN_OCCURRENCE_LIMIT: usize = 512;

/// What follows one occurrence of a chain's head.
enum After<'t> {
    /// The tail (or a shape that may lead to it): the text is admitted.
    Tail,
    /// A new name for the head (`messages as m`, `{ messages: m }`): the tail may follow it.
    Alias(&'t [u8]),
    No,
}

impl Chain {
    /// The chain of `pattern` (a glob of dotted names), if it has two segments or more and its
    /// last is a plain identifier.
    pub fn of(pattern: &str) -> Option<Chain> {
        let segs: Vec<&str> = pattern.split('.').collect();
        let [.., head, tail] = segs[..] else {
            return None;
        };
        let plain = |s: &str| !s.is_empty() && s.bytes().all(is_ident_byte);
        plain(tail).then(|| Chain {
            head: plain(head).then(|| head.to_string()),
            tail: tail.to_string(),
            rooted: segs.len() == 2 && plain(head),
        })
    }

    /// Whether `text` may hold a call named `….head.tail` (its words are known to be there).
    /// It errs toward yes: every shape in which a frontend can produce such a name is
    /// accepted, and what the scan cannot follow (an argument list longer than
    /// [`CHAIN_GROUP_LIMIT`], many aliases or occurrences) admits the text. The shapes, at an
    /// occurrence of
    /// `head` as a whole identifier:
    ///
    /// - a member chain: `head`, then any of whitespace, comments, a line continuation, an
    ///   argument list or index (`messages(x)`, `chat[0]`), `!` or `?` (`?.`), then `.`, `::`
    ///   or `->`, then whitespace or comments, then `tail` (`client.chat().completions()
    ///   .create`, `client.messages\n  .create`, `Chat::create`); type arguments (`<`) and a
    ///   Rust import group (`::{`) admit the text;
    /// - the end of an import path or module name: `head` followed by `import` (`from
    ///   x.messages import create`), or by a quote and preceded by `.` (`from
    ///   'x.messages'`) or, for a rooted chain, by a quote (`import { generateText } from 'ai'`);
    /// - an alias: `head as m` or `{ head: m }`, then the chain `m.tail` elsewhere; `head;` on
    ///   a `using` line (`using M = X.messages;`, C#) admits the text.
    ///
    /// Without a head, at an occurrence of `tail` as a whole identifier: a member access or
    /// import path (after `.`, `::`, `->` or `>` of type arguments, whitespace and line
    /// continuations allowed between), or a name in an import list (after `import`, or before
    /// `as`; after `{`, `,`, `(` or before `,`, `}`, `)` or a destructuring `:` when the list
    /// may be an import's: `in_import_list`).
    pub fn holds(&self, text: &[u8]) -> bool {
        let Some(head) = &self.head else {
            return self.tail_named(text);
        };
        let mut aliases: Vec<&[u8]> = Vec::new();
        for (n, (start, end)) in occurrences(text, head.as_bytes()).enumerate() {
            if n == CHAIN_OCCURRENCE_LIMIT {
                return true;
            }
            match self.after_head(text, start, end) {
                After::Tail => return true,
                After::Alias(a) if !aliases.contains(&a) => {
                    if aliases.len() == CHAIN_ALIAS_LIMIT {
                        return true;
                    }
                    aliases.push(a);
                }
                _ => {}
            }
        }
        aliases.iter().any(|alias| {
            occurrences(text, alias)
                .enumerate()
                .any(|(n, (_, end))| n == CHAIN_OCCURRENCE_LIMIT || self.member(text, end))
        })
    }

    /// Whether `tail` occurs as a member or an imported name (a chain without a head).
    fn tail_named(&self, text: &[u8]) -> bool {
        occurrences(text, self.tail.as_bytes())
            .enumerate()
            .any(|(n, (start, end))| {
                if n == CHAIN_OCCURRENCE_LIMIT {
                    return true;
                }
                let before = text[..start]
                    .iter()
                    .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\\'))
                    .map_or(0, |i| i + 1);
                if matches!(text[..before].last(), Some(b'.' | b':' | b'>'))
                    || before
                        .checked_sub(6)
                        .is_some_and(|i| word_at(text, i, b"import"))
                {
                    return true;
                }
                if matches!(text[..before].last(), Some(b'{' | b',' | b'(')) {
                    return in_import_list(text, start);
                }
                let Some(i) = skip_blank(text, end) else {
                    return true;
                };
                match (text.get(i), text.get(i + 1)) {
                    (Some(b',' | b'}' | b')'), _) => in_import_list(text, start),
                    (Some(b':'), next) => next != Some(&b':') && in_import_list(text, start),
                    _ => word_at(text, i, b"as"),
                }
            })
    }

    /// What follows the head at `start..end`.
    fn after_head<'t>(&self, text: &'t [u8], start: usize, end: usize) -> After<'t> {
        let prev = start.checked_sub(1).map(|i| text[i]);
        if matches!(text.get(end), Some(b'\'' | b'"' | b'`'))
            && (prev == Some(b'.') || (self.rooted && matches!(prev, Some(b'\'' | b'"' | b'`'))))
        {
            return After::Tail;
        }
        let mut i = end;
        while matches!(text.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if i > end && word_at(text, i, b"import") {
            return After::Tail;
        }
        let alias_from = |mut i: usize| {
            while matches!(text.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                i += 1;
            }
            let n = text[i..].iter().take_while(|&&b| is_ident_byte(b)).count();
            match n {
                0 => After::No,
                _ => After::Alias(&text[i..i + n]),
            }
        };
        if i > end && word_at(text, i, b"as") {
            return alias_from(i + 2);
        }
        match (text.get(i), text.get(i + 1)) {
            (Some(b':'), next) if next != Some(&b':') => return alias_from(i + 1),
            (Some(b';'), _) => {
                let line = text[..start].rsplit(|&b| b == b'\n').next().unwrap_or(&[]);
                if line.trim_ascii_start().starts_with(b"using") {
                    return After::Tail;
                }
                return After::No;
            }
            _ => {}
        }
        if self.member(text, end) {
            After::Tail
        } else {
            After::No
        }
    }

    /// Whether the member chain after a name at `..end` may go on to the tail (what the scan
    /// cannot follow may).
    fn member(&self, text: &[u8], end: usize) -> bool {
        let mut i = end;
        // Before the separator: an argument list, an index, `!`, `?`.
        loop {
            let Some(j) = skip_blank(text, i) else {
                return true;
            };
            i = j;
            match text.get(i) {
                Some(b'(' | b'[') => match skip_group(text, i) {
                    Some(j) => i = j,
                    None => return true,
                },
                Some(b'!') => i += 1,
                Some(b'?') if text.get(i + 1) == Some(&b'.') => i += 1,
                Some(b'<') => return true,
                _ => break,
            }
        }
        i += match (text.get(i), text.get(i + 1)) {
            (Some(b'.'), _) => 1,
            (Some(b':'), Some(b':')) | (Some(b'-'), Some(b'>')) => 2,
            _ => return false,
        };
        let Some(i) = skip_blank(text, i) else {
            return true;
        };
        matches!(text.get(i), Some(b'<' | b'{')) || word_at(text, i, self.tail.as_bytes())
    }
}

/// The occurrences of `word` in `text` as a whole identifier ([`is_whole_word`]).
fn occurrences<'t>(text: &'t [u8], word: &'t [u8]) -> impl Iterator<Item = (usize, usize)> + 't {
    memchr::memmem::find_iter(text, word)
        .map(move |start| (start, start + word.len()))
        .filter(move |&(start, end)| is_whole_word(text, start, end))
}

/// Whether the name at `start`, written as a member of a list (`, name`, `{ name`, `name)`),
/// may be in an import list, where a bare name a call resolves through is spelled (`from m
/// import (a, invoke)`, `import { invoke } from`, `const { invoke } = require(..)`, `use
/// m::{a, invoke}`). Walking back over names, commas, `:`, `*` and blanks, the list follows
/// `import` or `export`, or opens with a `{` or `(` after `import`, `export`, `::`, `const`,
/// `let`, `var` or `use` (past `type` and a default import's `,`). It errs toward yes: a
/// comment, a nested group or a walk longer than [`CHAIN_GROUP_LIMIT`] admits the name
/// unexamined. Prose (`a descriptor, invoke its`) and blocks (`{ invoke(x) }`) are not lists.
fn in_import_list(text: &[u8], start: usize) -> bool {
    let floor = start.saturating_sub(CHAIN_GROUP_LIMIT);
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\\');
    let name = |b: u8| is_ident_byte(b) || b == b'$';
    // The word ending at `i`, and where it starts.
    let word_before = |i: usize| {
        let s = text[floor..i]
            .iter()
            .rposition(|&b| !name(b))
            .map_or(floor, |k| floor + k + 1);
        (&text[s..i], s)
    };
    let mut i = start;
    // Inside a `{`/`(` already passed: what precedes it decides.
    let mut opened = false;
    loop {
        while i > floor && blank(text[i - 1]) {
            i -= 1;
        }
        if i <= floor {
            return true;
        }
        let c = text[i - 1];
        if name(c) {
            let (w, s) = word_before(i);
            match w {
                b"import" | b"export" => return true,
                b"const" | b"let" | b"var" | b"use" if opened => return true,
                b"type" => {}
                _ if opened => return false,
                _ => {}
            }
            i = s;
            continue;
        }
        if opened {
            match c {
                b':' if i >= 2 && text[i - 2] == b':' => return true,
                b',' => opened = false,
                _ => return false,
            }
            i -= 1;
            continue;
        }
        match c {
            b',' | b':' | b'*' => i -= 1,
            b'{' | b'(' => {
                opened = true;
                i -= 1;
            }
            b'}' | b')' | b'/' | b'#' => return true,
            _ => return false,
        }
    }
}

/// Whether `word` is at `i` as a whole identifier.
fn word_at(text: &[u8], i: usize, word: &[u8]) -> bool {
    text.get(i..).is_some_and(|t| t.starts_with(word)) && is_whole_word(text, i, i + word.len())
}

/// `i` moved past whitespace, line continuations and comments (`//`, `/* */`, and `#`
/// followed by a space: a `#name` is a private member); `None` past [`CHAIN_GROUP_LIMIT`]
/// bytes.
fn skip_blank(text: &[u8], mut i: usize) -> Option<usize> {
    let limit = text.len().min(i + CHAIN_GROUP_LIMIT);
    let window = |i: usize| &text[i.min(limit)..limit];
    while i < limit {
        match (text.get(i), text.get(i + 1)) {
            (Some(b), _) if b.is_ascii_whitespace() => i += 1,
            (Some(b'\\'), Some(b'\n' | b'\r')) => i += 2,
            (Some(b'/'), Some(b'/')) | (Some(b'#'), Some(b' ' | b'\t' | b'\n' | b'\r')) => {
                i = memchr::memchr(b'\n', window(i)).map_or(limit, |n| i + n)
            }
            (Some(b'/'), Some(b'*')) => {
                i = memchr::memmem::find(window(i + 2), b"*/").map_or(limit, |n| i + n + 4)
            }
            _ => return Some(i),
        }
    }
    (limit == text.len()).then_some(limit)
}

/// The end of the bracketed group opening at `open` (`(…)`, `[…]`, nested, with strings and
/// comments in it), or `None` past [`CHAIN_GROUP_LIMIT`] bytes or the end of the text.
fn skip_group(text: &[u8], open: usize) -> Option<usize> {
    let limit = text.len().min(open + CHAIN_GROUP_LIMIT);
    let mut depth = 0usize;
    let mut i = open;
    while i < limit {
        match text[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            q @ (b'"' | b'\'' | b'`') => {
                // A string to its closing quote; a `'` with none on its line is a Rust
                // lifetime or label.
                let mut j = i + 1;
                while j < limit && text[j] != q && !(q == b'\'' && text[j] == b'\n') {
                    j += if text[j] == b'\\' { 2 } else { 1 };
                }
                if j >= limit {
                    return None;
                }
                if text[j] == q {
                    i = j;
                }
            }
            b'/' | b'#' => {
                let j = skip_blank(text, i)?;
                if j > i {
                    i = j;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
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
        p.scan(text, true, true).rules
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
        assert_eq!(p.scan(b"azure region", true, true).gated_out, vec![(2, 0)]);
        assert_eq!(
            p.scan(b"AzureOpenAI().create()", true, true).gated_out,
            vec![(0, 1)]
        );
        assert_eq!(
            p.scan(b"azure key deadbeef", true, true).gated_out,
            vec![(0, 0), (2, 0)]
        );
        assert!(p
            .scan(b"azureopenai deadbeef create", true, true)
            .gated_out
            .is_empty());

        // Flow gates: every word of one set.
        let flow = with_rules(&[RuleKeys {
            any: vec!["log".into()],
            also: vec![],
            gates: vec![Some(Gate {
                groups: vec![],
                sets: vec![
                    WordSet {
                        words: vec!["chat".into(), "completions".into(), "create".into()],
                        chain: Chain::of("*.chat.completions.create"),
                    },
                    WordSet::of(vec!["summarize_note(".into()]),
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
        // The last two segments chained as a call spells them (`Chain::holds`), except in a
        // notebook's JSON (not verbatim).
        let text = b"create(x); log(chatty, c.chat.completions)";
        assert!(rules_for(&flow, text).is_empty());
        assert_eq!(flow.scan(text, false, true).rules, vec![0]);
        assert_eq!(
            rules_for(&flow, b"log(c?.chat\n  .completions::create::<T>())"),
            vec![0]
        );
    }

    #[test]
    fn a_chain_is_found_in_every_shape_a_call_name_can_come_from() {
        let chain = Chain::of("*.messages.create").unwrap();
        let holds = |text: &str| chain.holds(text.as_bytes());
        // Member chains, with what a frontend skips between the links.
        for text in [
            "client.messages.create(x)",
            "client?.messages?.create(x)",
            "client.messages!.create(x)",
            "client.messages(x).create()",
            "client.messages(f(\"(\"), [1, 2]).create()",
            "client.messages[0].create()",
            "client.messages()?.create()",
            "r = (client.messages  # c\n     .create(x))",
            "r = client.messages \\\n    .create(x)",
            "client.messages // c\n  /* d */ .create(x)",
            "client.messages\n\t.create(x)",
            "Messages::messages::create(x)",
            "client->messages->create(x)",
            "client.<T>messages().<U>create()",
            "use x::messages::{stream, create};",
            // Type arguments admit the text unexamined.
            "client.messages<T>().create()",
            // An argument list the scan cannot close admits it too: past the limit, or
            // through the end of the text.
            "client.messages(\"unclosed).create()",
            &format!("client.messages({}).update()", "x, ".repeat(4000)),
        ] {
            assert!(holds(text), "{text}");
        }
        // Import paths: `from x.messages import create`, a module named `….messages`.
        assert!(holds(
            "from anthropic.resources.messages import create, stream"
        ));
        assert!(holds("import { create } from './api.messages'"));
        // Aliases: the tail follows the new name.
        assert!(holds(
            "from anthropic.resources import messages as m\nm.create(x)"
        ));
        assert!(holds(
            "import { messages as m } from 'x';\nawait m.create(x);"
        ));
        assert!(holds("const { messages: m } = require('x');\nm.create(x);"));
        assert!(holds("using M = Anthropic.messages;\nM.create(x);"));
        // The words elsewhere, apart.
        for text in [
            "messages.push(x); Object.create(y)",
            "const messages = []; create(messages)",
            "messages\ncreate",
            "messages = create_all()",
            "x.messages.created()",
            "x.allmessages.create()",
            "messages;\nfoo.create()",
            "messages(x) + create(y)",
            "\"messages\" and 'create'",
            "import { create } from 'x/messages'",
            "from x import messages as m\nm.update(create)",
            "messages.length; create.call()",
        ] {
            assert!(!holds(text), "{text}");
        }
        // A rooted chain (the whole name has two segments): the head may be a module's name.
        let rooted = Chain::of("ai.generateText").unwrap();
        assert_eq!(rooted.head.as_deref(), Some("ai"));
        assert!(rooted.rooted);
        assert!(rooted.holds(b"import { generateText } from 'ai'"));
        assert!(rooted.holds(b"const { generateText } = require(\"ai\")"));
        assert!(rooted.holds(b"import * as ai from 'ai'; ai.generateText()"));
        assert!(!rooted.holds(b"const ai = 1; generateText()"));
        assert!(!chain.holds(b"import { create } from 'messages'"));
        // A pattern of one segment, or whose last is not plain, has no chain.
        for p in ["ChatCompletionsOptions", "*", "*.chat.*"] {
            assert_eq!(Chain::of(p), None, "{p}");
        }
    }

    #[test]
    fn a_chain_scan_is_bounded_and_admits_what_it_cannot_follow() {
        let chain = Chain::of("*.messages.create").unwrap();
        // Each occurrence is looked at, up to a limit: then the text is admitted.
        let few = "messages;\n".repeat(CHAIN_OCCURRENCE_LIMIT);
        assert!(!chain.holds(few.as_bytes()));
        let many = "messages;\n".repeat(CHAIN_OCCURRENCE_LIMIT + 1);
        assert!(chain.holds(many.as_bytes()));
        // A comment longer than a group's limit is not read to its end.
        let long = "x".repeat(CHAIN_GROUP_LIMIT);
        assert!(chain.holds(format!("messages /* {long} */ + create").as_bytes()));
        assert!(!chain.holds(b"messages /* short */ + create"));
        let invoke = Chain::of("*.invoke").unwrap();
        assert!(invoke.holds(format!("may invoke /* {long} */ y").as_bytes()));
        assert!(!invoke.holds(b"may invoke /* short */ y"));
        // A file repeating a shape the scan must follow to its end finishes: each
        // occurrence is followed at most a group's length.
        let hostile = "z invoke // ".repeat(300_000);
        assert!(invoke.holds(hostile.as_bytes()));
        let hostile = "messages /* ".repeat(300_000);
        assert!(chain.holds(hostile.as_bytes()));
        // A long list that is no import's: each occurrence walks back a group's length at most,
        // and past the occurrence limit the text is admitted.
        let hostile = format!("x = [{}]", "a, invoke, ".repeat(300_000));
        assert!(invoke.holds(hostile.as_bytes()));
        assert!(!invoke.holds(format!("x = [{}]", "a, invoke, ".repeat(100)).as_bytes()));
    }

    #[test]
    fn a_chain_without_a_head_needs_its_tail_as_a_member_or_an_imported_name() {
        for p in ["*.invoke", "langchain*.invoke", "semantic_kernel.*.invoke"] {
            let chain = Chain::of(p).unwrap();
            assert_eq!((chain.head.as_deref(), chain.rooted), (None, false), "{p}");
        }
        let chain = Chain::of("*.invoke").unwrap();
        let holds = |text: &str| chain.holds(text.as_bytes());
        for text in [
            "chain.invoke(x)",
            "chain?.invoke(x)",
            "chain\n  .invoke(x)",
            "chain. \\\n invoke(x)",
            "Runner::invoke(x)",
            "runner->invoke(x)",
            "runner.<T>invoke(x)",
            "from langchain_core.runnables import invoke",
            "from m import (a, invoke)",
            "from m import (\n    # the call\n    invoke\n)",
            "import { invoke } from '@tauri-apps/api/core'",
            "import {\n  // the call\n  invoke,\n} from 'x'",
            "import { invoke as call } from 'x'",
            "const { invoke: call } = require('x')",
            "use tauri::invoke;",
            // Import lists: past other names, aliases, a default import, `type`, a comment.
            "from m import a, invoke",
            "import Default, { a, invoke } from 'x'",
            "import type { invoke } from 'x'",
            "export { a as b, invoke } from 'x'",
            "const { a: b, invoke } = await import('x')",
            "let {\n  a,\n  invoke\n} = require('x')",
            "use tauri::{api, invoke};",
            "use tauri::{api::{x, y}, invoke};",
            "from m import (  # noqa\n    a,\n    invoke,\n)",
        ] {
            assert!(holds(text), "{text}");
        }
        for text in [
            "// may invoke `__format__`",
            "Failed to invoke `uv`",
            "fn invoke(&self) {}",
            "def invoke(self):",
            "invoke(x)",
            "self.invoked()",
            "x.reinvoke()",
            "invoke :: a",
            // Lists and blocks that import nothing: prose, a block, an object, arguments.
            "// 2. If it is a descriptor, invoke its `__get__` method.",
            "function f(g) {\n  invoke('next', g);\n}",
            "const handlers = { a, invoke };",
            "run(a, invoke)",
            "x = [a, invoke]",
            "f({ a: 1, invoke: 2 })",
        ] {
            assert!(!holds(text), "{text}");
        }
    }

    #[test]
    fn probes_answer_from_the_same_pass() {
        let keys = [RuleKeys {
            any: vec!["log".into()],
            ..RuleKeys::default()
        }];
        let sets = [
            WordSet::of(vec!["chat".into(), "create".into()]),
            WordSet::of(vec!["summarize(".into()]),
        ];
        let p = Prefilter::new(&keys, &sets, false);
        let scan = |p: &Prefilter, text: &[u8]| {
            let s = p.scan(text, true, true);
            (s.rules, s.probed)
        };
        // With their case, as whole identifiers.
        assert_eq!(scan(&p, b"log(chat.create())"), (vec![0], true));
        assert_eq!(scan(&p, b"log(chat.Create())"), (vec![0], false));
        assert_eq!(scan(&p, b"chat only"), (vec![], false));
        assert_eq!(scan(&p, b"x = summarize(y)"), (vec![], true));
        assert_eq!(scan(&p, b"x = resummarize(y)"), (vec![], false));
        assert!(!p.scan(b"x = summarize(y)", true, false).probed);
        assert_eq!(scan(&with_rules(&keys), b"nothing"), (vec![], true));
        // And their chains.
        let chained = Prefilter::new(
            &keys,
            &[WordSet {
                words: vec!["chat".into(), "create".into()],
                chain: Chain::of("*.chat.create"),
            }],
            false,
        );
        assert!(scan(&chained, b"c.chat.create()").1);
        assert!(!scan(&chained, b"chat = create()").1);
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
