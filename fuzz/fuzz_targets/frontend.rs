//! Every frontend: the first byte picks the language, the rest is the file's bytes. Runs what
//! the checker runs per file (binary check, decode, extract, line index, positions) and the
//! notebook reader (its span map must land inside the notebook text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use phi_lint::facts::Lang;
use phi_lint::{lang, source};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let l = Lang::ALL[pick as usize % Lang::ALL.len()];
    if source::looks_binary(bytes) {
        return;
    }
    let text = source::decode(bytes).text;
    let facts = lang::extract(l, &text);
    let index = source::LineIndex::new(&text);
    let spans = facts
        .strings
        .iter()
        .map(|s| s.span.clone())
        .chain(facts.comments.iter().map(|c| c.span.clone()))
        .chain(facts.calls.iter().map(|c| c.span.clone()));
    for s in spans {
        assert!(s.start <= s.end && s.end <= text.len(), "span {s:?} outside {}", text.len());
        let (line, col) = index.position(&text, s.start);
        assert!(line >= 1 && col >= 1 && line <= index.line_count());
    }
    if l == Lang::Notebook {
        if let Ok(nb) = lang::notebook::read(&text) {
            let r = nb.map.range(&(0..nb.code.len()));
            assert!(r.start <= r.end && r.end <= text.len());
        }
    }
});
