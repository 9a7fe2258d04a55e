//! Inline suppressions — placeholder: nothing is suppressed yet.

use crate::diagnostic::{Hit, Suppressed};
use crate::facts::Facts;
use crate::rule::Catalog;
use crate::source::LineIndex;

/// Marks hits silenced by suppression comments and adds hits for bad suppressions.
pub fn apply(
    _catalog: &Catalog,
    _text: &str,
    _index: &LineIndex,
    _facts: &Facts,
    _path: &str,
    hits: Vec<Hit>,
) -> (Vec<Hit>, Vec<Option<Suppressed>>) {
    let n = hits.len();
    (hits, vec![None; n])
}
