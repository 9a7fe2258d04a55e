//! phi-lint: a HIPAA compliance linter for code that sends protected health information to
//! LLMs. `run` is the whole program; `main` only maps its result to an exit code.
//!
//! The pipeline: args + config → settings → rule set → candidate files → per file in
//! parallel: read → prefilter → parse → facts → match → suppress → sort → emit → exit code.

pub mod baseline;
pub mod check;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod docs;
pub mod emit;
pub mod engine;
pub mod facts;
pub mod git;
pub mod lang;
pub mod package;
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

/// The built-in catalogue plus custom rules from `dirs`.
fn load_catalog_with(dirs: &[PathBuf]) -> Result<Catalog, Failure> {
    let mut catalog = load_catalog()?;
    let cwd = std::env::current_dir()?;
    for d in dirs {
        if !d.is_dir() {
            return Err(Failure(format!(
                "rules folder `{}` does not exist",
                d.display()
            )));
        }
        config::load_custom_rules(&mut catalog, d, &cwd).map_err(|e| {
            Failure(format!(
                "custom rule failed to load:\n{}",
                render_load_error(&e)
            ))
        })?;
    }
    Ok(catalog)
}

fn execute(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<ExitStatus, Failure> {
    match cli.command {
        Command::Check(args) => check(*args, out, err),
        Command::Config(a) => config_show(a, out),
        Command::Suppressions(a) => suppressions(a, out),
        Command::Init { dir } => {
            let path = dir.join("phi-lint.toml");
            if path.exists() {
                return Err(Failure(format!(
                    "{} already exists; not overwriting it",
                    path.display()
                )));
            }
            std::fs::write(&path, config::STARTER)
                .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
            writeln!(out, "wrote {}", path.display())?;
            Ok(ExitStatus::Clean)
        }
        Command::RuleSchema => {
            writeln!(out, "{}", rule_schema())?;
            Ok(ExitStatus::Clean)
        }
        Command::Baseline(b) => {
            let (paths, action) = match b {
                cli::BaselineCommand::Write { paths, output } => {
                    (paths, cli::BaselineAction::Write(output))
                }
                cli::BaselineCommand::Prune { file, paths } => {
                    (paths, cli::BaselineAction::Prune(file))
                }
            };
            let args = CheckArgs {
                paths,
                baseline_action: action,
                format: "human".into(),
                fail_on: "warning".into(),
                ..CheckArgs::default()
            };
            check(args, out, err)
        }
        Command::NewRule { id, name, dir } => {
            let catalog = load_catalog()?;
            let written = scaffold::new_rule(&catalog, &id, &name, &dir).map_err(Failure)?;
            for p in written {
                writeln!(out, "wrote {}", p.display())?;
            }
            Ok(ExitStatus::Clean)
        }
        Command::Rules(a) => {
            let catalog = load_catalog_with(&a.rules_dirs)?;
            if a.format == "json" {
                let infos: Vec<_> = catalog.rules.iter().map(|r| &r.info).collect();
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&infos).unwrap_or_default()
                )?;
            } else {
                writeln!(
                    out,
                    "{:<8} {:<34} {:<8} {:<8} languages",
                    "id", "name", "severity", "status"
                )?;
                for r in &catalog.rules {
                    writeln!(
                        out,
                        "{:<8} {:<34} {:<8} {:<8} {}",
                        r.info.id,
                        r.info.name,
                        r.info.severity,
                        if r.info.custom { "custom" } else { "builtin" },
                        r.info.languages.join(",")
                    )?;
                }
            }
            Ok(ExitStatus::Clean)
        }
        Command::Rule { rule, rules_dirs } => {
            let catalog = load_catalog_with(&rules_dirs)?;
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
            writeln!(
                out,
                "Source: {} ({})",
                r.source,
                if r.info.custom { "custom" } else { "built-in" }
            )?;
            Ok(ExitStatus::Clean)
        }
        Command::Test { paths, rules_dirs } => {
            let catalog = load_catalog_with(&rules_dirs)?;
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
    // With `--staged` the built-in rules load on a thread of their own while git lists the
    // staged files (14 of 37 ms of a commit hook's run). Not for a walk: the catalogue then
    // lives in the exited thread's abandoned allocator pages, and the dense benchmark tree's
    // peak RSS went 99 -> 116 MB for no measurable gain.
    let builtin = args.staged.then(|| std::thread::spawn(load_catalog));
    let builtin = move || match builtin {
        Some(job) => job.join().unwrap_or_else(|_| {
            Err(Failure(
                "built-in rules failed to load (a bug): the loader panicked".into(),
            ))
        }),
        None => load_catalog(),
    };
    let cwd = std::env::current_dir()?;
    let mut roots: Vec<PathBuf> = args.paths.clone();
    if let Some(file) = &args.files_from {
        roots.extend(git::files_from(file)?);
    } else if roots.is_empty() {
        roots.push(PathBuf::from("."));
    }
    let walk_opts = discover::WalkOptions {
        include_vendored: args.include_vendored,
        follow_links: args.follow_links,
        threads: args.threads.unwrap_or_else(default_threads),
        exclude: None,
        force_exclude: args.force_exclude,
    };
    let (candidates, walk_notes) = if args.staged {
        (Vec::new(), Vec::new())
    } else {
        discover::walk(&roots, &walk_opts)
    };
    // `--staged` checks the index blobs of staged files, not the work tree.
    let mut staged_content: std::collections::HashMap<PathBuf, (String, Vec<u8>)> =
        std::collections::HashMap::new();
    let candidates = if args.staged {
        let staged = git::staged_inputs(&args.paths, &cwd, args.include_vendored)?;
        let mut c = Vec::new();
        for i in staged {
            c.push(discover::Candidate {
                path: i.path.clone(),
                explicit: true,
            });
            let display = i.display().to_string();
            if let Some(content) = i.content {
                staged_content.insert(i.path, (display, content));
            }
        }
        c
    } else {
        candidates
    };
    let changed = match &args.diff {
        Some(r) => Some(git::changed_lines(r, &cwd)?),
        None => None,
    };
    let overrides = config::Overrides {
        select: args.select.clone(),
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
        max_filesize: args.max_filesize,
        include_vendored: args.include_vendored,
    };
    let plan = plan_run(
        &cwd,
        &roots,
        candidates,
        args.config.as_deref(),
        args.isolated,
        &overrides,
        walk_opts.threads,
        builtin,
    )?;
    let Plan { catalog, groups } = plan;
    let catalog = &catalog;
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
            let hint = suppress::did_you_mean(catalog, sel)
                .map(|m| format!(" (did you mean `{m}`?)"))
                .unwrap_or_default();
            return Err(Failure(format!(
                "unknown rule selector `{sel}`{hint}; `phi-lint rules` lists the rules"
            )));
        }
    }
    let threads = args.threads.unwrap_or_else(default_threads);
    let mut report = diagnostic::Report::default();
    let mut rule_infos = std::collections::BTreeMap::new();
    // The files checked, by shown path: only the baseline asks.
    let keep_checked =
        args.baseline.is_some() || matches!(args.baseline_action, cli::BaselineAction::Prune(_));
    let mut checked = std::collections::HashSet::new();
    for (settings, candidates) in groups {
        let settings = &settings;
        // Each file's path is moved, not copied: on a tree of 100k files every copy of the
        // paths is ~10 MB held to the end of the run.
        let mut inputs: Vec<Input> = candidates
            .into_iter()
            .filter(|c| (c.explicit && !args.force_exclude) || !settings.excludes(&c.abs()))
            .map(|c| Input::at(c.path, &cwd, c.explicit))
            .collect();
        let active = settings.active_rules(catalog);
        for i in &mut inputs {
            if let Some((display, content)) = staged_content.remove(&i.path) {
                i.set_display(&display);
                i.content = Some(content);
            }
        }
        let mut checker = Checker::new(catalog, settings, active);
        checker.roots = roots.iter().map(|r| config::absolute(r, &cwd)).collect();
        checker.threads = threads;
        checker.gather_project(&inputs, changed.is_none());
        if let Some(c) = &changed {
            inputs.retain(|i| c.touches(i.display()));
        }
        if keep_checked {
            checked.extend(git::displays(&inputs));
        }
        let mut part = checker.run(&inputs, threads);
        // The absolute path of each file with a finding, for `per-file-ignores` (as the plan
        // made it for the config globs).
        let reported: std::collections::HashSet<&str> = part
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .map(|f| f.path.as_str())
            .collect();
        let abs: std::collections::HashMap<String, PathBuf> = inputs
            .iter()
            .filter(|i| reported.contains(i.display()))
            .map(|i| (i.display().to_string(), config::absolute(&i.path, &cwd)))
            .collect();
        for f in &mut part.findings {
            if f.suppressed.is_some() {
                continue;
            }
            let Some(path) = abs.get(&f.path) else {
                continue;
            };
            if let Some(p) = settings.per_file_ignore(path, &f.rule) {
                f.suppressed = Some(diagnostic::Suppressed {
                    kind: "per-file-ignores".into(),
                    reason: format!("per-file-ignores \"{}\"", p.glob.pattern),
                    location: p.location.clone(),
                });
            }
        }
        report.findings.extend(part.findings);
        report.notes.extend(part.notes);
        report.files_scanned += part.files_scanned;
        for r in part.rules {
            rule_infos.insert(r.id.clone(), r);
        }
    }
    report.rules = rule_infos.into_values().collect();
    report.findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule, a.end_line, a.end_column).cmp(&(
            &b.path,
            b.line,
            b.column,
            &b.rule,
            b.end_line,
            b.end_column,
        ))
    });
    if let Some(b) = &args.baseline {
        let shown = display_path(b, &cwd);
        baseline::apply(&mut report, b, &shown, &checked)?;
    }
    if let Some(c) = &changed {
        c.retain(&mut report);
    }
    match &args.baseline_action {
        cli::BaselineAction::None => {}
        cli::BaselineAction::Write(path) => {
            let n = baseline::write(path, &report)?;
            writeln!(out, "wrote {n} baseline entries to {}", path.display())?;
            return Ok(ExitStatus::Clean);
        }
        cli::BaselineAction::Prune(path) => {
            let (removed, kept) = baseline::prune(path, &report, &checked)?;
            writeln!(
                out,
                "removed {removed} stale baseline entries from {}; {kept} remain",
                path.display()
            )?;
            return Ok(ExitStatus::Clean);
        }
    }
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

/// A file found by discovery, with its absolute path (for config globs).
pub struct Planned {
    pub path: PathBuf,
    /// The absolute folder the file is in, shared by its folder's files (most of them), or
    /// the file's own absolute path.
    at: Absolute,
    pub explicit: bool,
}

enum Absolute {
    InFolder(std::sync::Arc<std::path::Path>),
    Own(PathBuf),
}

impl Planned {
    /// The file's absolute path (config globs match it). Made when asked: a path per file
    /// held from the plan to the check was 16 MB on a tree of 100k files.
    pub fn abs(&self) -> std::borrow::Cow<'_, std::path::Path> {
        match (&self.at, self.path.file_name()) {
            (Absolute::InFolder(dir), Some(name)) => dir.join(name).into(),
            (Absolute::InFolder(dir), None) => std::borrow::Cow::Borrowed(dir),
            (Absolute::Own(p), _) => std::borrow::Cow::Borrowed(p),
        }
    }
}

/// The rule catalogue (built-in plus every configured custom rule) and the files grouped by
/// the config that governs them, each group with its own settings.
pub struct Plan {
    pub catalog: Catalog,
    pub groups: Vec<(Settings, Vec<Planned>)>,
}

fn config_failure(e: config::ConfigError) -> Failure {
    Failure(format!("invalid configuration\n{}", e.render()))
}

/// Finds the config for every candidate, loads the configs and custom rules, and resolves
/// one `Settings` per config file. `builtin` gives the built-in catalogue (with `--staged`,
/// `check` starts loading it first thing).
pub fn plan_run(
    cwd: &std::path::Path,
    roots: &[PathBuf],
    candidates: Vec<discover::Candidate>,
    explicit_config: Option<&std::path::Path>,
    isolated: bool,
    overrides: &config::Overrides,
    threads: usize,
    builtin: impl FnOnce() -> Result<Catalog, Failure>,
) -> Result<Plan, Failure> {
    // Sorted candidates come folder by folder: a folder's absolute path and config are worked
    // out once, for its first file (normalising every path and hashing every folder's path cost
    // 40 ms for the 37k files of the sparse benchmark tree, before any file was read).
    let mut folders: Vec<(usize, Option<PathBuf>)> = Vec::new();
    let mut last = None;
    for (k, c) in candidates.iter().enumerate() {
        let parent = c.path.parent();
        if k == 0 || parent != last {
            folders.push((k, parent.map(|p| config::absolute(p, cwd))));
            last = parent;
        }
    }
    let mut discovery = config::Discovery::default();
    if !isolated && explicit_config.is_none() {
        // The folders are looked in all at once, on the walk's threads.
        let dirs: Vec<&std::path::Path> =
            folders.iter().filter_map(|(_, d)| d.as_deref()).collect();
        discovery.probe(&dirs, threads);
    }
    // The config governing a folder, or, with `dir` false, a path that may be a file.
    let mut which = |p: &std::path::Path, dir: bool| -> Option<PathBuf> {
        if isolated {
            None
        } else if let Some(c) = explicit_config {
            Some(config::absolute(c, cwd))
        } else if dir {
            discovery.for_dir(p)
        } else {
            discovery.for_path(p)
        }
    };
    let mut groups: std::collections::BTreeMap<Option<PathBuf>, Vec<Planned>> =
        std::collections::BTreeMap::new();
    for r in roots {
        groups
            .entry(which(&config::absolute(r, cwd), false))
            .or_default();
    }
    let mut folders = folders.into_iter().peekable();
    let mut folder: Option<(std::sync::Arc<std::path::Path>, Option<PathBuf>)> = None;
    for (k, c) in candidates.into_iter().enumerate() {
        if let Some((_, dir)) = folders.next_if(|(first, _)| *first == k) {
            folder = dir.map(|d| {
                let config = which(&d, true);
                (d.into(), config)
            });
        }
        let named = c.path.file_name().is_some();
        match &folder {
            Some((dir, config)) if named => {
                let planned = Planned {
                    path: c.path,
                    at: Absolute::InFolder(dir.clone()),
                    explicit: c.explicit,
                };
                match groups.get_mut(config) {
                    Some(group) => group.push(planned),
                    None => {
                        groups.insert(config.clone(), vec![planned]);
                    }
                }
            }
            _ => {
                let abs = config::absolute(&c.path, cwd);
                let config = which(abs.parent().unwrap_or(std::path::Path::new("/")), true);
                groups.entry(config).or_default().push(Planned {
                    path: c.path,
                    at: Absolute::Own(abs),
                    explicit: c.explicit,
                });
            }
        }
    }
    let mut files = Vec::new();
    for key in groups.keys() {
        let f = match key {
            Some(p) => Some(config::load(p, cwd).map_err(config_failure)?),
            None => None,
        };
        files.push(f);
    }
    let mut catalog = builtin()?;
    for f in files.iter().flatten() {
        for d in config::rules_dirs(f).map_err(config_failure)? {
            config::load_custom_rules(&mut catalog, &d, cwd).map_err(|e| {
                Failure(format!(
                    "custom rule failed to load:\n{}",
                    render_load_error(&e)
                ))
            })?;
        }
    }
    let mut out = Vec::new();
    for (f, (_, planned)) in files.iter().zip(groups) {
        let settings = config::resolve(f.as_ref(), &catalog, overrides).map_err(config_failure)?;
        out.push((settings, planned));
    }
    Ok(Plan {
        catalog,
        groups: out,
    })
}

fn config_show(a: cli::ConfigArgs, out: &mut dyn Write) -> Result<ExitStatus, Failure> {
    let cwd = std::env::current_dir()?;
    let path = a.path.unwrap_or_else(|| PathBuf::from("."));
    let plan = plan_run(
        &cwd,
        std::slice::from_ref(&path),
        Vec::new(),
        a.config.as_deref(),
        a.isolated,
        &config::Overrides::default(),
        1,
        load_catalog,
    )?;
    let (settings, _) = &plan.groups[0];
    let _ = a.show;
    write!(out, "{}", config::show(settings, &plan.catalog, &cwd))?;
    Ok(ExitStatus::Clean)
}

/// One row of the exception register.
#[derive(serde::Serialize)]
struct RegisterRow {
    path: String,
    line: usize,
    kind: &'static str,
    rules: Vec<String>,
    reason: Option<String>,
    until: Option<String>,
    expired: bool,
}

fn suppressions(a: cli::SuppressionsArgs, out: &mut dyn Write) -> Result<ExitStatus, Failure> {
    let cwd = std::env::current_dir()?;
    let roots = if a.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        a.paths
    };
    let (candidates, _) = discover::walk(
        &roots,
        &discover::WalkOptions {
            threads: default_threads(),
            ..Default::default()
        },
    );
    let today = suppress::Date::today();
    let mut rows = Vec::new();
    for c in candidates {
        let Some(lang) = lang::detect(&c.path) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(&c.path) else {
            continue;
        };
        if source::looks_binary(&bytes) {
            continue;
        }
        let text = source::decode(&bytes).text;
        if !text.contains("phi-lint:") {
            continue;
        }
        let facts = lang::extract(lang, &text);
        let index = source::LineIndex::new(&text);
        for d in suppress::parse(&text, &index, &facts) {
            let expired = d
                .until
                .as_deref()
                .is_some_and(|u| suppress::Date::parse(u).is_none_or(|x| x < today));
            rows.push(RegisterRow {
                path: display_path(&c.path, &cwd),
                line: d.line,
                kind: d.kind.as_str(),
                rules: d.rules,
                reason: d.reason,
                until: d.until,
                expired,
            });
        }
    }
    if a.format == "json" {
        let v = serde_json::json!({"version": 1, "suppressions": rows});
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        )?;
    } else {
        for r in &rows {
            let until = match (&r.until, r.expired) {
                (Some(u), true) => format!(" until {u} (expired)"),
                (Some(u), false) => format!(" until {u}"),
                _ => String::new(),
            };
            writeln!(
                out,
                "{}:{}: {}[{}]{} -- {}",
                r.path,
                r.line,
                r.kind,
                r.rules.join(", "),
                until,
                r.reason.as_deref().unwrap_or("(no reason)")
            )?;
        }
        writeln!(out, "{} suppressions", rows.len())?;
    }
    Ok(ExitStatus::Clean)
}

/// The JSON Schema of the rule file format, generated from the serde types.
pub fn rule_schema() -> String {
    let schema = schemars::schema_for!(rule::spec::RuleSpec);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

pub mod scaffold {
    //! `phi-lint new-rule`: a rule file and its fixture that load and pass as written.

    use std::path::{Path, PathBuf};

    use crate::rule::Catalog;

    pub fn rule_text(id: &str, name: &str) -> String {
        format!(
            r#"# A custom phi-lint rule. Format: rules/README.md; schema: docs/rule.schema.json.
id = "{id}"
name = "{name}"
severity = "warning"
summary = "Describe in one sentence what this rule finds"
languages = ["python", "javascript", "typescript", "env", "yaml"]
# At least one of these words must occur in a file for the rule to run on it.
keywords = ["llm-gateway.example.com"]
message = "`{{value}}` is not the approved LLM gateway"
help = "Send LLM traffic through the approved gateway"

[docs]
what = "Finds the example host; replace with what your rule finds."
why = "Explain why this can send PHI outside the organisation's BAA."
safeguard = "45 CFR 164.312(e)(1) - transmission security"
bad = "LLM_URL=https://llm-gateway.example.com/v1"
good = "LLM_URL=https://approved-gateway.example.org/v1"

[[match]]
kind = "string"
pattern = '(?P<hit>llm-gateway\.example\.com)'
"#
        )
    }

    pub fn fixture_text(id: &str) -> String {
        format!(
            "# ruleid: {id}
LLM_URL=https://llm-gateway.example.com/v1
# ok: {id}
LLM_URL=https://approved-gateway.example.org/v1
"
        )
    }

    /// Writes `<dir>/<ID>-<name>.toml` and `<dir>/fixtures/<ID>/example.env`.
    pub fn new_rule(
        catalog: &Catalog,
        id: &str,
        name: &str,
        dir: &Path,
    ) -> Result<Vec<PathBuf>, String> {
        if let Some(r) = catalog.find(id).or_else(|| catalog.find(name)) {
            return Err(format!("{} ({}) already exists", r.info.id, r.info.name));
        }
        let text = rule_text(id, name);
        crate::rule::compile("new rule", &text, &catalog.knowledge, true)
            .map_err(|e| format!("cannot scaffold this rule: {}", e.message))?;
        let rule = dir.join(format!("{id}-{name}.toml"));
        let fixture = dir.join("fixtures").join(id).join("example.env");
        for p in [&rule, &fixture] {
            if p.exists() {
                return Err(format!(
                    "{} already exists; not overwriting it",
                    p.display()
                ));
            }
        }
        std::fs::create_dir_all(fixture.parent().unwrap_or(dir))
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        std::fs::write(&rule, text).map_err(|e| format!("cannot write {}: {e}", rule.display()))?;
        std::fs::write(&fixture, fixture_text(id))
            .map_err(|e| format!("cannot write {}: {e}", fixture.display()))?;
        Ok(vec![rule, fixture])
    }
}
