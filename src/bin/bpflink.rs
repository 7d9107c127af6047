//! `bpflink`: command-line front end. Only argument parsing lives here; the work is done by the
//! library (`bpflink::object`, `bpflink::inspect`).
use std::path::Path;
use std::process::ExitCode;

use bpflink::inspect;
use bpflink::object::ObjectSpec;

const USAGE: &str = "\
usage: bpflink <command> [options]

commands:
  inspect [--json] OBJ...   describe BPF ELF objects: sections, programs, maps, data,
                            externs, placeholders, exports, BTF
  link -o OUT IN...         statically link BPF objects into one (like `bpftool gen object`)

options:
  -h, --help                print this help
  -V, --version             print the version
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => usage_error("missing command"),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("bpflink {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("inspect") => inspect_cmd(&args[1..]),
        Some("link") => link_cmd(&args[1..]),
        Some(other) => usage_error(&format!("unknown command '{other}'")),
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("bpflink: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

fn link_cmd(args: &[String]) -> ExitCode {
    let mut out = None;
    let mut inputs = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-o" | "--output" => match it.next() {
                Some(path) => out = Some(path.clone()),
                None => return usage_error("link: -o needs a file name"),
            },
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            opt if opt.starts_with('-') => return usage_error(&format!("link: unknown option '{opt}'")),
            path => inputs.push(path.to_string()),
        }
    }
    let Some(out) = out else { return usage_error("link: no output file (-o OUT)") };
    if inputs.is_empty() {
        return usage_error("link: no input objects");
    }
    let bytes = match bpflink::linker::link_files(&inputs) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("bpflink: link: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = std::fs::write(&out, bytes) {
        eprintln!("bpflink: {out}: {err}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn inspect_cmd(args: &[String]) -> ExitCode {
    let mut json = false;
    let mut paths = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--json" => json = true,
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            opt if opt.starts_with('-') && opt != "-" => return usage_error(&format!("inspect: unknown option '{opt}'")),
            path => paths.push(path),
        }
    }
    if paths.is_empty() {
        return usage_error("inspect: no object given");
    }
    let mut failed = false;
    let mut reports = Vec::new();
    for path in paths {
        match ObjectSpec::from_file(Path::new(path)) {
            Ok(spec) if json => reports.push(serde_json::json!({ "path": path, "object": inspect::to_json(&spec) })),
            Ok(spec) => {
                if reports.len() + usize::from(failed) > 0 {
                    println!();
                }
                print!("{}", inspect::to_text(&spec));
                reports.push(serde_json::Value::Null);
            }
            Err(err) => {
                // Io errors already carry the path.
                match err {
                    bpflink::object::ObjectError::Io { .. } => eprintln!("bpflink: {err}"),
                    _ => eprintln!("bpflink: {path}: {err}"),
                }
                failed = true;
            }
        }
    }
    if json {
        // One object: its report; several: an array of {path, object}.
        let value = match reports.len() {
            1 => reports.pop().and_then(|mut r| r.get_mut("object").map(serde_json::Value::take)),
            _ => Some(serde_json::Value::Array(reports)),
        };
        if let Some(value) = value {
            match serde_json::to_string_pretty(&value) {
                Ok(text) => println!("{text}"),
                Err(err) => {
                    eprintln!("bpflink: encoding JSON: {err}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
