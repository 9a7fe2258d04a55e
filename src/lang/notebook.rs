//! Jupyter notebook frontend — placeholder until the frontend lands.
use crate::facts::Facts;
pub fn facts(_text: &str) -> Facts {
    Facts::new()
}
