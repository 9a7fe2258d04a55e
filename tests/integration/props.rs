//! Property tests: position arithmetic, notebook span mapping, suppression parsing and
//! fingerprint stability; plus the stable-toolchain stand-in for `fuzz/` (every fuzzed entry
//! point fed generated inputs: frontends, config loader, rule loader, suppression parser).
//! Case counts stay modest so the whole suite stays fast on two cores.

use std::sync::OnceLock;

use phi_lint::check::{Checker, Input};
use phi_lint::facts::{Comment, Facts, Lang};
use phi_lint::source::{self, LineIndex};
use phi_lint::{config, lang, rule, suppress};
use proptest::prelude::*;

fn catalog() -> &'static rule::Catalog {
    static C: OnceLock<rule::Catalog> = OnceLock::new();
    C.get_or_init(|| rule::builtin().expect("built-in rules"))
}

/// Text made of pieces that stress lines and columns: every line ending, multi-byte
/// characters, quotes, comment openers and suppression words.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just("é".to_string()),
        Just("😀".to_string()),
        Just("\u{FFFD}".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("`".to_string()),
        Just("\\".to_string()),
        Just("# ".to_string()),
        Just("// ".to_string()),
        Just("/* ".to_string()),
        Just("*/".to_string()),
        Just("[".to_string()),
        Just("{".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("phi-lint: ignore[PHI101] -- reason".to_string()),
        Just("phi-lint: ignore[PHI202] until 2020-01-01".to_string()),
        Just("phi-lint: ignore-file".to_string()),
        Just("https://api.openai.com/v1".to_string()),
        Just("sk-proj-".to_string()),
        Just("x = ".to_string()),
        "[a-zA-Z0-9 _.:=-]{0,12}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn naive_position(text: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    let b = text.as_bytes();
    let mut i = 0;
    while i < offset {
        if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') && i + 1 < offset {
            i += 2;
            line += 1;
            col = 1;
            continue;
        }
        if b[i] == b'\n' || b[i] == b'\r' {
            line += 1;
            col = 1;
        } else if text.is_char_boundary(i) {
            col += 1;
        }
        i += 1;
    }
    (line, col)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every byte offset maps to the line and column a naive scan gives; line ranges tile the
    /// text without their terminators; `line_start` inverts `line_of`.
    #[test]
    fn line_index_matches_a_naive_scan(text in hostile_text(), picks in prop::collection::vec(any::<usize>(), 1..8)) {
        let idx = LineIndex::new(&text);
        for p in picks {
            let o = source::clamp_to_char(&text, p % (text.len() + 1));
            prop_assert!(text.is_char_boundary(o));
            if o > 0 && text.as_bytes()[o - 1] == b'\r' && text.as_bytes().get(o) == Some(&b'\n') {
                continue; // inside a CRLF: no character starts there
            }
            prop_assert_eq!(idx.position(&text, o), naive_position(&text, o));
            let line = idx.line_of(o);
            prop_assert!(idx.line_start(line) <= o);
        }
        let mut prev_end = 0;
        for l in 0..idx.line_count() {
            let r = idx.line_range(&text, l);
            prop_assert!(r.start >= prev_end && r.start <= r.end && r.end <= text.len());
            prop_assert!(!text[r.clone()].contains(['\n', '\r']));
            prev_end = r.end;
        }
        // Out-of-range and mid-character offsets never panic.
        let _ = idx.position(&text, text.len() + 7);
    }

    /// Decoding never panics and yields text whose positions are all computable.
    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256), bom in 0u8..4) {
        let mut b = match bom {
            0 => vec![],
            1 => vec![0xEF, 0xBB, 0xBF],
            2 => vec![0xFF, 0xFE],
            _ => vec![0xFE, 0xFF],
        };
        b.extend(bytes);
        let d = source::decode(&b);
        let idx = LineIndex::new(&d.text);
        let _ = idx.position(&d.text, d.text.len());
        if std::str::from_utf8(&b).is_ok() && bom < 2 && !b.starts_with(&[0xFF, 0xFE]) && !b.starts_with(&[0xFE, 0xFF]) {
            prop_assert!(d.note.is_none());
        }
    }

    /// Notebook span mapping: every mapped span of a generated notebook lies inside the
    /// notebook and, for plain ASCII source, maps back to the same text.
    #[test]
    fn notebook_spans_map_back(cells in prop::collection::vec(prop::collection::vec("[a-z =\"()#:.0-9]{0,20}", 0..4), 1..4)) {
        let json_cells: Vec<serde_json::Value> = cells
            .iter()
            .map(|lines| {
                let src: Vec<String> = lines.iter().map(|l| format!("{l}\n")).collect();
                serde_json::json!({"cell_type": "code", "metadata": {}, "outputs": [], "source": src})
            })
            .collect();
        let nb_text = serde_json::to_string_pretty(&serde_json::json!({"cells": json_cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})).unwrap();
        let nb = lang::notebook::read(&nb_text).expect("generated notebook reads");
        for (i, ch) in nb.code.char_indices() {
            if ch == '\n' || ch == '"' || ch == '\\' {
                continue;
            }
            let r = nb.map.range(&(i..i + ch.len_utf8()));
            prop_assert!(r.end <= nb_text.len());
            prop_assert_eq!(&nb_text[r], &nb.code[i..i + ch.len_utf8()]);
        }
        let facts = lang::extract(Lang::Notebook, &nb_text);
        for s in &facts.strings {
            prop_assert!(s.span.end <= nb_text.len() && s.span.start <= s.span.end);
        }
    }

    /// Suppression parsing never panics, and a well-formed directive is found with its rule.
    #[test]
    fn suppression_directives_parse(rule in "PHI[1-9][0-9]{2}", reason in "[a-z ]{0,20}", noise in hostile_text()) {
        // Noise above, kept inside a comment so it cannot swallow the directive's line.
        let noise = noise.replace(['\n', '\r'], " ");
        let text = format!("# {noise}\nx = 1  # phi-lint: ignore[{rule}] -- {reason}\n");
        let facts = lang::extract(Lang::Python, &text);
        let idx = LineIndex::new(&text);
        let ds = suppress::parse(&text, &idx, &facts);
        let last = ds.last().expect("a directive");
        prop_assert_eq!(&last.rules, &vec![rule.clone()]);
        prop_assert_eq!(last.reason.as_deref(), Some(reason.trim()).filter(|r| !r.is_empty()));
    }

    /// A NUL byte in a comment does not hide the rest of the file (proptest found this: the
    /// grammars' lexers stopped at the NUL, and the directive below it was never seen).
    #[test]
    fn a_nul_byte_does_not_end_the_file(rule in "PHI[1-9][0-9]{2}") {
        let text = format!("# \0\"{{phi-lint: ignore[PHI101] -- reason\nx = 1  # phi-lint: ignore[{rule}]\n");
        let facts = lang::extract(Lang::Python, &text);
        let idx = LineIndex::new(&text);
        let ds = suppress::parse(&text, &idx, &facts);
        prop_assert_eq!(&ds.last().expect("a directive").rules, &vec![rule.clone()]);
    }

    /// A finding's fingerprint does not change when lines are inserted above it.
    #[test]
    fn fingerprints_survive_inserted_lines(above in prop::collection::vec("[a-z_]{1,8} = [0-9]{1,4}", 0..20)) {
        let body = "import os\nURL = \"https://api.openai.com/v1\"\nKEY = \"sk-proj-Zq3Xk9Lm2Pv7Rt5Wy8Bn4Cd6Fg1Hj0Ks2Lq9Mw3Ex7Ru5Ty8Ui4Op6As1Df0Gh\"\n";
        let before = fingerprints(body);
        prop_assert!(before.len() >= 2, "{:?}", before);
        let shifted = format!("{}\n{body}", above.join("\n"));
        prop_assert_eq!(fingerprints(&shifted), before);
    }

    /// Stable-toolchain stand-in for fuzz/fuzz_targets/frontend.rs: every frontend on
    /// generated hostile text returns facts with in-bounds spans and never panics.
    #[test]
    fn every_frontend_survives_generated_text(pick in 0usize..Lang::ALL.len(), text in hostile_text()) {
        let l = Lang::ALL[pick];
        let facts = lang::extract(l, &text);
        for s in facts.strings.iter().map(|s| &s.span).chain(facts.comments.iter().map(|c| &c.span)) {
            prop_assert!(s.start <= s.end && s.end <= text.len(), "{:?} {:?}", l, s);
        }
    }

    /// Frontends on raw bytes (decoded like the checker does).
    #[test]
    fn every_frontend_survives_random_bytes(pick in 0usize..Lang::ALL.len(), bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = source::decode(&bytes).text;
        let _ = lang::extract(Lang::ALL[pick], &text);
    }

    /// Stand-in for fuzz/fuzz_targets/rule.rs: the rule loader on mutated rule files.
    #[test]
    fn rule_loader_survives_mutations(edits in prop::collection::vec((any::<prop::sample::Index>(), hostile_text()), 0..4)) {
        let base = "schema = 1\nid = \"PHI950\"\nname = \"x\"\nseverity = \"warning\"\nsummary = \"s\"\nlanguages = [\"python\"]\nmessage = \"m\"\n\n[[match]]\nkind = \"string\"\npattern = '(?P<hit>abc)'\n";
        let text = mutate(base, &edits);
        let _ = rule::compile("rules/prop.toml", &text, &catalog().knowledge, true);
    }

    /// Stand-in for fuzz/fuzz_targets/config.rs: the config loader and settings resolution
    /// on mutated config files.
    #[test]
    fn config_loader_survives_mutations(edits in prop::collection::vec((any::<prop::sample::Index>(), hostile_text()), 0..4), pyproject in any::<bool>()) {
        let base = if pyproject {
            "[tool.phi-lint]\nselect = [\"PHI1\"]\nmax-filesize = 100\n[tool.phi-lint.severity]\nPHI101 = \"note\"\n"
        } else {
            "select = [\"PHI1\", \"PHI2\"]\nignore = [\"PHI103\"]\nexclude = [\"gen/**\"]\nmax-filesize = 100\n[envelope]\nallowed-hosts = [\"x.example\"]\n"
        };
        let text = mutate(base, &edits);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(if pyproject { "pyproject.toml" } else { "phi-lint.toml" });
        std::fs::write(&path, text).unwrap();
        if let Ok(file) = config::load(&path, dir.path()) {
            let _ = config::resolve(Some(&file), catalog(), &config::Overrides::default());
        }
    }

    /// Stand-in for fuzz/fuzz_targets/suppress.rs: the whole text as one comment.
    #[test]
    fn suppression_parser_survives_any_comment(text in hostile_text()) {
        let mut facts = Facts::new();
        facts.comments.push(Comment { text: text.clone(), span: 0..text.len() });
        let idx = LineIndex::new(&text);
        let _ = suppress::parse(&text, &idx, &facts);
    }
}

/// Applies (position, insertion) edits to `base`, at character boundaries.
fn mutate(base: &str, edits: &[(prop::sample::Index, String)]) -> String {
    let mut s = base.to_string();
    for (at, ins) in edits {
        let o = source::clamp_to_char(&s, at.index(s.len() + 1));
        s.insert_str(o, ins);
    }
    s
}

/// The (rule, fingerprint) pairs of one Python file checked in process.
fn fingerprints(text: &str) -> Vec<(String, String)> {
    let catalog = catalog();
    static SETTINGS: OnceLock<phi_lint::settings::Settings> = OnceLock::new();
    let settings = SETTINGS.get_or_init(|| {
        config::resolve(None, catalog, &config::Overrides::default()).expect("default settings")
    });
    let checker = Checker::new(catalog, settings, settings.active_rules(catalog));
    let input = Input::new(
        "app.py".into(),
        "app.py",
        Some(text.as_bytes().to_vec()),
        true,
    );
    let report = checker.run(&[input], 1);
    report
        .findings
        .iter()
        .map(|f| (f.rule.clone(), f.fingerprint.clone()))
        .collect()
}
