//! Config format frontends — placeholder until the frontends land.
use crate::facts::{Facts, Lang};
pub fn facts(_text: &str, _lang: Lang) -> Facts {
    Facts::new()
}
