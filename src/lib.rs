//! phi-lint: a HIPAA compliance linter for code that sends protected health information to
//! LLMs. `run` is the whole program; `main` only maps its result to an exit code.
//!
//! The pipeline: args + config → settings → rule set → candidate files → per file in
//! parallel: read → prefilter → parse → facts → match → suppress → sort → emit → exit code.

pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod discover;
pub mod docs;
pub mod emit;
pub mod engine;
pub mod facts;
pub mod lang;
pub mod rule;
pub mod settings;
pub mod source;
pub mod suppress;
pub mod verify;

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use crate::check::{display_path, Checker, Input};
use crate::cli::{CheckArgs, Cli, Command};
use crate::diagnostic::Severity;
use crate::rule::Catalog;
use crate::settings::Settings;

/// How the process should end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// No findings at or above the fail threshold.
    Clean,
    /// Findings at or above the fail threshold.
    Findings,
    /// Usage, config or I/O error, or an internal error in some file.
    Error,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Clean => 0,
            ExitStatus::Findings => 1,
            ExitStatus::Error => 2,
        }
    }
}

/// An error that ends the run with exit code 2, rendered for the user.
#[derive(Debug)]
pub struct Failure(pub String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure(e.to_string())
    }
}

/// Renders a rule-file load error as a miette diagnostic pointing into the file.
pub fn render_load_error(e: &rule::LoadError) -> String {
    use miette::{
        GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
    };
    let mut d = MietteDiagnostic::new(e.message.clone()).with_code("phi-lint::rule-file");
    if let Some(span) = &e.span {
        d = d.with_label(LabeledSpan::at(span.clone(), "here"));
    }
    let report = Report::new(d).with_source_code(NamedSource::new(&e.path, e.text.clone()));
    let mut out = String::new();
    let handler =
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        out = e.to_string();
    }
    out
}

/// Parses `args` and runs phi-lint, writing results to `out` and diagnostics to `err`.
pub fn run(args: Vec<String>, out: &mut dyn Write, err: &mut dyn Write) -> ExitStatus {
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let rendered = e.render().ansi().to_string();
            let _ = if code == 0 {
                write!(out, "{rendered}")
            } else {
                write!(err, "{rendered}")
            };
            return if code == 0 {
                ExitStatus::Clean
            } else {
                ExitStatus::Error
            };
        }
    };
    match execute(cli, out, err) {
        Ok(s) => s,
        Err(f) => {
            if is_broken_pipe(&f) {
                return ExitStatus::Clean;
            }
            let _ = writeln!(err, "phi-lint: error: {f}");
            ExitStatus::Error
        }
    }
}

fn is_broken_pipe(f: &Failure) -> bool {
    f.0.contains("Broken pipe") || f.0.contains("broken pipe")
}

fn load_catalog() -> Result<Catalog, Failure> {
    rule::builtin().map_err(|e| {
        Failure(format!(
            "built-in rules failed to load (a bug):\n{}",
            render_load_error(&e)
        ))
    })
}

fn execute(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<ExitStatus, Failure> {
    match cli.command {
        Command::Check(args) => check(*args, out, err),
        Command::Rules(a) => {
            let catalog = load_catalog()?;
            if a.format == "json" {
                let infos: Vec<_> = catalog.rules.iter().map(|r| &r.info).collect();
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&infos).unwrap_or_default()
                )?;
            } else {
                for r in &catalog.rules {
                    writeln!(
                        out,
                        "{:<8} {:<32} {:<8} {}",
                        r.info.id,
                        r.info.name,
                        r.info.severity,
                        r.info.languages.join(",")
                    )?;
                }
            }
            Ok(ExitStatus::Clean)
        }
        Command::Rule { rule } => {
            let catalog = load_catalog()?;
            let Some(r) = catalog.find(&rule) else {
                return Err(Failure(format!(
                    "unknown rule `{rule}`; `phi-lint rules` lists them"
                )));
            };
            let d = &r.info.docs;
            writeln!(out, "{} {} ({})\n\n{}\n\n## What it does\n{}\n\n## Why it matters\n{}\n\n## HIPAA safeguard\n{}\n\n## Bad\n{}\n\n## Good\n{}\n", r.info.id, r.info.name, r.info.severity, r.info.summary, d.what.trim(), d.why.trim(), d.safeguard.trim(), d.bad.trim(), d.good.trim())?;
            if !d.options.is_empty() {
                writeln!(out, "## Options\n{}\n", d.options.trim())?;
            }
            if !d.references.is_empty() {
                writeln!(out, "## References")?;
                for x in &d.references {
                    writeln!(out, "- {x}")?;
                }
            }
            writeln!(out, "\nLanguages: {}", r.info.languages.join(", "))?;
            Ok(ExitStatus::Clean)
        }
        Command::Test {
            paths,
            rules_dirs: _,
        } => {
            let catalog = load_catalog()?;
            let roots = if paths.is_empty() {
                vec![PathBuf::from("fixtures/rules")]
            } else {
                paths
            };
            let s = verify::run(&catalog, &roots);
            for c in &s.cases {
                if matches!(c.outcome, verify::Outcome::Missing | verify::Outcome::Noisy) {
                    writeln!(out, "{:?}: {}:{} {}", c.outcome, c.path, c.line, c.rule)?;
                }
            }
            writeln!(
                out,
                "{} files: {} validated, {} clean, {} missing, {} noisy",
                s.files,
                s.count(verify::Outcome::Validated),
                s.count(verify::Outcome::Clean),
                s.count(verify::Outcome::Missing),
                s.count(verify::Outcome::Noisy)
            )?;
            Ok(if s.passed() {
                ExitStatus::Clean
            } else {
                ExitStatus::Findings
            })
        }
    }
}

fn check(args: CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<ExitStatus, Failure> {
    let start = Instant::now();
    let catalog = load_catalog()?;
    let fail_on = Severity::parse(&args.fail_on).ok_or_else(|| {
        Failure(format!(
            "--fail-on: unknown severity `{}` (error, warning, note)",
            args.fail_on
        ))
    })?;
    let format: emit::Format = args
        .format
        .parse()
        .map_err(|e: emit::UnknownFormat| Failure(e.to_string()))?;
    let settings = Settings {
        select: args.select.clone(),
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
        include_vendored: args.include_vendored,
        max_filesize: args.max_filesize.unwrap_or(5 * 1024 * 1024),
        ..Settings::default()
    };
    for sel in args
        .select
        .iter()
        .chain(&args.extend_select)
        .chain(&args.ignore)
    {
        if !catalog
            .rules
            .iter()
            .any(|r| settings::selects(sel, &r.info.id, &r.info.name))
        {
            return Err(Failure(format!(
                "unknown rule selector `{sel}`; `phi-lint rules` lists the rules"
            )));
        }
    }
    let cwd = std::env::current_dir()?;
    let roots: Vec<PathBuf> = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let walk_opts = discover::WalkOptions {
        include_vendored: args.include_vendored,
        follow_links: args.follow_links,
        threads: args.threads.unwrap_or_else(default_threads),
        exclude: None,
        force_exclude: args.force_exclude,
    };
    let (candidates, walk_notes) = discover::walk(&roots, &walk_opts);
    let inputs: Vec<Input> = candidates
        .into_iter()
        .map(|c| Input {
            display: display_path(&c.path, &cwd),
            path: c.path,
            content: None,
            explicit: c.explicit,
        })
        .collect();
    let active = settings.active_rules(&catalog);
    let mut checker = Checker::new(&catalog, &settings, active);
    checker.gather_project(&inputs);
    let mut report = checker.run(&inputs, args.threads.unwrap_or_else(default_threads));
    for (path, message) in walk_notes {
        report.notes.push(diagnostic::Note {
            path: display_path(std::path::Path::new(&path), &cwd),
            message,
            internal: false,
        });
    }
    report.notes.sort();
    report.root = cwd.clone();
    report.elapsed = start.elapsed();
    let failing = report.active().filter(|f| f.severity >= fail_on).count();
    if let Some(max) = args.max_findings {
        let mut kept = 0;
        report.findings.retain(|f| {
            if f.suppressed.is_some() {
                return true;
            }
            kept += 1;
            kept <= max
        });
    }
    let color = !args.no_color
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let opts = emit::EmitOptions {
        color,
        show_suppressed: args.show_suppressed,
        version: env!("CARGO_PKG_VERSION"),
        show_elapsed: true,
    };
    for spec in &args.outputs {
        let (f, path) = spec
            .split_once('=')
            .ok_or_else(|| Failure(format!("--output expects FORMAT=PATH, got `{spec}`")))?;
        let f: emit::Format = f
            .parse()
            .map_err(|e: emit::UnknownFormat| Failure(e.to_string()))?;
        let mut buf = Vec::new();
        emit::emit(
            f,
            &report,
            &emit::EmitOptions {
                color: false,
                ..opts.clone()
            },
            &mut buf,
        )?;
        std::fs::write(path, buf).map_err(|e| Failure(format!("cannot write {path}: {e}")))?;
    }
    let mut shown = report.clone();
    if args.quiet {
        shown.notes.clear();
    }
    emit::emit(
        format,
        &shown,
        &emit::EmitOptions {
            show_elapsed: !args.quiet,
            ..opts
        },
        out,
    )?;
    let _ = err;
    if report.notes.iter().any(|n| n.internal) {
        return Ok(ExitStatus::Error);
    }
    Ok(if failing > 0 && !args.exit_zero {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}
