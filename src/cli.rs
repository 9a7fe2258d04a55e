//! Command-line interface types (clap derive). Parsing only: `lib::run` acts on them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "phi-lint", version, about = "Find code and config that would send PHI outside a HIPAA Business Associate Agreement", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files and folders (default: the current folder).
    Check(Box<CheckArgs>),
    /// List the rules.
    Rules(RulesArgs),
    /// Show one rule's documentation.
    Rule {
        /// Rule id (PHI201) or name (hardcoded-deployment-name).
        rule: String,
        /// Also load custom rules from these folders.
        #[arg(long = "rules-dir")]
        rules_dirs: Vec<PathBuf>,
    },
    /// Run annotated rule fixtures (`ruleid:` / `ok:` comments) and report Validated / Missing / Noisy.
    Test {
        /// Fixture folders (default: fixtures/rules).
        paths: Vec<PathBuf>,
        /// Extra rule folders to load (custom rules).
        #[arg(long = "rules-dir")]
        rules_dirs: Vec<PathBuf>,
    },
    /// Show the resolved configuration.
    Config(ConfigArgs),
    /// List every suppression comment (the exception register).
    Suppressions(SuppressionsArgs),
    /// Write a commented starter phi-lint.toml (never overwrites).
    Init {
        /// Folder to write it in (default: the current folder).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print the JSON Schema of the rule file format (docs/rule.schema.json).
    RuleSchema,
    /// Scaffold a custom rule file and its fixture.
    NewRule {
        /// Rule id, e.g. ACME001 (two or more capitals, ending in three digits).
        id: String,
        /// Rule name, kebab-case, e.g. company-gateway-bypass.
        name: String,
        /// Rules folder (default: phi-lint-rules); the fixture goes to <dir>/fixtures/<ID>/.
        #[arg(long, default_value = "phi-lint-rules")]
        dir: PathBuf,
    },
    /// Record current findings in a baseline file, or prune entries that no longer match.
    #[command(subcommand)]
    Baseline(BaselineCommand),
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the settings that apply to PATH (default: the current folder).
    #[arg(long)]
    pub show: bool,
    pub path: Option<PathBuf>,
    /// Use this config file instead of discovering one.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Ignore every config file.
    #[arg(long)]
    pub isolated: bool,
}

#[derive(Debug, Args)]
pub struct SuppressionsArgs {
    /// Files or folders (default: the current folder).
    pub paths: Vec<PathBuf>,
    /// Output format: human or json.
    #[arg(long, short = 'f', default_value = "human")]
    pub format: String,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Write the current findings of PATHS to a baseline file (replacing it).
    Write {
        /// Files or folders to check (default: the current folder).
        paths: Vec<PathBuf>,
        /// The baseline file to write.
        #[arg(long, short = 'o', default_value = crate::baseline::DEFAULT_FILE)]
        output: PathBuf,
    },
    /// Remove the entries of FILE that no longer match a finding in PATHS.
    Prune {
        /// The baseline file to prune in place.
        file: PathBuf,
        /// Files or folders to check (default: the current folder).
        paths: Vec<PathBuf>,
    },
}

/// What a `check` run does with its report besides printing it (set by `baseline`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BaselineAction {
    #[default]
    None,
    Write(PathBuf),
    Prune(PathBuf),
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format: human or json.
    #[arg(long, default_value = "human")]
    pub format: String,
    /// Also load custom rules from these folders.
    #[arg(long = "rules-dir")]
    pub rules_dirs: Vec<PathBuf>,
}

#[derive(Debug, Args, Default, Clone)]
pub struct CheckArgs {
    /// Files or folders to check.
    pub paths: Vec<PathBuf>,
    /// Output format: human, concise, json, jsonl, sarif, github, gitlab, junit, azure.
    #[arg(long, short = 'f', default_value = "human")]
    pub format: String,
    /// Also write FORMAT to PATH (repeatable), e.g. `--output sarif=phi-lint.sarif`.
    #[arg(long = "output", short = 'o', value_name = "FORMAT=PATH")]
    pub outputs: Vec<String>,
    /// Exit 0 even when there are findings (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Lowest severity that fails the run: error, warning or note.
    #[arg(long, default_value = "warning")]
    pub fail_on: String,
    /// Stop reporting after N findings (the exit code still reflects them).
    #[arg(long)]
    pub max_findings: Option<usize>,
    /// Never use colour (also honoured: the NO_COLOR environment variable).
    #[arg(long)]
    pub no_color: bool,
    /// Print findings only: no notes, no summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Check vendored trees too (node_modules, virtualenvs, site-packages, vendor, minified bundles,
    /// dependency lock files).
    #[arg(long)]
    pub include_vendored: bool,
    /// Follow symbolic links (never outside the checked roots).
    #[arg(long)]
    pub follow_links: bool,
    /// Rules to run (ids, names or prefixes such as PHI4); replaces the configured selection.
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Rules to add to the configured selection.
    #[arg(long, value_delimiter = ',')]
    pub extend_select: Vec<String>,
    /// Rules not to run.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Use this config file instead of discovering one.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Ignore every config file.
    #[arg(long)]
    pub isolated: bool,
    /// Apply excludes to paths named on the command line too.
    #[arg(long)]
    pub force_exclude: bool,
    /// List suppressed findings too.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Worker threads (default: available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Skip files larger than this many bytes (default 5 MiB).
    #[arg(long)]
    pub max_filesize: Option<u64>,
    /// Check the staged content of staged files (for pre-commit hooks).
    #[arg(long)]
    pub staged: bool,
    /// Report only findings on lines changed since the merge base with REF.
    #[arg(long, value_name = "REF")]
    pub diff: Option<String>,
    /// Read paths to check from FILE (`-` for stdin), one per line.
    #[arg(long, value_name = "FILE")]
    pub files_from: Option<String>,
    /// Report only findings not recorded in this baseline file.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Set by `phi-lint baseline write|prune`, never from the command line.
    #[arg(skip)]
    pub baseline_action: BaselineAction,
}
