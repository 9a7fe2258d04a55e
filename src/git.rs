//! Git integration for `check --staged`, `--diff REF` and `--files-from`, through the `git`
//! binary (no libgit2).
//!
//! `--staged` reads the index, not the work tree: one `git diff --cached --raw` lists staged
//! files with their blob ids. A work-tree file whose git blob id is the staged one holds
//! exactly the staged bytes and is read from disk (the usual pre-commit case: nothing changed
//! since `git add`); the other blobs are streamed by one `git cat-file --batch`. So a
//! pre-commit run costs one or two short-lived processes whatever the number of files.
//!
//! `--diff REF` keeps the findings whose line range intersects a line added or changed since
//! `git merge-base REF HEAD` (the work tree against that commit, renames followed, so a
//! renamed file only reports what changed in it). Untracked files that are not ignored count
//! as wholly new. Pure deletions change no line of the new file and so report nothing.
//! Findings on a whole IaC block (a missing attribute) span the block, so any change inside
//! the block keeps them.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::check::Input;
use crate::diagnostic::Report;
use crate::Failure;

/// Runs `git args` in `cwd` and returns its stdout, or a failure naming the command.
fn git(cwd: &Path, args: &[&str]) -> Result<Vec<u8>, Failure> {
    let out = Command::new("git")
        .args(["-c", "core.quotepath=off"])
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(Failure(format!("`git {}` failed: {msg}", args.join(" "))));
    }
    Ok(out.stdout)
}

/// The top level of the work tree that contains `cwd`.
///
/// The nearest folder holding `.git` (a directory, or the file of a linked worktree or
/// submodule) is the top level, found without starting git (a pre-commit hook pays ~8 ms per
/// git process). When git's location variables are set, git is asked.
pub fn toplevel(cwd: &Path) -> Result<PathBuf, Failure> {
    let overridden = ["GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if !overridden && cwd.is_absolute() {
        if let Some(top) = cwd.ancestors().find(|d| d.join(".git").exists()) {
            return Ok(top.to_path_buf());
        }
    }
    let out = git(cwd, &["rev-parse", "--show-toplevel"])
        .map_err(|e| Failure(format!("not inside a git work tree: {e}")))?;
    let s = String::from_utf8_lossy(&out)
        .trim_end_matches('\n')
        .to_string();
    Ok(PathBuf::from(s))
}

/// `path` (absolute) relative to `base` (absolute), with `..` where needed, `/`-separated.
pub fn relative(path: &Path, base: &Path) -> String {
    let p: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = Vec::new();
    for _ in common..b.len() {
        parts.push("..".into());
    }
    for c in &p[common..] {
        parts.push(c.as_os_str().to_string_lossy().into_owned());
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// The canonical working directory (git reports canonical paths, so both sides must be).
fn canonical(cwd: &Path) -> PathBuf {
    cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf())
}

fn vendored(rel: &str) -> bool {
    let mut parts = rel.split('/').rev();
    parts.next().is_some_and(crate::discover::is_lock_file)
        || parts.any(|c| crate::discover::VENDORED_DIRS.contains(&c))
}

/// The staged content of every staged file (added, copied, modified or renamed) that
/// phi-lint reads, limited to `paths` when given. Symbolic links and submodules are skipped.
pub fn staged_inputs(
    paths: &[PathBuf],
    cwd: &Path,
    include_vendored: bool,
) -> Result<Vec<Input>, Failure> {
    let top = toplevel(cwd)?;
    let here = canonical(cwd);
    let mut args = vec![
        "diff",
        "--cached",
        "--raw",
        "-z",
        "--no-abbrev",
        "--no-renames",
        "--no-ext-diff",
        "--diff-filter=ACMR",
    ];
    let specs: Vec<String> = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if !specs.is_empty() {
        args.push("--");
        args.extend(specs.iter().map(String::as_str));
    }
    let raw = git(cwd, &args)?;
    // Records: ":oldmode newmode oldsha newsha status\0path\0".
    let mut files: Vec<(String, String)> = Vec::new();
    let mut it = raw.split(|&b| b == 0).filter(|s| !s.is_empty());
    while let Some(meta) = it.next() {
        let meta = String::from_utf8_lossy(meta);
        let fields: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let Some(path) = it.next() else { break };
        if fields.len() < 5 {
            continue;
        }
        let path = String::from_utf8_lossy(path).into_owned();
        if fields[4].starts_with('R') || fields[4].starts_with('C') {
            // With --no-renames there are none; a second path would follow.
            continue;
        }
        let (mode, sha) = (fields[1], fields[3]);
        if !(mode == "100644" || mode == "100755") || sha.bytes().all(|b| b == b'0') {
            continue;
        }
        if crate::lang::detect(Path::new(&path)).is_none() || (!include_vendored && vendored(&path))
        {
            continue;
        }
        files.push((path, sha.to_string()));
    }
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let on_disk: Vec<Option<Vec<u8>>> = files
        .iter()
        .map(|(path, sha)| worktree_blob(&top.join(path), sha))
        .collect();
    let missing: Vec<String> = files
        .iter()
        .zip(&on_disk)
        .filter(|(_, disk)| disk.is_none())
        .map(|((_, sha), _)| sha.clone())
        .collect();
    let blobs = if missing.is_empty() {
        HashMap::new()
    } else {
        cat_blobs(cwd, missing)?
    };
    let mut inputs: Vec<Input> = files
        .into_iter()
        .zip(on_disk)
        .filter_map(|((path, sha), disk)| {
            let content = match disk {
                Some(bytes) => bytes,
                None => blobs.get(&sha)?.clone(),
            };
            let abs = top.join(&path);
            let display = relative(&abs, &here);
            Some(Input::new(abs, &display, Some(content), false))
        })
        .collect();
    inputs.sort_by(|a, b| a.display().cmp(b.display()));
    Ok(inputs)
}

/// Work-tree files bigger than this are read from git, not hashed.
const HASHED_LIMIT: u64 = 16 * 1024 * 1024;

/// The bytes of the file at `path` when they are the blob `sha` (git's id of a blob: SHA-1,
/// or SHA-256 in a repository with that object format, of `blob <len>\0` and the bytes).
/// Line-ending conversion, clean filters and later edits all change the id, so a file they
/// touched is read from git instead.
fn worktree_blob(path: &Path, sha: &str) -> Option<Vec<u8>> {
    use sha1::Digest;
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > HASHED_LIMIT {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let header = format!("blob {}\0", bytes.len());
    let id = match sha.len() {
        40 => format!(
            "{:x}",
            sha1::Sha1::new()
                .chain_update(&header)
                .chain_update(&bytes)
                .finalize()
        ),
        64 => format!(
            "{:x}",
            sha2::Sha256::new()
                .chain_update(&header)
                .chain_update(&bytes)
                .finalize()
        ),
        _ => return None,
    };
    id.eq_ignore_ascii_case(sha).then_some(bytes)
}

/// Reads blobs by id through one `git cat-file --batch` process.
fn cat_blobs(cwd: &Path, shas: Vec<String>) -> Result<HashMap<String, Vec<u8>>, Failure> {
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Failure(format!("cannot run git cat-file: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let request: String = shas.iter().map(|s| format!("{s}\n")).collect();
    // Written from a thread so a large batch cannot deadlock on a full stdout pipe.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(request.as_bytes());
    });
    let mut out = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut blobs = HashMap::new();
    let mut header = String::new();
    for _ in 0..shas.len() {
        header.clear();
        if out.read_line(&mut header)? == 0 {
            break;
        }
        let parts: Vec<&str> = header.trim_end().split(' ').collect();
        if parts.len() != 3 {
            continue; // "<sha> missing"
        }
        let size: usize = parts[2]
            .parse()
            .map_err(|_| Failure(format!("git cat-file: bad header `{}`", header.trim_end())))?;
        let mut buf = vec![0; size + 1];
        out.read_exact(&mut buf)?;
        buf.truncate(size);
        blobs.insert(parts[0].to_string(), buf);
    }
    let _ = writer.join();
    let status = child.wait();
    // A staged file git does not hand over would be left unchecked, and a pre-commit hook
    // would pass it: that is an error, not a file to skip.
    if let Some(missing) = shas.iter().find(|s| !blobs.contains_key(s.as_str())) {
        let how = match status {
            Ok(s) if !s.success() => format!(" ({s})"),
            _ => String::new(),
        };
        return Err(Failure(format!(
            "git cat-file --batch did not return the staged blob {missing}{how}: the staged files cannot be read"
        )));
    }
    Ok(blobs)
}

/// Reads the paths listed in `file` (`-` for stdin), one per line; blank lines are skipped.
pub fn files_from(file: &str) -> Result<Vec<PathBuf>, Failure> {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure(format!("--files-from -: cannot read stdin: {e}")))?;
        s
    } else {
        std::fs::read_to_string(file).map_err(|e| Failure(format!("--files-from {file}: {e}")))?
    };
    Ok(text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .map(PathBuf::from)
        .collect())
}

/// Lines changed since a merge base, by display path (relative to the working directory).
#[derive(Debug, Default)]
pub struct ChangedLines {
    /// Inclusive 1-based line ranges added or changed, per file.
    pub files: HashMap<String, Vec<(usize, usize)>>,
}

impl ChangedLines {
    /// Whether `display` has any changed line (only changed files need checking).
    pub fn touches(&self, display: &str) -> bool {
        self.files.contains_key(display)
    }

    /// Whether lines `first..=last` of `display` intersect a changed range.
    pub fn intersects(&self, display: &str, first: usize, last: usize) -> bool {
        self.files
            .get(display)
            .is_some_and(|rs| rs.iter().any(|&(a, b)| a <= last.max(first) && first <= b))
    }

    /// Drops the findings (and notes) of `report` outside the changed lines.
    pub fn retain(&self, report: &mut Report) {
        report
            .findings
            .retain(|f| self.intersects(&f.path, f.line, f.end_line));
    }
}

/// The lines added or changed since `git merge-base REF HEAD`, work tree included, plus
/// untracked files (not ignored) as wholly new.
pub fn changed_lines(reference: &str, cwd: &Path) -> Result<ChangedLines, Failure> {
    let top = toplevel(cwd)?;
    let here = canonical(cwd);
    let base = git(cwd, &["merge-base", reference, "HEAD"])
        .map_err(|e| Failure(format!("--diff {reference}: no merge base with HEAD: {e}")))?;
    let base = String::from_utf8_lossy(&base).trim().to_string();
    let diff = git(
        &top,
        &[
            "diff",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "-M",
            &base,
            "--",
        ],
    )?;
    let mut changed = ChangedLines::default();
    for (path, ranges) in parse_diff(&String::from_utf8_lossy(&diff)) {
        let display = relative(&top.join(&path), &here);
        changed.files.entry(display).or_default().extend(ranges);
    }
    let untracked = git(&top, &["ls-files", "--others", "--exclude-standard", "-z"])?;
    for p in untracked.split(|&b| b == 0).filter(|s| !s.is_empty()) {
        let display = relative(&top.join(String::from_utf8_lossy(p).as_ref()), &here);
        changed.files.insert(display, vec![(1, usize::MAX)]);
    }
    Ok(changed)
}

/// Parses `git diff -U0` output into (new path, added line ranges) per file. Deleted files
/// are left out; files whose diff has no hunk (pure renames, mode changes) get no range.
pub fn parse_diff(diff: &str) -> Vec<(String, Vec<(usize, usize)>)> {
    let mut out: Vec<(String, Vec<(usize, usize)>)> = Vec::new();
    let mut current: Option<usize> = None;
    for line in diff.lines() {
        if line.starts_with("diff --git ") {
            current = None;
        } else if let Some(rest) = line.strip_prefix("+++ ") {
            let path = unquote(rest);
            current = match path.strip_prefix("b/") {
                Some(p) => {
                    out.push((p.to_string(), Vec::new()));
                    Some(out.len() - 1)
                }
                None => None, // /dev/null: deleted
            };
        } else if let Some(rest) = line.strip_prefix("@@ ") {
            let Some(i) = current else { continue };
            let Some(new) = rest.split(' ').find(|t| t.starts_with('+')) else {
                continue;
            };
            let new = &new[1..];
            let (start, count) = match new.split_once(',') {
                Some((s, c)) => (s.parse().unwrap_or(0), c.parse().unwrap_or(0)),
                None => (new.parse().unwrap_or(0), 1),
            };
            if count > 0 {
                out[i].1.push((start, start + count - 1));
            }
        }
    }
    out
}

/// Undoes git's C-style quoting of a path (`"b/a\tb"`); unquoted paths are returned as is.
fn unquote(s: &str) -> String {
    let s = s.trim_end();
    let Some(inner) = s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) else {
        return s.to_string();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(c) = chars.next() {
        if c != b'\\' {
            bytes.push(c);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'r') => bytes.push(b'\r'),
            Some(b'a') => bytes.push(7),
            Some(b'b') => bytes.push(8),
            Some(b'f') => bytes.push(12),
            Some(b'v') => bytes.push(11),
            Some(d @ b'0'..=b'7') => {
                let mut v = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = chars.peek() {
                        v = v * 8 + u32::from(n - b'0');
                        chars.next();
                    }
                }
                bytes.push(v as u8);
            }
            Some(o) => bytes.push(o),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Display paths of the inputs a run checked (for stale-baseline detection).
pub fn displays(inputs: &[Input]) -> HashSet<String> {
    inputs.iter().map(|i| i.display().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_files_in_vendored_trees_and_lock_files_are_vendored() {
        assert!(vendored("web/node_modules/x/index.js"));
        assert!(vendored("web/pnpm-lock.yaml"));
        assert!(vendored("package-lock.json"));
        assert!(!vendored("web/src/app.ts"));
        assert!(!vendored("pnpm-lock.yaml/app.yaml"));
        assert!(!vendored("node_modules"));
    }

    #[test]
    fn parses_hunks_renames_and_deletions() {
        let diff = "diff --git a/x.env b/y.env\nsimilarity index 80%\nrename from x.env\nrename to y.env\n--- a/x.env\n+++ b/y.env\n@@ -2 +2,2 @@\n-A=1\n+A=2\n+B=3\n@@ -9,2 +10,0 @@\n-x\n-y\ndiff --git a/gone.env b/gone.env\n--- a/gone.env\n+++ /dev/null\n@@ -1 +0,0 @@\n-A=1\ndiff --git a/m.env b/m.env\nold mode 100644\nnew mode 100755\ndiff --git \"a/sp\\303\\251c\\tx.env\" \"b/sp\\303\\251c\\tx.env\"\n--- \"a/sp\\303\\251c\\tx.env\"\n+++ \"b/sp\\303\\251c\\tx.env\"\n@@ -0,0 +1 @@\n+A=1\n";
        let got = parse_diff(diff);
        assert_eq!(
            got,
            vec![
                ("y.env".to_string(), vec![(2, 3)]),
                ("spéc\tx.env".to_string(), vec![(1, 1)]),
            ]
        );
    }

    #[test]
    fn relative_paths_climb() {
        assert_eq!(relative(Path::new("/r/a/b.py"), Path::new("/r")), "a/b.py");
        assert_eq!(
            relative(Path::new("/r/a/b.py"), Path::new("/r/c")),
            "../a/b.py"
        );
        assert_eq!(relative(Path::new("/r"), Path::new("/r")), ".");
    }

    #[test]
    fn intersection_is_inclusive() {
        let mut c = ChangedLines::default();
        c.files.insert("a".into(), vec![(5, 7)]);
        assert!(c.intersects("a", 7, 9));
        assert!(c.intersects("a", 1, 5));
        assert!(!c.intersects("a", 8, 9));
        assert!(!c.intersects("b", 5, 5));
    }
}
