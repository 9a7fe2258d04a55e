//! The one integration test binary (fast links on two cores): modules by topic.

mod cli;
mod config;
mod docs;
mod git;
mod hostile;
mod precommit;
mod props;
mod rules;
mod support;
mod suppress;
