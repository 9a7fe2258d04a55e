//! phi-lint: a HIPAA compliance linter for code that sends PHI to LLMs.
pub mod diagnostic;
pub mod emit;
pub mod facts;
pub mod lang;
pub mod source;
