//! Output formats: one file per format behind one function signature.
//!
//! Emitters receive a finished [`Report`] (sorted, positioned, secrets masked) and write
//! bytes; they never see source text or rules' match logic. Everything except the human
//! summary's elapsed time is byte-identical between runs.
