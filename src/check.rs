//! The checker: runs the pipeline over candidate files in parallel and builds a [`Report`].
//!
//! Per file: read → size / binary / minified checks → keyword prefilter → parse (only when
//! a rule survived the prefilter) → facts → match → suppress → position. A panic while
//! checking one file becomes an `internal-error` note for that file; the run goes on.
//! Results are sorted so output is identical across runs and thread counts.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::diagnostic::{Finding, Hit, Locator, Note, Report};
use crate::engine::{
    self,
    prefilter::{Prefilter, RuleKeys, WordSet},
    FileCtx, Project,
};
use crate::facts::Lang;
use crate::lang;
use crate::rule::Catalog;
use crate::settings::Settings;
use crate::source::{self, LineIndex};
use crate::suppress;

/// A file to check: where it is, how to show its path, and optionally its content (staged
/// blobs come from git's index, not the work tree).
#[derive(Clone, Debug)]
pub struct Input {
    pub path: PathBuf,
    /// How the path is shown ([`Input::display`]) when that is not the end of `path`.
    shown: Option<Box<str>>,
    /// Otherwise, the bytes of `path` before the shown part.
    skip: u32,
    pub content: Option<Vec<u8>>,
    pub explicit: bool,
}

impl Input {
    /// A file shown as `display`.
    pub fn new(path: PathBuf, display: &str, content: Option<Vec<u8>>, explicit: bool) -> Input {
        let mut input = Input {
            path,
            shown: None,
            skip: 0,
            content,
            explicit,
        };
        input.set_display(display);
        input
    }

    /// A file shown relative to `cwd` ([`display_path`]). Most files are shown as the end of
    /// their path, and keep no second copy of it: on a tree of 100k files that is 8 MB held to
    /// the end of the run, and 37k allocations before the first file is read.
    pub fn at(path: PathBuf, cwd: &Path, explicit: bool) -> Input {
        let shown = display_of(&path, cwd);
        let shown = if shown.is_empty() { ".".into() } else { shown };
        let skip = end_of(&path, &shown);
        let shown = skip.is_none().then(|| shown.into());
        Input {
            path,
            shown,
            skip: skip.unwrap_or(0),
            content: None,
            explicit,
        }
    }

    /// How the file's path is shown in findings and notes.
    pub fn display(&self) -> &str {
        match (&self.shown, self.path.to_str()) {
            (Some(s), _) => s,
            (None, Some(full)) => &full[self.skip as usize..],
            (None, None) => "",
        }
    }

    /// Shows the file as `display` from now on.
    pub fn set_display(&mut self, display: &str) {
        let skip = end_of(&self.path, display);
        self.shown = skip.is_none().then(|| display.into());
        self.skip = skip.unwrap_or(0);
    }
}

/// Where `shown` starts in `path`, when it is the path's (UTF-8) end.
fn end_of(path: &Path, shown: &str) -> Option<u32> {
    let full = path.to_str()?;
    (!shown.is_empty() && full.ends_with(shown))
        .then(|| u32::try_from(full.len() - shown.len()).ok())
        .flatten()
}

/// What one pass over the files asks of each.
struct Pass<'p> {
    /// Which rules may match a file.
    prefilter: &'p Prefilter,
    /// When set, a code file holding one of these word sets is asked for its content
    /// functions. They are `prefilter`'s probes too ([`Checker::prefilter_with`]): its scan
    /// tells which files hold them.
    content_triggers: Option<&'p Words>,
    /// When set, only files holding one of these words are checked (the others are left
    /// out of the pass's result).
    only_with: Option<&'p Mention>,
}

/// Sets of words a file may hold ([`WordSet`]: every word of one set as a whole identifier,
/// case and all, and the set's chain). A [`Prefilter`] with them as its probes answers
/// [`Words::is_match`], so a set holds here as it does in a gate; it is built on first use, as
/// a pass whose prefilter already probes for these sets never asks.
struct Words {
    /// The sets as given, for [`Prefilter::new`].
    given: Vec<WordSet>,
    many: bool,
    probe: std::sync::OnceLock<Prefilter>,
}

impl Words {
    /// `many`: as for [`Prefilter::new`].
    fn new(sets: &[WordSet], many: bool) -> Option<Words> {
        (!sets.is_empty()).then(|| Words {
            given: sets.to_vec(),
            many,
            probe: Default::default(),
        })
    }

    /// `verbatim`: as for [`Prefilter::scan`].
    fn is_match(&self, text: &[u8], verbatim: bool) -> bool {
        self.probe
            .get_or_init(|| Prefilter::new(&[], &self.given, self.many))
            .scan(text, verbatim, true)
            .probed
    }
}

/// Names of functions looked for where a call to them may be: as whole identifiers (not
/// inside a longer one: [`crate::engine::prefilter::is_whole_word`]) followed by what opens a call's arguments or type arguments (`(`,
/// `<`, `[`, `::`, `?.`, `!`, `{`, a template's backquote; whitespace allowed between), or
/// after `@` (a decorator) or `new`. The flow analysis uses a content function only where it
/// is called (`flow::returns_content`), so a file that only names one elsewhere — in a comment,
/// a string, a definition's docs — gets the same findings whatever the names are.
///
/// The automaton reports leftmost-longest matches without overlaps: a name hidden by a longer
/// one starting at the same place, or starting inside it, is never a whole identifier there
/// unless the longer one is too (a `#private` name), and then both end at the same place.
struct Mention(aho_corasick::AhoCorasick);

impl Mention {
    /// The files a later round reads again are searched (those the first pass parsed, or
    /// recorded [`mentions`] for, only when they may call a new name): a DFA, leftmost-longest.
    fn new(names: &mut dyn Iterator<Item = &String>) -> Option<Mention> {
        aho_corasick::AhoCorasickBuilder::new()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(names)
            .ok()
            .map(Mention)
    }

    fn is_match(&self, text: &[u8]) -> bool {
        use crate::engine::prefilter::{is_ident_byte, is_whole_word};
        self.0.find_iter(text).any(|m| {
            if !is_whole_word(text, m.start(), m.end()) {
                return false;
            }
            let next = text[m.end()..]
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .copied();
            if next.is_some_and(|b| CALL_OPENERS.contains(&b)) {
                return true;
            }
            let head = text[..m.start()].trim_ascii_end();
            head.ends_with(b"@")
                || (head.ends_with(b"new")
                    && !head[..head.len() - 3]
                        .last()
                        .copied()
                        .is_some_and(is_ident_byte))
        })
    }
}

/// Bytes after which [`Mention`] takes a name for a call: what opens its arguments or type
/// arguments.
const CALL_OPENERS: &[u8; 8] = b"(<[:?!{`";

/// Whether `name` is spelled only with identifier bytes, after an optional `#`: the names
/// [`mentions`] covers.
fn plain_name(name: &str) -> bool {
    let rest = name.strip_prefix('#').unwrap_or(name);
    !rest.is_empty() && rest.bytes().all(crate::engine::prefilter::is_ident_byte)
}

/// The names [`Mention::is_match`] could find in `text`, hashed ([`name_hash`]), sorted: every
/// whole identifier (and `#identifier`) followed, past whitespace, by one of [`CALL_OPENERS`],
/// or preceded, past whitespace, by `@` or the word `new`. For a [`plain_name`] the search finds
/// in `text`, its hash is among these (more are, which only costs a needless check). A code
/// file the first pass does not parse records them, so a later round reads again only the
/// files that may call one of its new content functions, not every such file.
fn mentions(text: &[u8]) -> Vec<u32> {
    use crate::engine::prefilter::is_ident_byte;
    let mut out = Vec::new();
    let mut push = |s: usize, e: usize| {
        if s >= e {
            return;
        }
        out.push(name_hash(&text[s..e]));
        if s > 0 && text[s - 1] == b'#' {
            out.push(name_hash(&text[s - 1..e]));
        }
    };
    // A name ending where whitespace and then a call opener follow.
    let opened = |j: usize| {
        let e = text[..j].trim_ascii_end().len();
        let s = text[..e]
            .iter()
            .rposition(|&b| !is_ident_byte(b))
            .map_or(0, |i| i + 1);
        (s, e)
    };
    // A name starting past whitespace from `j` (after `@` or `new`), or past a `#` there.
    let after = |j: usize| {
        let mut s = j + text[j..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        if text.get(s) == Some(&b'#') {
            s += 1;
        }
        let e = s + text[s..].iter().take_while(|&&b| is_ident_byte(b)).count();
        (s, e)
    };
    let [o1, o2, o3, o4, o5, o6, o7, o8] = *CALL_OPENERS;
    for j in memchr::memchr3_iter(o1, o2, o3, text)
        .chain(memchr::memchr3_iter(o4, o5, o6, text))
        .chain(memchr::memchr2_iter(o7, o8, text))
    {
        let (s, e) = opened(j);
        push(s, e);
    }
    for j in memchr::memchr_iter(b'@', text) {
        let (s, e) = after(j + 1);
        push(s, e);
    }
    for j in memchr::memmem::find_iter(text, b"new") {
        let bounded_left = j == 0 || !is_ident_byte(text[j - 1]);
        let bounded_right = text.get(j + 3).is_none_or(|&b| !is_ident_byte(b));
        if bounded_left && bounded_right {
            let (s, e) = after(j + 3);
            push(s, e);
        }
    }
    out.sort_unstable();
    out.dedup();
    out.shrink_to_fit();
    out
}

/// The outcome for one file.
#[derive(Default)]
struct FileResult {
    findings: Vec<Finding>,
    notes: Vec<Note>,
    /// Project variables this file sets, with their values (only when asked for).
    env: Vec<(String, Option<String>)>,
    /// Functions of this file that return LLM content (only when asked for).
    content_fns: Vec<String>,
    /// The names this code file calls or may call, when the first pass recorded them and
    /// later rounds may follow: a later round changes a file's result only through calls to
    /// the new content functions ([`recheck`]). Only carried from `check_one` to its worker,
    /// which moves it into the pass's [`CallRecords`].
    called: Option<Called>,
}

/// What the first pass recorded of the names a code file calls, hashed ([`name_hash`]).
enum Called {
    /// Parsed: each callee's last segment (how the flow analysis resolves content functions).
    Parsed(Vec<u32>),
    /// Not parsed, once content functions were being found: every name the later rounds'
    /// text search may find in it ([`mentions`]).
    Mentioned(Vec<u32>),
    /// Not parsed, before that: searched for the first this many content functions the
    /// pass found ([`Early`]) and none found; a later round reads it again only for others.
    Searched(u32),
}

impl FileResult {
    fn is_empty(&self) -> bool {
        self.findings.is_empty()
            && self.notes.is_empty()
            && self.env.is_empty()
            && self.content_fns.is_empty()
            && self.called.is_none()
    }
}

/// Whether a file of `lang` spells its code as written, so the prefilter looks for a seed's
/// chain in it ([`Prefilter::scan`]): not a notebook, whose JSON splits the code into strings
/// and escapes its quotes.
fn spells_code(lang: Lang) -> bool {
    lang != Lang::Notebook
}

/// The hash [`CallRecords`] keeps of a name: eight bytes
/// at a time (the first pass hashes every identifier in a call position of the files it does
/// not parse). A collision only makes a later round check a file again for nothing.
fn name_hash(name: impl AsRef<[u8]>) -> u32 {
    let name = name.as_ref();
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = name.len() as u64;
    let mut chunks = name.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or_default());
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let mut w = 0u64;
    for (i, &b) in chunks.remainder().iter().enumerate() {
        w |= u64::from(b) << (8 * i);
    }
    h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    // 32 bits: a file keeps one per name it calls, held to the end of the run.
    ((h ^ (h >> 29)) >> 32) as u32
}

/// What the first pass recorded of every code file's calls ([`Called`]), kept compact: each
/// file's hashes in one shared list, and a 16-byte entry per file, sorted by file. On four
/// copies of the dense benchmark tree (64k code files, 1.8M names) a `Vec` per file and a
/// result per file held 30 MB to the end of the run; this holds 8.
#[derive(Default)]
struct CallRecords {
    /// By file index: where the file's hashes start in `hashes`, how many, and which kind
    /// (for [`Called::Searched`], `len` is the count of names searched for).
    files: Vec<CallRecord>,
    hashes: Vec<u32>,
}

#[derive(Clone, Copy)]
struct CallRecord {
    file: u32,
    start: u32,
    len: u32,
    kind: CalledKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CalledKind {
    Parsed,
    Mentioned,
    Searched,
}

impl CallRecords {
    fn push(&mut self, file: usize, called: Called) {
        let (kind, len, hashes) = match called {
            Called::Parsed(h) => (CalledKind::Parsed, h.len() as u32, h),
            Called::Mentioned(h) => (CalledKind::Mentioned, h.len() as u32, h),
            Called::Searched(n) => (CalledKind::Searched, n, Vec::new()),
        };
        self.files.push(CallRecord {
            file: file as u32,
            start: self.hashes.len() as u32,
            len,
            kind,
        });
        self.hashes.extend(hashes);
    }

    /// Adds `other`'s records (another worker's) and keeps the entries sorted by file.
    fn merge(&mut self, mut other: CallRecords) {
        let shift = self.hashes.len() as u32;
        for r in &mut other.files {
            if r.kind != CalledKind::Searched {
                r.start += shift;
            }
        }
        self.hashes.append(&mut other.hashes);
        self.files.append(&mut other.files);
        self.files.sort_unstable_by_key(|r| r.file);
    }

    fn get(&self, file: usize) -> Option<(CalledKind, u32, &[u32])> {
        let k = self
            .files
            .binary_search_by_key(&(file as u32), |r| r.file)
            .ok()?;
        let r = self.files[k];
        let hashes = match r.kind {
            CalledKind::Searched => &[][..],
            _ => &self.hashes[r.start as usize..(r.start + r.len) as usize],
        };
        Some((r.kind, r.len, hashes))
    }
}

/// The files of `order` a later round must check again for `names` (new content functions):
/// those whose first pass recorded a call to one of them, or a possible mention of one (all
/// of those when a name is not a [`plain_name`], which [`mentions`] does not cover), and those
/// it recorded nothing for (the round's text search decides).
fn recheck(
    order: &[usize],
    called: &CallRecords,
    early: &[String],
    names: &mut dyn Iterator<Item = &String>,
) -> Vec<usize> {
    let mut plain = true;
    // A file searched for the first `n` early names needs reading again when a name is not
    // among them.
    let position: HashMap<&str, usize> = early
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut beyond = 0;
    let wanted: std::collections::HashSet<u32> = names
        .map(|n| {
            plain &= plain_name(n);
            beyond = beyond.max(position.get(n.as_str()).map_or(usize::MAX, |&i| i + 1));
            name_hash(n)
        })
        .collect();
    let holds = |hashes: &[u32]| hashes.iter().any(|h| wanted.contains(h));
    order
        .iter()
        .copied()
        .filter(|&i| match called.get(i) {
            Some((CalledKind::Parsed, _, c)) => holds(c),
            Some((CalledKind::Mentioned, _, m)) => !plain || holds(m),
            Some((CalledKind::Searched, n, _)) => beyond > n as usize,
            None => true,
        })
        .collect()
}

/// Checks inputs with the given rules and settings.
pub struct Checker<'a> {
    pub catalog: &'a Catalog,
    pub settings: &'a Settings,
    pub active: Vec<usize>,
    pub project: Project,
    /// The roots named on the command line (absolute): rule path filters
    /// (`exclude-paths`) see paths relative to their root, so a `tests/` folder above the
    /// project, or named as the root, never matches.
    pub roots: Vec<PathBuf>,
    /// Built by [`Checker::gather_project`] for the inputs it sees, or on first use.
    prefilter: std::sync::OnceLock<Prefilter>,
    /// Variables an active rule asks about (`unless-project-sets`) still to be gathered
    /// while the config files are checked (see [`Checker::gather_project`]).
    deferred: Vec<String>,
    /// Worker threads for the project pre-pass (`run` takes its own count).
    pub threads: usize,
    /// The LLM-call words that make a code file worth asking for content functions, when
    /// `run` finds them in the same pass as the check (every input is checked): each file is
    /// then parsed once, not once for the pre-pass and again for the check.
    inline_flow: Option<Words>,
    /// `PHI_LINT_PROFILE` is set: each parse is reported on stderr (see `bench/README.md`).
    profile: bool,
    /// Many files are checked: the prefilter is worth compiling to a DFA.
    many: bool,
    /// The content functions the first pass has found so far, and the search for them.
    early: std::sync::RwLock<Early>,
    /// How many (the length of `early`'s names, read without the lock for every file). From
    /// [`MANY_CONTENT_FNS`] on, a code file it does not parse records what a later round would
    /// search it for ([`mentions`]).
    found_content: AtomicUsize,
    /// Which files a later round may change ([`Checker::later_round_may_change`]).
    flow_rule_excludes: FlowRuleExcludes,
}

/// The `exclude-paths` of every match of the active rules that have a flow match. A later
/// round changes only what those rules run (content functions widen their second keyword
/// group and their flow gates) and which content functions a file exports (flow matches): a
/// file all of them exclude keeps its first result.
enum FlowRuleExcludes {
    NoFlow,
    /// A match of such a rule excludes no path.
    Unexcluded,
    /// Each distinct set once (the rules' shared test-code globs are one set).
    Sets(Vec<std::sync::Arc<globset::GlobSet>>),
}

impl FlowRuleExcludes {
    fn of(catalog: &Catalog, active: &[usize]) -> FlowRuleExcludes {
        let mut sets: Vec<std::sync::Arc<globset::GlobSet>> = Vec::new();
        let matches = active
            .iter()
            .map(|&i| &catalog.rules[i].matches)
            .filter(|ms| ms.iter().any(|m| m.is_flow()))
            .flatten();
        for m in matches {
            match &m.exclude_paths {
                None => return FlowRuleExcludes::Unexcluded,
                Some(p) if !sets.iter().any(|s| std::sync::Arc::ptr_eq(s, p)) => {
                    sets.push(p.clone())
                }
                Some(_) => {}
            }
        }
        if sets.is_empty() {
            FlowRuleExcludes::NoFlow
        } else {
            FlowRuleExcludes::Sets(sets)
        }
    }
}

/// The content functions the first pass has found, in the order found, and, until there are
/// [`MANY_CONTENT_FNS`], the search for them. A code file the pass does not parse is searched
/// as it is read (few names: the automaton skips to their rare bytes), so a later round reads
/// again only the files read before a name was found: on a tree with a single content function
/// (the sparse benchmark tree), reading every code file twice cost 0.1 s of 0.8.
#[derive(Default)]
struct Early {
    names: Vec<String>,
    search: Option<std::sync::Arc<Mention>>,
}

/// From this many content functions found in the first pass on, a file it does not parse
/// records its [`mentions`]; before, it is searched for the names found so far ([`Early`]).
/// With few names the search is fast (the automaton skips to rare bytes) and costs less than
/// scanning every file for identifiers (the sparse benchmark tree: 3.7% slower when recording
/// from the first name); with hundreds it is a DFA over every byte, and the files read before
/// the last name was found would be read again anyway (dense: 0.12 s).
const MANY_CONTENT_FNS: usize = 8;

/// From this many inputs on, the prefilter is compiled to a DFA (see [`Prefilter::new`]).
const MANY_INPUTS: usize = 64;

/// Lines longer than this in a JS file mark it as minified.
const MINIFIED_LINE: usize = 5_000;

/// Files of this many bytes or more are checked one at a time (see `check_one`).
const BIG_FILE: usize = 1 << 20;
static BIG_FILES: Mutex<()> = Mutex::new(());

impl<'a> Checker<'a> {
    pub fn new(catalog: &'a Catalog, settings: &'a Settings, active: Vec<usize>) -> Checker<'a> {
        Checker {
            flow_rule_excludes: FlowRuleExcludes::of(catalog, &active),
            catalog,
            settings,
            prefilter: std::sync::OnceLock::new(),
            active,
            project: Project::default(),
            deferred: Vec::new(),
            roots: Vec::new(),
            threads: 1,
            inline_flow: None,
            profile: std::env::var_os("PHI_LINT_PROFILE").is_some(),
            many: false,
            found_content: Default::default(),
            early: Default::default(),
        }
    }

    /// How many content functions the first pass has found so far, and the search for them
    /// (`None` before the first one, or once there are many).
    fn early_search(&self) -> Option<(u32, std::sync::Arc<Mention>)> {
        let early = self.early.read().unwrap_or_else(|e| e.into_inner());
        let search = early.search.clone()?;
        Some((early.names.len() as u32, search))
    }

    /// Adds content functions the first pass found to [`Early`].
    fn publish(&self, names: &[String]) {
        let mut early = self.early.write().unwrap_or_else(|e| e.into_inner());
        let before = early.names.len();
        for n in names {
            if !early.names.contains(n) {
                early.names.push(n.clone());
            }
        }
        if early.names.len() > before {
            early.search = (early.names.len() < MANY_CONTENT_FNS)
                .then(|| Mention::new(&mut early.names.iter()).map(std::sync::Arc::new))
                .flatten();
            self.found_content
                .store(early.names.len(), Ordering::Relaxed);
        }
    }

    /// The variables active rules ask about with `unless-project-sets`.
    fn wanted(&self) -> Vec<String> {
        self.active
            .iter()
            .flat_map(|&i| {
                self.catalog.rules[i]
                    .matches
                    .iter()
                    .flat_map(|m| m.unless_project_sets.iter().map(|(n, _)| n.clone()))
            })
            .collect()
    }

    /// Collects project context (variables set in config and env files) from the inputs,
    /// when an active rule asks for it.
    ///
    /// When no config-file match depends on that context, and `run` will see the same inputs
    /// (`all_checked`), the work is deferred: `run` checks the config files first and reads
    /// the variables from the same read and parse, then checks the code files. Otherwise the
    /// config files are read here.
    pub fn gather_project(&mut self, inputs: &[Input], all_checked: bool) {
        self.many = inputs.len() >= MANY_INPUTS;
        if all_checked {
            // `run` sees the same files: it finds the content functions from the parse it
            // makes anyway (see `run_code`).
            self.inline_flow = self.content_triggers(inputs);
        } else {
            self.gather_content_functions(inputs);
        }
        self.gather_module_params(inputs);
        self.prefilter = std::sync::OnceLock::from(
            self.prefilter_with(&self.project.content_functions, self.inline_flow.as_ref()),
        );
        let wanted = self.wanted();
        if wanted.is_empty() {
            return;
        }
        let config_depends = self.active.iter().any(|&i| {
            self.catalog.rules[i].matches.iter().any(|m| {
                !m.unless_project_sets.is_empty() && m.languages.iter().any(|l| !l.is_code())
            })
        });
        if all_checked && !config_depends {
            self.deferred = wanted;
            return;
        }
        for input in inputs {
            let Some(lang) = lang::detect(&input.path) else {
                continue;
            };
            if lang.is_code() {
                continue;
            }
            let Some(text) = self.prepass_text(input, lang, |_| true) else {
                continue;
            };
            let mut found = Vec::new();
            collect_env(&wanted, lang, &text, None, &mut found);
            add_env(&mut self.project, found);
        }
    }

    /// IaC module calls (`module x 'core/ai/account.bicep' = { params: {...} }`): what each
    /// caller passes to each parameter of the module file, so a block attribute set from a
    /// parameter is judged by the callers' values, not by the parameter's default.
    fn gather_module_params(&mut self, inputs: &[Input]) {
        let block_rules = self.any_active(|m| matches!(m, crate::rule::Matcher::Block { .. }));
        if !block_rules {
            return;
        }
        for input in inputs {
            if lang::detect(&input.path) != Some(Lang::Bicep) {
                continue;
            }
            let Some(text) = self.prepass_text(input, Lang::Bicep, |b| contains(b, b"module"))
            else {
                continue;
            };
            let Ok(facts) = catch_unwind(AssertUnwindSafe(|| lang::extract(Lang::Bicep, &text)))
            else {
                continue;
            };
            let dir = input.path.parent().unwrap_or(Path::new("."));
            for e in &facts.config {
                let Some(module) = e
                    .key
                    .strip_prefix("module.")
                    .and_then(|k| k.strip_suffix(".source"))
                else {
                    continue;
                };
                let crate::facts::Value::Str(src) = &e.value else {
                    continue;
                };
                let Ok(target) = dir.join(src).canonicalize() else {
                    continue;
                };
                *self
                    .project
                    .module_callers
                    .entry(target.clone())
                    .or_default() += 1;
                let prefix = format!("module.{module}.params.");
                for p in facts.config.iter() {
                    let Some(param) = p.key.strip_prefix(&prefix) else {
                        continue;
                    };
                    if param.contains('.') {
                        continue;
                    }
                    let (v, _) = engine::resolve(&facts, &p.value, 0, usize::MAX);
                    let value = match v {
                        crate::facts::Value::Str(x) => Some(x.clone()),
                        crate::facts::Value::Bool(b) => Some(b.to_string()),
                        crate::facts::Value::Number(n) => Some(n.clone()),
                        _ => None,
                    };
                    self.project
                        .module_params
                        .entry((target.clone(), param.to_string()))
                        .or_default()
                        .push(value);
                }
            }
        }
    }

    /// The project pre-pass of the flow rules: which functions, anywhere in the checked files,
    /// return LLM content. Two rounds: files that call an LLM, then files that call one of the
    /// functions found (a service wrapping a provider). Only code files that mention an LLM call
    /// or one of those names are parsed.
    fn gather_content_functions(&mut self, inputs: &[Input]) {
        let Some(first) = self.content_triggers(inputs) else {
            return;
        };
        let mut found: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut triggers: Vec<WordSet> = Vec::new();
        let mut next_round = None;
        for round in 0..2 {
            let ac = if round == 0 {
                &first
            } else {
                match Words::new(&triggers, self.many) {
                    Some(a) => next_round.insert(a),
                    None => break,
                }
            };
            let before = found.len();
            // Files are independent: read and parse them on the worker threads; the result
            // is a set, so the order does not matter.
            let next = AtomicUsize::new(0);
            let shared: Mutex<std::collections::HashSet<String>> = Mutex::new(Default::default());
            let project = self.project.clone();
            let workers = self.threads.clamp(1, 64).min(inputs.len().max(1));
            let this: &Checker = self;
            std::thread::scope(|s| {
                for _ in 0..workers {
                    let (next, shared, ac, project) = (&next, &shared, &ac, &project);
                    let builder = std::thread::Builder::new().stack_size(lang::rust::WORKER_STACK);
                    builder
                        .spawn_scoped(s, move || {
                            lang::rust::mark_big_stack();
                            let mut local = Vec::new();
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                let Some(input) = inputs.get(i) else { break };
                                local.extend(this.content_functions_of(input, ac, project));
                            }
                            shared.lock().unwrap().extend(local);
                        })
                        .expect("spawn worker thread");
                }
            });
            found.extend(shared.into_inner().unwrap());
            self.project.content_functions = found.clone();
            if found.len() == before {
                break;
            }
            triggers = found
                .iter()
                .map(|n| WordSet::of(vec![format!("{n}(")]))
                .collect();
        }
    }

    /// Whether the functions of the file at `rel_path` (a rule path) may seed other files'
    /// flow: not when every active flow match excludes the file (test code: a mock that returns
    /// a canned completion says nothing about production callers of the same name).
    fn exports_content_functions(&self, rel_path: &str) -> bool {
        self.active.iter().any(|&i| {
            self.catalog.rules[i].matches.iter().any(|m| {
                m.is_flow()
                    && !m
                        .exclude_paths
                        .as_ref()
                        .is_some_and(|p| p.is_match(rel_path))
            })
        })
    }

    /// Whether a later round may change the result of the file at `rel_path` (a rule path): a
    /// match of a rule with a flow match may run there ([`FlowRuleExcludes`]).
    fn later_round_may_change(&self, rel_path: &str) -> bool {
        match &self.flow_rule_excludes {
            FlowRuleExcludes::NoFlow => false,
            FlowRuleExcludes::Unexcluded => true,
            FlowRuleExcludes::Sets(sets) => sets.iter().any(|p| !p.is_match(rel_path)),
        }
    }

    /// The words of the LLM calls (`llm-calls` in the knowledge file): a code file holding
    /// none of them defines no content function. `None` when no flow rule is active or a
    /// single file is checked (its own flow is analysed without a project pass).
    fn content_triggers(&self, inputs: &[Input]) -> Option<Words> {
        let flow_active = self.any_active(|m| matches!(m, crate::rule::Matcher::Flow { .. }));
        if !flow_active || inputs.len() < 2 {
            return None;
        }
        // A call matching `*.chat.completions.create` spells `chat`, `completions` and
        // `create` somewhere in the file (in the call, or where its receiver came from).
        let sets = crate::rule::flow_seed_sets(&self.catalog.knowledge);
        Words::new(&sets, self.many)
    }

    /// The prefilter with `names` (functions found to return LLM content) added to the
    /// second keyword group of the flow rules: a call to one seeds the flow like an LLM call.
    /// With `triggers` (the pass's content triggers), its scan also tells which files may hold
    /// them, so most files are not searched for them a second time.
    fn prefilter_with(
        &self,
        names: &std::collections::HashSet<String>,
        triggers: Option<&Words>,
    ) -> Prefilter {
        let keys: Vec<RuleKeys> = self
            .active
            .iter()
            .map(|&i| {
                let r = &self.catalog.rules[i];
                let mut keys = RuleKeys::of(r);
                if r.matches.iter().any(|m| m.is_flow()) && !keys.also.is_empty() {
                    keys.also.extend(names.iter().cloned());
                }
                // A call to a content function seeds the flow like an LLM call.
                for (gate, m) in keys.gates.iter_mut().zip(&r.matches) {
                    if let Some(gate) = gate.as_mut().filter(|g| m.is_flow() && !g.sets.is_empty())
                    {
                        gate.sets
                            .extend(names.iter().map(|n| WordSet::of(vec![n.clone()])));
                    }
                }
                keys
            })
            .collect();
        Prefilter::new(&keys, triggers.map_or(&[], |w| &w.given[..]), self.many)
    }

    /// The functions of one code file that return LLM content, when it mentions a trigger.
    fn content_functions_of(&self, input: &Input, ac: &Words, project: &Project) -> Vec<String> {
        let Some(lang) = lang::detect(&input.path) else {
            return Vec::new();
        };
        if !lang.is_code() {
            return Vec::new();
        }
        let verbatim = spells_code(lang);
        let Some(text) = self.prepass_text(input, lang, |b| ac.is_match(b, verbatim)) else {
            return Vec::new();
        };
        let rel_path = self.rule_path(input);
        if !self.exports_content_functions(&rel_path) {
            return Vec::new();
        }
        let k = &self.catalog.knowledge;
        catch_unwind(AssertUnwindSafe(|| {
            let facts = lang::extract(lang, &text);
            let ctx = FileCtx {
                abs_path: None,
                path: None,
                check_provider_code: &[],
                rel_path: &rel_path,
                lang,
                text: &text,
                facts: &facts,
                project,
                envelope: &self.settings.envelope,
                knowledge: k,
                gated_out: &[],
                analysis: None,
            };
            engine::flow::content_functions(&ctx)
        }))
        .unwrap_or_default()
    }

    /// The path rules filter on (`exclude-paths`): the part of the displayed path below the
    /// root it was found under, so folders above or naming the root never match.
    fn rule_path(&self, input: &Input) -> String {
        if let Ok(abs) = std::path::absolute(&input.path) {
            for root in &self.roots {
                let Ok(root) = std::path::absolute(root) else {
                    continue;
                };
                if let Ok(rel) = abs.strip_prefix(&root) {
                    return rel.to_string_lossy().replace('\\', "/");
                }
            }
        }
        input.display().to_string()
    }

    /// Whether an active rule has a match of this kind.
    fn any_active(&self, kind: impl Fn(&crate::rule::Matcher) -> bool) -> bool {
        self.active.iter().any(|&i| {
            self.catalog.rules[i]
                .matches
                .iter()
                .any(|m| kind(&m.matcher))
        })
    }

    /// A file's text for a project pre-pass: skipped (like the check skips it) when it cannot be
    /// read, is over the size limit, binary or minified, or when `wanted` rejects its bytes.
    fn prepass_text(
        &self,
        input: &Input,
        lang: Lang,
        wanted: impl Fn(&[u8]) -> bool,
    ) -> Option<String> {
        let bytes = read(input).ok()?;
        if bytes.len() as u64 > self.settings.max_filesize
            || source::looks_binary(&bytes)
            || self.is_minified(input, lang, &bytes)
            || !wanted(&bytes)
        {
            return None;
        }
        Some(source::decode_owned(bytes).text)
    }

    /// A minified or bundled JavaScript file, skipped unless vendored code is included.
    fn is_minified(&self, input: &Input, lang: Lang, bytes: &[u8]) -> bool {
        if self.settings.include_vendored || !matches!(lang, Lang::JavaScript | Lang::TypeScript) {
            return false;
        }
        let file_name = input
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        crate::discover::is_minified_name(file_name)
            || (bytes.len() > 20_000
                && bytes
                    .split(|&b| b == b'\n')
                    .any(|l| l.len() > MINIFIED_LINE))
    }

    /// Checks every input on `threads` workers.
    pub fn run(&self, inputs: &[Input], threads: usize) -> Report {
        let mut all = if self.deferred.is_empty() {
            let order: Vec<usize> = (0..inputs.len()).collect();
            self.run_code(inputs, &order, threads, &self.project)
        } else {
            // Config files first: their checks do not depend on the project context, and
            // they supply it for the code files.
            let (config, code): (Vec<usize>, Vec<usize>) = (0..inputs.len())
                .partition(|&i| lang::detect(&inputs[i].path).is_some_and(|l| !l.is_code()));
            let (mut first, _) = self.run_pool(
                inputs,
                &config,
                threads,
                &self.project,
                Some(&self.deferred),
                &self.first_pass(),
            );
            first.sort_by_key(|(i, _)| *i);
            let mut project = self.project.clone();
            for (_, r) in &mut first {
                add_env(&mut project, std::mem::take(&mut r.env));
            }
            let second = self.run_code(inputs, &code, threads, &project);
            first.extend(second);
            first
        };
        all.sort_by_key(|(i, _)| *i);
        let mut report = Report {
            files_scanned: inputs.len(),
            ..Report::default()
        };
        for (_, r) in all {
            report.findings.extend(r.findings);
            report.notes.extend(r.notes);
        }
        report.findings.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule, a.end_line, a.end_column).cmp(&(
                &b.path,
                b.line,
                b.column,
                &b.rule,
                b.end_line,
                b.end_column,
            ))
        });
        report.notes.sort();
        report.rules = self
            .active
            .iter()
            .map(|&i| self.catalog.rules[i].info.clone())
            .collect();
        report
    }

    /// The main pass: every file of `order` checked with the prefilter of the active rules,
    /// finding content functions on the way when that is left to `run`.
    fn first_pass(&self) -> Pass<'_> {
        Pass {
            prefilter: self
                .prefilter
                .get_or_init(|| self.prefilter_with(&Default::default(), None)),
            content_triggers: self.inline_flow.as_ref(),
            only_with: None,
        }
    }

    /// Checks the files of `order`, and finishes the project's content functions when `run`
    /// finds them (`inline_flow`), with the same result as the two-round pre-pass followed by
    /// a check:
    /// 1. every file is checked and, when it mentions an LLM call, asked which of its
    ///    functions return LLM content (round one of the pre-pass);
    /// 2. if any were found, the code files that mention one of their names are checked again
    ///    with them known, and asked again (round two), adding wrappers of wrappers;
    /// 3. if round two added names, the files that mention one of the added names are checked
    ///    once more with every name known.
    ///
    /// A file that mentions none of the names gets the same findings whatever the names are
    /// (the flow rules' keywords and the flow analysis only look for names in the file), so
    /// only files mentioning them are read again: on most trees none or few.
    fn run_code(
        &self,
        inputs: &[Input],
        order: &[usize],
        threads: usize,
        project: &Project,
    ) -> Vec<(usize, FileResult)> {
        let (mut results, called) =
            self.run_pool(inputs, order, threads, project, None, &self.first_pass());
        if self.inline_flow.is_none() {
            return results;
        }
        let mut found: std::collections::HashSet<String> = Default::default();
        for (_, r) in &mut results {
            found.extend(r.content_fns.drain(..));
        }
        if found.is_empty() {
            return results;
        }
        let code: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| lang::detect(&inputs[i].path).is_some_and(|l| l.is_code()))
            .collect();
        // A call resolves to a content function by its exact last name segment, so a file
        // "mentions" one only where the name occurs as a whole word, case and all.
        let names_ac = |names: &mut dyn Iterator<Item = &String>| Mention::new(names);
        let calls: Vec<WordSet> = found
            .iter()
            .map(|n| WordSet::of(vec![format!("{n}(")]))
            .collect();
        let (Some(calls), Some(mention)) =
            (Words::new(&calls, self.many), names_ac(&mut found.iter()))
        else {
            return results;
        };
        let mut second_project = project.clone();
        second_project.content_functions = found.clone();
        let prefilter = self.prefilter_with(&found, Some(&calls));
        let pass = Pass {
            prefilter: &prefilter,
            content_triggers: Some(&calls),
            only_with: Some(&mention),
        };
        let early =
            std::mem::take(&mut self.early.write().unwrap_or_else(|e| e.into_inner()).names);
        let (second, _) = self.run_pool(
            inputs,
            &recheck(&code, &called, &early, &mut found.iter()),
            threads,
            &second_project,
            None,
            &pass,
        );
        let mut all = found.clone();
        for (_, r) in &second {
            all.extend(r.content_fns.iter().cloned());
        }
        let mut replace: HashMap<usize, FileResult> = second.into_iter().collect();
        if all.len() != found.len() {
            if let Some(mention) = names_ac(&mut all.difference(&found)) {
                let mut third_project = project.clone();
                third_project.content_functions = all.clone();
                let prefilter = self.prefilter_with(&all, None);
                let pass = Pass {
                    prefilter: &prefilter,
                    content_triggers: None,
                    only_with: Some(&mention),
                };
                let code = recheck(&code, &called, &early, &mut all.difference(&found));
                let (third, _) = self.run_pool(inputs, &code, threads, &third_project, None, &pass);
                replace.extend(third);
            }
        }
        for (i, r) in &mut results {
            if let Some(mut again) = replace.remove(i) {
                again.content_fns.clear();
                *r = again;
            }
        }
        // Files whose first result was empty (left out of `results`).
        results.extend(replace.into_iter().map(|(i, mut r)| {
            r.content_fns.clear();
            (i, r)
        }));
        results
    }

    /// Checks `inputs[i]` for each `i` in `order` on `threads` workers, with `project` as
    /// the project context; `env` asks for the variables of that list set in each file.
    /// Files that `pass.only_with` rejects are left out of the result, and so are files with
    /// an empty result when there is no `pass.only_with` (a first pass). What the first pass
    /// records of the files' calls comes back apart, compact ([`CallRecords`]).
    fn run_pool(
        &self,
        inputs: &[Input],
        order: &[usize],
        threads: usize,
        project: &Project,
        env: Option<&[String]>,
        pass: &Pass,
    ) -> (Vec<(usize, FileResult)>, CallRecords) {
        let later_round = pass.only_with.is_some();
        let next = AtomicUsize::new(0);
        // Only the files with something to tell: most files of a tree have nothing.
        let results: Mutex<Vec<(usize, FileResult)>> = Mutex::new(Vec::new());
        let records: Mutex<CallRecords> = Mutex::default();
        let threads = threads.clamp(1, 64).min(order.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..threads {
                let builder = std::thread::Builder::new().stack_size(lang::rust::WORKER_STACK);
                let next = &next;
                let results = &results;
                let records = &records;
                builder
                    .spawn_scoped(s, move || {
                        lang::rust::mark_big_stack();
                        let mut local = Vec::new();
                        let mut local_records = CallRecords::default();
                        loop {
                            let k = next.fetch_add(1, Ordering::Relaxed);
                            if k >= order.len() {
                                break;
                            }
                            let i = order[k];
                            let input = &inputs[i];
                            let r = catch_unwind(AssertUnwindSafe(|| self.check_one(input, project, env, pass))).unwrap_or_else(|p| {
                                let what = p
                                    .downcast_ref::<&str>()
                                    .map(|s| s.to_string())
                                    .or_else(|| p.downcast_ref::<String>().cloned())
                                    .unwrap_or_else(|| "panic".into());
                                Some(FileResult {
                                    notes: vec![Note { path: input.display().to_string(), message: format!("internal-error: phi-lint failed on this file ({what}); please report it"), internal: true }],
                                    ..FileResult::default()
                                })
                            });
                            // In a first pass a file with nothing to tell is left out (a
                            // result per file would be held to the end of the run); a later
                            // round's empty result replaces the first one.
                            let Some(mut r) = r else { continue };
                            if let Some(c) = r.called.take() {
                                local_records.push(i, c);
                            }
                            if later_round || !r.is_empty() {
                                local.push((i, r));
                            }
                        }
                        results.lock().unwrap().append(&mut local);
                        records.lock().unwrap().merge(local_records);
                    })
                    .expect("spawn worker thread");
            }
        });
        (results.into_inner().unwrap(), records.into_inner().unwrap())
    }

    fn check_one(
        &self,
        input: &Input,
        project: &Project,
        env: Option<&[String]>,
        pass: &Pass,
    ) -> Option<FileResult> {
        if cfg!(debug_assertions)
            && std::env::var_os("PHI_LINT_TEST_PANIC_ON")
                .is_some_and(|v| input.path.file_name() == Some(v.as_os_str()))
        {
            panic!("test panic requested by PHI_LINT_TEST_PANIC_ON"); // debug builds only: tests/integration/hostile.rs
        }
        let mut out = FileResult::default();
        let note = |out: &mut FileResult, m: String| {
            out.notes.push(Note {
                path: input.display().to_string(),
                message: m,
                internal: false,
            })
        };
        let Some(lang) = lang::detect(&input.path) else {
            return Some(out);
        };
        // A file no later round can change (test code, most of a large tree) is not read again.
        if pass.only_with.is_some() && !self.later_round_may_change(&self.rule_path(input)) {
            return None;
        }
        // One open, one fstat and one read per file; the size limit is checked before reading.
        let bytes = match &input.content {
            Some(c) => c.clone(),
            None => match read_limited(&input.path, self.settings.max_filesize) {
                Ok(Ok(b)) => b,
                Ok(Err(len)) => {
                    note(
                        &mut out,
                        format!(
                            "skipped: {len} bytes is over the {}-byte limit (--max-filesize)",
                            self.settings.max_filesize
                        ),
                    );
                    return Some(out);
                }
                Err(e) => {
                    note(&mut out, format!("skipped: cannot read: {e}"));
                    return Some(out);
                }
            },
        };
        if bytes.len() as u64 > self.settings.max_filesize {
            note(
                &mut out,
                format!(
                    "skipped: {} bytes is over the {}-byte limit (--max-filesize)",
                    bytes.len(),
                    self.settings.max_filesize
                ),
            );
            return Some(out);
        }
        if source::looks_binary(&bytes) {
            if input.explicit {
                note(&mut out, "skipped: binary file".into());
            }
            return Some(out);
        }
        if self.is_minified(input, lang, &bytes) {
            note(
                &mut out,
                "skipped: minified or bundled file (--include-vendored to check it)".into(),
            );
            return Some(out);
        }
        // UTF-16 files hold no ASCII keywords until they are decoded: those (and invalid
        // UTF-8) are decoded first. Valid UTF-8 is its own decoded text (up to a BOM, which
        // holds no keyword), so most files are scanned as read and never copied.
        let utf8 = std::str::from_utf8(&bytes).is_ok();
        let early = (!utf8).then(|| source::decode(&bytes));
        let scanned = early.as_ref().map_or(&bytes[..], |d| d.text.as_bytes());
        if pass.only_with.is_some_and(|ac| !ac.is_match(scanned)) {
            return None;
        }
        // Asked for its content functions: a code file that mentions an LLM call (or, in
        // round two, a content function) is parsed even when no rule needs it.
        // The rule path and the absolute path are made only for files that get this far
        // (most files of a tree stop at the prefilter).
        let rel_cell = std::cell::OnceCell::new();
        let rel_cell = &rel_cell;
        let rel_path = move || rel_cell.get_or_init(|| self.rule_path(input)).as_str();
        let verbatim = spells_code(lang);
        // The prefilter's probes are the content triggers' sets (`prefilter_with`).
        let probe = lang.is_code() && pass.content_triggers.is_some();
        let scan = pass.prefilter.scan(scanned, verbatim, probe);
        let wants_flow = probe && scan.probed && self.exports_content_functions(rel_path());
        // Matches whose keywords are not in the file are not run (`engine::check`).
        let gated_out: Vec<(usize, usize)> = scan
            .gated_out
            .iter()
            .map(|&(k, m)| (self.active[k], m))
            .collect();
        let mut rules: Vec<usize> = scan
            .rules
            .into_iter()
            .map(|k| self.active[k])
            .filter(|&ri| {
                engine::may_report(
                    self.catalog,
                    ri,
                    lang,
                    rel_path(),
                    &self.settings.envelope,
                    &gated_out,
                )
            })
            .collect();
        // The module and package lookups walk folders from the file: from its absolute path,
        // so a file named relatively (`phi-lint check main.tf`) has a parent folder too.
        let full_cell = std::cell::OnceCell::new();
        let full_cell = &full_cell;
        let full_path = move || {
            full_cell.get_or_init(|| {
                std::path::absolute(&input.path).unwrap_or_else(|_| input.path.clone())
            })
        };
        // Rules the check would drop whole for what the text shows (an API description, a
        // provider's own code) are dropped before the parse. `check` decides the same again.
        if let Some(t) = std::str::from_utf8(scanned)
            .ok()
            .filter(|_| !rules.is_empty())
        {
            let t = t.strip_prefix('\u{feff}').unwrap_or(t);
            let api = |ri: &usize| self.catalog.rules[*ri].skip_api_descriptions;
            if rules.iter().any(api) && engine::is_api_description(lang, t) {
                rules.retain(|ri| !api(ri));
            }
            let skips = |ri: &usize| {
                engine::skips_provider_code(self.catalog, *ri, &self.settings.check_provider_code)
            };
            if rules.iter().any(skips)
                && engine::is_provider_code(&self.catalog.knowledge, full_path(), lang, t)
            {
                rules.retain(|ri| !skips(ri));
            }
        }
        // A later round (`only_with`) re-checks a file for what the new content functions
        // change: the flow matches' findings and the file's own content functions. Without
        // either, the first pass's result stands; the file is left out (`run_code`).
        if pass.only_with.is_some() && !wants_flow && !self.runs_flow(&rules, &gated_out) {
            return None;
        }
        let env = env.filter(|_| !lang.is_code());
        let wants_env = |b: &[u8]| env.is_some_and(|w| w.iter().any(|v| contains(b, v.as_bytes())));
        // Nothing to do for most files: no rule survived the prefilter, no suppression comment
        // and no project variable; decode (a copy of the file) only to report a bad encoding.
        // The first pass records the names a code file calls for the later rounds; of a file
        // it does not parse, what those rounds would search it for, once there will be some.
        let records_calls =
            self.inline_flow.is_some() && pass.only_with.is_none() && lang.is_code();
        let record = |out: &mut FileResult, text: &[u8]| {
            if !records_calls {
                return;
            }
            if self.found_content.load(Ordering::Relaxed) >= MANY_CONTENT_FNS {
                out.called = Some(Called::Mentioned(mentions(text)));
            } else if let Some((n, search)) = self.early_search() {
                if !search.is_match(text) {
                    out.called = Some(Called::Searched(n));
                }
            }
        };
        if rules.is_empty()
            && !wants_flow
            && utf8
            && !contains(&bytes, b"phi-lint:")
            && !wants_env(&bytes)
        {
            record(&mut out, &bytes);
            return Some(out);
        }
        // Big files (recorded HTTP sessions, lock files) are checked one at a time: their
        // trees and entries take tens of megabytes, and two at once set the run's peak memory.
        let _big =
            (bytes.len() >= BIG_FILE).then(|| BIG_FILES.lock().unwrap_or_else(|e| e.into_inner()));
        let decoded = early.unwrap_or_else(|| source::decode_owned(bytes));
        if let Some(n) = decoded.note {
            note(&mut out, n);
        }
        let text = decoded.text;
        let needs_suppress_scan = text.contains("phi-lint:");
        if rules.is_empty() && !needs_suppress_scan && !wants_flow {
            if let Some(w) = env {
                collect_env(w, lang, &text, None, &mut out.env);
            }
            // The decoded text is what a later round searches (as `scanned`, up to a BOM,
            // which holds no identifier).
            record(&mut out, text.as_bytes());
            return Some(out);
        }
        let started = self.profile.then(std::time::Instant::now);
        let facts = lang::extract(lang, &text);
        if let Some(t) = started {
            // One line per parse: language, bytes, microseconds, whether the file was parsed
            // for its content functions, the rules it was parsed for, each with the matches
            // (0-based, in file order) its gates left (`PHI202:3/9`), path.
            let ids: Vec<String> = rules
                .iter()
                .map(|&r| {
                    let live: Vec<String> = (self.catalog.rules[r].matches.iter().enumerate())
                        .filter(|(m, x)| {
                            !gated_out.contains(&(r, *m)) && engine::applies_to(x, lang)
                        })
                        .map(|(m, _)| m.to_string())
                        .collect();
                    format!("{}:{}", self.catalog.rules[r].info.id, live.join("/"))
                })
                .collect();
            eprintln!(
                "profile\t{lang:?}\t{}\t{}\t{wants_flow}\t{}\t{}",
                text.len(),
                t.elapsed().as_micros(),
                ids.join(","),
                input.display()
            );
        }
        if let Some(w) = env {
            collect_env(w, lang, &text, Some(&facts), &mut out.env);
        }
        if records_calls {
            let mut called: Vec<u32> = facts
                .calls
                .iter()
                .map(|c| name_hash(c.callee.rsplit('.').next().unwrap_or(&c.callee)))
                .collect();
            called.sort_unstable();
            called.dedup();
            out.called = Some(Called::Parsed(called));
        }
        for n in &facts.notes {
            note(&mut out, n.clone());
        }
        // Only IaC module files need their real path (to bind callers' parameters).
        let abs_path = if lang == Lang::Bicep {
            input.path.canonicalize().ok()
        } else {
            None
        };
        let analysis = engine::flow::Analysis::default();
        let ctx = FileCtx {
            abs_path: abs_path.as_deref(),
            path: Some(full_path()),
            check_provider_code: &self.settings.check_provider_code,
            rel_path: rel_path(),
            lang,
            text: &text,
            facts: &facts,
            project,
            envelope: &self.settings.envelope,
            knowledge: &self.catalog.knowledge,
            gated_out: &gated_out,
            analysis: Some(&analysis),
        };
        if wants_flow {
            out.content_fns =
                catch_unwind(AssertUnwindSafe(|| engine::flow::content_functions(&ctx)))
                    .unwrap_or_default();
            if records_calls {
                self.publish(&out.content_fns);
            }
        }
        let hits = engine::check(self.catalog, &rules, &ctx);
        // Without a finding or a suppression comment there is nothing to place or suppress.
        if hits.is_empty() && !needs_suppress_scan {
            return Some(out);
        }
        let index = LineIndex::new(&text);
        let opts = suppress::Options {
            require_reason: self.settings.require_suppression_reason,
            active: &self.active,
            today: suppress::Date::today(),
        };
        let (hits, suppressions) = suppress::apply(
            self.catalog,
            &text,
            &index,
            &facts,
            input.display(),
            hits,
            &opts,
        );
        out.findings = self.position(input, &text, &index, hits, suppressions);
        Some(out)
    }

    /// Whether one of `rules` has a flow match not in `gated_out`.
    fn runs_flow(&self, rules: &[usize], gated_out: &[(usize, usize)]) -> bool {
        rules.iter().any(|&ri| {
            self.catalog.rules[ri]
                .matches
                .iter()
                .enumerate()
                .any(|(m, spec)| spec.is_flow() && !gated_out.contains(&(ri, m)))
        })
    }

    fn position(
        &self,
        input: &Input,
        text: &str,
        index: &LineIndex,
        hits: Vec<Hit>,
        suppressed: Vec<Option<crate::diagnostic::Suppressed>>,
    ) -> Vec<Finding> {
        let loc = Locator { text, index };
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::new();
        for (hit, sup) in hits.into_iter().zip(suppressed) {
            let rule = &self.catalog.rules[hit.rule];
            let (line, column, end_line, end_column) = loc.positions(&hit.span);
            let excerpt = loc.excerpt(&hit.span, hit.secret.as_ref());
            let matched = text.get(hit.span.clone()).unwrap_or("");
            let normalised: String = if hit.secret.is_some() {
                format!("secret:{:x}", Sha256::digest(matched.as_bytes()))
            } else {
                matched.split_whitespace().collect::<Vec<_>>().join(" ")
            };
            let mut h = Sha256::new();
            h.update(rule.info.id.as_bytes());
            h.update([0]);
            h.update(input.display().as_bytes());
            h.update([0]);
            h.update(normalised.as_bytes());
            let base = format!("{:x}", h.finalize())[..32].to_string();
            let n = seen.entry(base.clone()).or_insert(0);
            let fingerprint = if *n == 0 {
                base.clone()
            } else {
                format!("{base}:{n}")
            };
            *n += 1;
            let severity = self
                .settings
                .severity
                .get(&rule.info.id)
                .copied()
                .unwrap_or(rule.info.severity);
            out.push(Finding {
                rule: rule.info.id.clone(),
                name: rule.info.name.clone(),
                severity,
                path: input.display().to_string(),
                line,
                column,
                end_line,
                end_column,
                message: hit.message,
                help: rule.info.help.clone(),
                docs: rule.info.url.clone(),
                fingerprint,
                excerpt,
                suppressed: sup,
                span: hit.span,
            });
        }
        out
    }
}

fn read(input: &Input) -> std::io::Result<Vec<u8>> {
    match &input.content {
        Some(c) => Ok(c.clone()),
        None => std::fs::read(&input.path),
    }
}

/// Reads a file with one open, one `fstat` and one read (plus the end-of-file read); a file
/// over `limit` bytes is not read and comes back as `Err(len)`.
fn read_limited(path: &Path, limit: u64) -> std::io::Result<Result<Vec<u8>, u64>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    if len > limit {
        return Ok(Err(len));
    }
    // `read_to_end` on a `File` asks for its size and position again (a statx and an lseek
    // per file, 4% of the sparse tree's system calls); through `Take` it does not, and with
    // room for one byte more than the size it reads the file and then sees its end (a file
    // that grew meanwhile is read on to its end).
    let mut buf = Vec::with_capacity(len as usize + 1);
    f.take(u64::MAX).read_to_end(&mut buf)?;
    Ok(Ok(buf))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// Records variables found by [`collect_env`] in the project context.
fn add_env(project: &mut Project, found: Vec<(String, Option<String>)>) {
    for (name, value) in found {
        if let Some(v) = value {
            project.env_values.entry(name.clone()).or_default().push(v);
        }
        project.env_set.insert(name);
    }
}

/// Adds to `out` the variables of `wanted` that a config file sets to a non-empty value,
/// with the value's text when it has one. `facts` are the file's facts when already
/// extracted.
fn collect_env(
    wanted: &[String],
    lang: Lang,
    text: &str,
    facts: Option<&crate::facts::Facts>,
    out: &mut Vec<(String, Option<String>)>,
) {
    if !wanted.iter().any(|w| text.contains(w.as_str())) {
        return;
    }
    let owned;
    let facts = match facts {
        Some(f) => f,
        None => match catch_unwind(AssertUnwindSafe(|| lang::extract(lang, text))) {
            Ok(f) => {
                owned = f;
                &owned
            }
            Err(_) => return,
        },
    };
    for e in &facts.config {
        let name = e.key.rsplit('.').next().unwrap_or(&e.key);
        if wanted.iter().any(|w| w == name || *w == e.key) {
            let empty = matches!(&e.value, crate::facts::Value::Str(s) if s.trim().is_empty());
            if !empty {
                out.push((name.to_string(), engine::value_text(facts, &e.value, 0)));
            }
        }
    }
}

/// How a path is shown: relative to the working directory when below it, `/`-separated,
/// without a leading `./`.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let s = display_of(path, cwd);
    if s.is_empty() {
        ".".into()
    } else {
        s.into_owned()
    }
}

/// [`display_path`], borrowed from `path` when it can be, and empty for `.`.
fn display_of<'p>(path: &'p Path, cwd: &Path) -> std::borrow::Cow<'p, str> {
    let p = if path.is_absolute() {
        path.strip_prefix(cwd).unwrap_or(path)
    } else {
        path
    };
    match p.to_string_lossy() {
        std::borrow::Cow::Borrowed(s) if !s.contains('\\') => {
            std::borrow::Cow::Borrowed(s.trim_start_matches("./"))
        }
        s => std::borrow::Cow::Owned(s.replace('\\', "/").trim_start_matches("./").to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Text made of pieces a name may meet: the names themselves, longer identifiers holding
    /// them, `#`, `@`, `new`, the call openers, whitespace, other punctuation.
    fn mention_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("summarize"),
            Just("run"),
            Just("summarize_v2"),
            Just("xsummarize"),
            Just("new"),
            Just("renew"),
            Just("#"),
            Just("@"),
            Just("("),
            Just("<"),
            Just("["),
            Just(":"),
            Just("?"),
            Just("!"),
            Just("{"),
            Just("`"),
            Just("."),
            Just(","),
            Just("="),
            Just(")"),
            Just("$"),
            Just("é"),
            Just(" "),
            Just("\n"),
            Just("\t"),
            Just("\r\n"),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    const MENTIONED: [&str; 6] = [
        "summarize",
        "run",
        "summarize_v2",
        "#summarize",
        "new",
        "renew",
    ];

    /// One search per name of [`MENTIONED`], and one for them all (built once).
    fn searches() -> &'static (Vec<Mention>, Mention) {
        static S: std::sync::OnceLock<(Vec<Mention>, Mention)> = std::sync::OnceLock::new();
        S.get_or_init(|| {
            let one = |n: &str| Mention::new(&mut [n.to_string()].iter()).unwrap();
            let all: Vec<String> = MENTIONED.iter().map(|n| n.to_string()).collect();
            (
                MENTIONED.iter().map(|n| one(n)).collect(),
                Mention::new(&mut all.iter()).unwrap(),
            )
        })
    }

    /// Whatever the later round's search finds in `text`, [`mentions`] recorded: a file
    /// skipped because none of its recorded names is new would not have been found.
    fn assert_recorded(text: &str) -> Result<(), TestCaseError> {
        let recorded = mentions(text.as_bytes());
        let (each, all) = searches();
        for (n, m) in MENTIONED.iter().zip(each) {
            if m.is_match(text.as_bytes()) {
                prop_assert!(recorded.contains(&name_hash(n)), "{n:?} in {text:?}");
            }
        }
        if all.is_match(text.as_bytes()) {
            prop_assert!(
                MENTIONED.iter().any(|n| recorded.contains(&name_hash(n))),
                "{text:?}"
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        #[test]
        fn mentions_cover_what_the_search_finds(text in mention_text()) {
            assert_recorded(&text)?;
        }
    }

    #[test]
    fn mentions_cover_names_after_at_new_and_hash() {
        // What the property found when each position was left out of `mentions`.
        for text in [
            "@new.",
            "new summarize",
            "@#summarize",
            "new{",
            "x.#summarize`",
        ] {
            assert_recorded(text).unwrap();
        }
    }

    #[test]
    fn mentions_are_identifiers_in_call_positions() {
        let text = b"a = summarize (x)\nnew  Client\n@decorate\ndef plain\nthis.#priv<T>\nfoo.bar";
        let got = mentions(text);
        for n in ["summarize", "Client", "decorate", "#priv", "priv"] {
            assert!(got.contains(&name_hash(n)), "{n}");
        }
        for n in ["a", "x", "plain", "def", "foo", "bar"] {
            assert!(!got.contains(&name_hash(n)), "{n}");
        }
    }

    /// An input shows its path as [`display_path`] does, keeping it as the end of the path
    /// where it is one.
    #[test]
    fn inputs_show_their_paths_as_display_path_does() {
        let cwd = Path::new("/work/tree");
        for (path, kept_apart) in [
            ("./src/app.py", false),
            ("src/app.py", false),
            ("././src/app.py", false),
            ("/work/tree/src/app.py", false),
            ("/elsewhere/app.py", false),
            (".", false),
            ("./", true),
            ("/work/tree", true),
            ("src\\win\\app.py", true),
        ] {
            let input = Input::at(PathBuf::from(path), cwd, false);
            assert_eq!(
                input.display(),
                display_path(Path::new(path), cwd),
                "{path}"
            );
            assert_eq!(input.shown.is_some(), kept_apart, "{path}");
        }
        let mut staged = Input::new("/repo/src/a.py".into(), "src/a.py", None, true);
        assert_eq!(
            (staged.display(), staged.shown.is_none()),
            ("src/a.py", true)
        );
        staged.set_display("../repo/src/a.py");
        assert_eq!(staged.display(), "../repo/src/a.py");
        staged.set_display("a.py");
        assert_eq!((staged.display(), staged.shown.is_none()), ("a.py", true));
    }

    /// A file's content functions are its own: a later round, whose analysis starts from
    /// the project's names, reports only the wrappers it adds (each rechecked file kept the
    /// whole list before: 16 MB on four copies of the dense benchmark tree).
    #[test]
    fn a_file_reports_only_the_content_functions_it_adds() {
        let catalog = crate::rule::builtin().unwrap();
        let settings = crate::settings::Settings::default();
        let text = concat!(
            "from openai import AzureOpenAI\n",
            "client = AzureOpenAI(azure_endpoint='https://x.openai.azure.com', api_version='2024-10-21')\n",
            "def answer(q):\n",
            "    r = client.chat.completions.create(model='m', messages=[{'role': 'user', 'content': q}])\n",
            "    return r.choices[0].message.content\n",
            "def triage(q):\n",
            "    return summarize(q)\n",
        );
        let facts = lang::extract(Lang::Python, text);
        let found = |known: &[&str]| {
            let project = Project {
                content_functions: known.iter().map(|n| n.to_string()).collect(),
                ..Project::default()
            };
            let ctx = FileCtx {
                abs_path: None,
                path: None,
                check_provider_code: &[],
                rel_path: "app/llm.py",
                lang: Lang::Python,
                text,
                facts: &facts,
                project: &project,
                envelope: &settings.envelope,
                knowledge: &catalog.knowledge,
                gated_out: &[],
                analysis: None,
            };
            engine::flow::content_functions(&ctx)
        };
        assert_eq!(found(&[]), vec!["answer"]);
        assert_eq!(found(&["summarize"]), vec!["answer", "triage"]);
        assert_eq!(found(&["summarize", "answer"]), vec!["triage"]);
    }

    /// Content functions found by the first pass extend the flow matches' gates (a call to
    /// one seeds a flow), not the call matches' (a call match names its callees itself).
    #[test]
    fn content_functions_widen_only_the_flow_gates() {
        let catalog = crate::rule::builtin().unwrap();
        let settings = crate::settings::Settings::default();
        let active: Vec<usize> = (0..catalog.rules.len()).collect();
        let checker = Checker::new(&catalog, &settings, active.clone());
        let names: std::collections::HashSet<String> = ["summarize_note".to_string()].into();
        // `openaiintegration` passes the Sentry integration match's keyword group (compared
        // without case) but not its callee set: only the name could let it through.
        let text = b"import * as Sentry from '@sentry/node';\n// openaiintegration\n\
                     span.setAttribute('note', summarize_note(x));\n";
        let scan = checker.prefilter_with(&names, None).scan(text, true, false);
        let k = (0..active.len())
            .find(|&k| catalog.rules[active[k]].info.id == "PHI401")
            .unwrap();
        assert!(scan.rules.contains(&k));
        let matches = &catalog.rules[active[k]].matches;
        let live = |flow: bool| {
            (matches.iter().enumerate())
                .any(|(m, x)| x.is_flow() == flow && !scan.gated_out.contains(&(k, m)))
        };
        assert!(live(true));
        assert!(!live(false));
    }

    /// A later round reads again only files a match of a flow rule (PHI401, PHI403) may run on:
    /// not their test code. Without an active flow rule, none.
    #[test]
    fn later_rounds_leave_out_what_every_flow_rule_excludes() {
        let catalog = crate::rule::builtin().unwrap();
        let settings = crate::settings::Settings::default();
        let all: Vec<usize> = (0..catalog.rules.len()).collect();
        let checker = Checker::new(&catalog, &settings, all);
        assert!(checker.later_round_may_change("app/handler.py"));
        assert!(!checker.later_round_may_change("app/tests/test_handler.py"));
        assert!(!checker.later_round_may_change("src/__tests__/chat.test.ts"));
        let no_flow: Vec<usize> = (0..catalog.rules.len())
            .filter(|&i| !catalog.rules[i].matches.iter().any(|m| m.is_flow()))
            .collect();
        let checker = Checker::new(&catalog, &settings, no_flow);
        assert!(!checker.later_round_may_change("app/handler.py"));
    }

    #[test]
    fn read_limited_reads_whole_files_and_refuses_big_ones() {
        let dir = std::env::temp_dir().join(format!("phi-lint-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for len in [0usize, 1, 4095, 4096, 4097, 100_003] {
            let path = dir.join(format!("f{len}"));
            let content: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            std::fs::write(&path, &content).unwrap();
            assert_eq!(
                read_limited(&path, 1 << 20).unwrap().unwrap(),
                content,
                "{len}"
            );
            if len > 0 {
                let limit = len as u64 - 1;
                assert_eq!(
                    read_limited(&path, limit).unwrap(),
                    Err(len as u64),
                    "{len}"
                );
            }
        }
        assert!(read_limited(&dir.join("missing"), 10).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_later_round_rechecks_the_files_that_call_a_new_name_or_were_not_parsed() {
        // Recorded by two workers, each in its own order.
        let mut called = CallRecords::default();
        let mut other = CallRecords::default();
        for (i, c) in [
            (5, Called::Mentioned(vec![name_hash("print")])),
            (
                0,
                Called::Parsed(vec![name_hash("summarize"), name_hash("print")]),
            ),
            (2, Called::Parsed(vec![])),
            (7, Called::Searched(2)),
        ] {
            other.push(i, c);
        }
        for (i, c) in [
            (6, Called::Searched(1)),
            (4, Called::Mentioned(vec![name_hash("summarize")])),
            (1, Called::Parsed(vec![name_hash("print")])),
        ] {
            called.push(i, c);
        }
        called.merge(other);
        // The first pass found `summarize`, then `triage`: file 6 was searched for the first,
        // file 7 for both.
        let early = ["summarize".to_string(), "triage".to_string()];
        let recheck = |names: &[&str]| {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            recheck(
                &[0, 1, 2, 3, 4, 5, 6, 7],
                &called,
                &early,
                &mut names.iter(),
            )
        };
        // File 3 recorded nothing: the round's text search decides for it.
        assert_eq!(recheck(&["summarize", "triage"]), vec![0, 3, 4, 6]);
        assert_eq!(recheck(&["summarize"]), vec![0, 3, 4]);
        // A name found later (a later round's) was searched for nowhere.
        assert_eq!(recheck(&["print"]), vec![0, 1, 3, 5, 6, 7]);
        // A name `mentions` does not cover (`$`): every file not parsed is searched.
        assert_eq!(recheck(&["$summarize"]), vec![3, 4, 5, 6, 7]);
    }

    #[test]
    fn a_content_function_is_mentioned_where_it_may_be_called() {
        let names: Vec<String> = ["generate", "generateText", "#bind", "bind"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = Mention::new(&mut names.iter()).unwrap();
        for called in [
            "x = await ai.generateText({ prompt })",
            "out = generate (prompt)",
            "r = llm.generate<string>(p)",
            "@generate\ndef f(): ...",
            "const g = new generate;",
            "this.#bind(x)",
            "bind?.(x)",
        ] {
            assert!(m.is_match(called.as_bytes()), "{called}");
        }
        for named in [
            "// generate the summary",
            "regenerate(x)",
            "generateTexts(x)",
            "const generate_ = 1;",
            "docs: 'bind the handler'",
        ] {
            assert!(!m.is_match(named.as_bytes()), "{named}");
        }
    }
}
