//! `bpflink`: command-line front end. Only argument parsing lives here; the work is done by the
//! library (`bpflink::object`, `bpflink::inspect`, `bpflink::loader`, `bpflink::graph`).
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bpflink::inspect;
use bpflink::linker::dynamic;
use bpflink::loader::{Object, OpenOptions};
use bpflink::object::ObjectSpec;

const USAGE: &str = "\
usage: bpflink <command> [options]

commands:
  inspect [--json] OBJ...   describe BPF ELF objects: sections, programs, maps, data,
                            externs, placeholders, exports, BTF
  link -o OUT IN...         statically link BPF objects into one (like `bpftool gen object`)
  export [--dir DIR] OBJ... load the objects in order (each may call or replace functions of
                            the ones before it) and export them under DIR (a bpffs directory,
                            default /sys/fs/bpf/bpflink) for other processes' dynamic linking;
                            the exports outlive this command
  unexport [--dir DIR] NAME...
                            remove exports (their links go: placeholders are restored)
  graph [--json] [--dir DIR]...
                            the dynamic-linking graph of the system: exports under DIR (default:
                            $BPFLINK_LIBRARY_PATH, else /sys/fs/bpf/bpflink) and every
                            extension link in the kernel
  graph [--json] --load OBJ...
                            load the objects in order in this process and print the graph the
                            dynamic linker made (objects, edges, mechanisms, kernel ids)

options:
  -h, --help                print this help
  -V, --version             print the version
";

fn main() -> ExitCode {
    // Like other command-line tools, end quietly when the reader of stdout goes away
    // (`bpflink graph | head`) instead of failing on the write.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    keep_freed_memory();
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
        Some("export") => export_cmd(&args[1..]),
        Some("unexport") => unexport_cmd(&args[1..]),
        Some("graph") => graph_cmd(&args[1..]),
        Some(other) => usage_error(&format!("unknown command '{other}'")),
    }
}

/// The tool runs once and exits: memory it frees is better kept for its own later
/// allocations than handed back to the kernel and faulted in again (every first touch of a
/// page costs a page fault; `bpflink link` on many inputs frees and allocates megabytes).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes glibc's allocator; called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
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
    match bpflink::linker::link_files_to_path(&inputs, Path::new(&out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bpflink: link: {err}");
            ExitCode::FAILURE
        }
    }
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

/// `--dir DIR` options and the remaining arguments; `--json`/`--load` flags are left in place.
struct Args {
    dirs: Vec<PathBuf>,
    json: bool,
    load: bool,
    rest: Vec<String>,
}

fn parse_args(cmd: &str, args: &[String]) -> Result<Args, ExitCode> {
    let mut parsed = Args { dirs: Vec::new(), json: false, load: false, rest: Vec::new() };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--dir" => match it.next() {
                Some(dir) => parsed.dirs.push(PathBuf::from(dir)),
                None => return Err(usage_error(&format!("{cmd}: --dir needs a directory"))),
            },
            "--json" => parsed.json = true,
            "--load" => parsed.load = true,
            "-h" | "--help" => {
                print!("{USAGE}");
                return Err(ExitCode::SUCCESS);
            }
            opt if opt.starts_with('-') => return Err(usage_error(&format!("{cmd}: unknown option '{opt}'"))),
            other => parsed.rest.push(other.to_string()),
        }
    }
    Ok(parsed)
}

/// Opens and loads `paths` in order, keeping them loaded; the first failure is reported.
fn load_in_order(paths: &[String]) -> Result<Vec<Object>, ExitCode> {
    let mut objects = Vec::new();
    for path in paths {
        let loaded = Object::open_file(Path::new(path), &OpenOptions::default()).and_then(|mut obj| obj.load().map(|()| obj));
        match loaded {
            Ok(obj) => objects.push(obj),
            Err(err) => {
                eprintln!("bpflink: {path}: {err}");
                return Err(ExitCode::FAILURE);
            }
        }
    }
    Ok(objects)
}

/// Like `parse_args`, for commands that need at least one operand.
fn parse_operands(cmd: &str, args: &[String], missing: &str) -> Result<Args, ExitCode> {
    let args = parse_args(cmd, args)?;
    if args.rest.is_empty() {
        return Err(usage_error(&format!("{cmd}: {missing}")));
    }
    Ok(args)
}

fn export_dir(dirs: &[PathBuf]) -> PathBuf {
    dirs.first().cloned().unwrap_or_else(|| PathBuf::from(dynamic::DEFAULT_EXPORT_DIR))
}

fn export_cmd(args: &[String]) -> ExitCode {
    let args = match parse_operands("export", args, "no object given") {
        Ok(a) => a,
        Err(code) => return code,
    };
    let dir = export_dir(&args.dirs);
    if let Err(err) = bpflink::sys::bpffs::ensure_default_mounted() {
        eprintln!("bpflink: mounting bpffs at {}: {err}", bpflink::sys::bpffs::DEFAULT_BPFFS);
        return ExitCode::FAILURE;
    }
    let objects = match load_in_order(&args.rest) {
        Ok(objects) => objects,
        Err(code) => return code,
    };
    for obj in &objects {
        match obj.export(&dir) {
            Ok(path) => println!("exported '{}' at {}", obj.name(), path.display()),
            Err(err) => {
                eprintln!("bpflink: exporting '{}': {err}", obj.name());
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn unexport_cmd(args: &[String]) -> ExitCode {
    let args = match parse_operands("unexport", args, "no export named") {
        Ok(a) => a,
        Err(code) => return code,
    };
    let dir = export_dir(&args.dirs);
    let mut status = ExitCode::SUCCESS;
    for name in &args.rest {
        if let Err(err) = bpflink::loader::remove_export(&dir.join(name)) {
            eprintln!("bpflink: unexport '{name}': {err}");
            status = ExitCode::FAILURE;
        }
    }
    status
}

fn graph_cmd(args: &[String]) -> ExitCode {
    let args = match parse_args("graph", args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let (graph, _objects) = if args.load {
        if args.rest.is_empty() {
            return usage_error("graph --load: no object given");
        }
        match load_in_order(&args.rest) {
            // The objects stay loaded while the graph is printed.
            Ok(objects) => (dynamic::snapshot(), objects),
            Err(code) => return code,
        }
    } else {
        let mut dirs = args.dirs;
        if dirs.is_empty() {
            dirs = dynamic::library_path();
        }
        if dirs.is_empty() {
            dirs.push(PathBuf::from(dynamic::DEFAULT_EXPORT_DIR));
        }
        (bpflink::loader::system_graph(&dirs), Vec::new())
    };
    if args.json {
        match serde_json::to_string_pretty(&bpflink::graph::to_json(&graph)) {
            Ok(text) => println!("{text}"),
            Err(err) => {
                eprintln!("bpflink: encoding JSON: {err}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", bpflink::graph::to_text(&graph));
    }
    ExitCode::SUCCESS
}
