//! Output formats — temporary minimal emitters until the full set lands.

use std::io::Write;

use crate::diagnostic::Report;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Concise,
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "human" => Ok(Format::Human),
            "concise" => Ok(Format::Concise),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown format `{other}`")),
        }
    }
}

#[derive(Clone, Debug)]
pub struct EmitOptions {
    pub color: bool,
    pub show_suppressed: bool,
    pub version: &'static str,
    pub show_elapsed: bool,
}

pub fn emit(
    format: Format,
    report: &Report,
    _opts: &EmitOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let v = serde_json::json!({"version": 1, "findings": report.findings, "notes": report.notes});
            writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap())
        }
        _ => {
            for f in report.active() {
                writeln!(
                    out,
                    "{}:{}:{}: {} {}",
                    f.path, f.line, f.column, f.rule, f.message
                )?;
            }
            for n in &report.notes {
                writeln!(out, "{}: note: {}", n.path, n.message)?;
            }
            Ok(())
        }
    }
}
