//! JavaScript / TypeScript / TSX frontend — placeholder until the frontend lands.
use crate::facts::{Facts, Lang};
pub fn facts(_text: &str, _lang: Lang) -> Facts {
    Facts::new()
}
