//! The phi-lint binary: maps `phi_lint::run` to an exit code. Nothing else lives here.

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
