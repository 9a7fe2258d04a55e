//! The one integration test binary (fast links on two cores): modules by topic.

mod cli;
mod config;
mod docs;
mod git;
mod precommit;
mod rules;
mod support;
mod suppress;
