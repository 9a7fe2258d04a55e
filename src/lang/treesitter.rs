//! Shared tree-sitter plumbing: parsing with a time budget and small node helpers.
//!
//! Every tree-sitter frontend parses through [`parse`], so the cut-off for pathological input
//! and the note it produces are decided once.

use std::time::{Duration, Instant};

use tree_sitter::{Language, Node, Parser, Tree};

/// How long one file may take to parse before the parse is abandoned.
pub const PARSE_BUDGET: Duration = Duration::from_secs(5);

/// Parses `text`; `None` when the grammar could not be loaded or the budget ran out.
pub fn parse(language: &Language, text: &str) -> Option<Tree> {
    let mut parser = Parser::new();
    parser.set_language(language).ok()?;
    let start = Instant::now();
    let mut progress = |_: &tree_sitter::ParseState| -> bool { start.elapsed() > PARSE_BUDGET };
    let options = tree_sitter::ParseOptions::new().progress_callback(&mut progress);
    parser.parse_with_options(
        &mut |i, _| text.as_bytes().get(i..).unwrap_or(&[]),
        None,
        Some(options),
    )
}

/// The source text of a node.
pub fn text<'a>(node: Node, src: &'a str) -> &'a str {
    src.get(node.byte_range()).unwrap_or("")
}
