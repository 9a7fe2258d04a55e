//! The phi-lint binary: maps `phi_lint::run` to an exit code. Nothing else lives here.

/// mimalloc, not the system allocator, for Rust's allocations and (the `override` feature)
/// for the C allocations of the tree-sitter parsers: one allocator reuses what the other
/// freed, instead of two sets of per-thread arenas each keeping its own. Faster and smaller
/// on both benchmark trees (bench/README.md); `.cargo/config.toml` holds its build setting.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    let status = phi_lint::run(args, &mut out, &mut err);
    // A closed pipe (`phi-lint check | head`) is not an error.
    let _ = std::io::Write::flush(&mut out);
    std::process::exit(status.code());
}
