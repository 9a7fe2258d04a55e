//! The suppression parser (`suppress::parse`): once on the comments a frontend finds in the
//! text, once with the whole text as one comment (so every byte reaches the directive parser).
#![no_main]

use libfuzzer_sys::fuzz_target;
use phi_lint::facts::{Comment, Facts, Lang};
use phi_lint::{lang, source, suppress};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let text = source::decode(bytes).text;
    let index = source::LineIndex::new(&text);
    let l = [Lang::Python, Lang::TypeScript, Lang::Yaml, Lang::Go][pick as usize % 4];
    let facts = lang::extract(l, &text);
    let _ = suppress::parse(&text, &index, &facts);
    let mut whole = Facts::new();
    whole.comments.push(Comment {
        text: text.clone(),
        span: 0..text.len(),
    });
    let _ = suppress::parse(&text, &index, &whole);
});
