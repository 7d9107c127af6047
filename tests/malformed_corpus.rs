//! The committed corpus of malformed objects (tests/malformed, generated from real objects by
//! scripts/gen-malformed-corpus.py): every file gives its expected error, naming what is wrong
//! and where, through the object model and both open paths of the loader (the C and Python
//! tests check the same list through the installed library); the static linker rejects or
//! accepts each without panicking.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use bpflink::linker::Linker;
use bpflink::loader::{Object, OpenOptions};
use bpflink::object::ObjectSpec;

struct Case {
    file: PathBuf,
    errno: i32,
    expect: Vec<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus_dir().join("EXPECTED")).expect("reading tests/malformed/EXPECTED");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let file = corpus_dir().join(fields.next().unwrap());
            let errno = fields.next().and_then(|e| e.parse().ok()).unwrap_or_else(|| panic!("bad EXPECTED line: {line}"));
            Case { file, errno, expect: fields.map(str::to_string).collect() }
        })
        .collect()
}

/// Checks that `message` carries every expected piece; returns a complaint otherwise.
fn missing(case: &Case, layer: &str, message: &str) -> Option<String> {
    let absent: Vec<&String> = case.expect.iter().filter(|e| !message.contains(e.as_str())).collect();
    (!absent.is_empty()).then(|| format!("{} via {layer}: {message:?} lacks {absent:?}", case.file.display()))
}

#[test]
fn every_file_is_listed_with_its_expected_error() {
    let listed: Vec<PathBuf> = cases().into_iter().map(|c| c.file).collect();
    assert!(listed.len() >= 100, "the corpus has {} files", listed.len());
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "o") {
            assert!(listed.contains(&path), "{} is not in EXPECTED", path.display());
        }
    }
    for case in cases() {
        assert!(case.file.exists(), "{} is listed but missing", case.file.display());
        assert!(!case.expect.is_empty());
    }
}

#[test]
fn the_object_model_names_what_and_where() {
    let mut failures = Vec::new();
    for case in cases() {
        match catch_unwind(|| ObjectSpec::from_file(&case.file)) {
            Err(_) => failures.push(format!("{}: the object model panicked", case.file.display())),
            Ok(Ok(_)) => failures.push(format!("{}: accepted", case.file.display())),
            Ok(Err(e)) => failures.extend(missing(&case, "ObjectSpec::from_file", &e.to_string())),
        }
    }
    assert!(failures.is_empty(), "{} of {} files:\n{}", failures.len(), cases().len(), failures.join("\n"));
}

#[test]
fn both_open_paths_of_the_loader_give_the_same_error_and_errno() {
    let mut failures = Vec::new();
    let opts = OpenOptions::default();
    for case in cases() {
        let data = std::fs::read(&case.file).unwrap();
        let by_file = catch_unwind(|| Object::open_file(&case.file, &opts).map(drop));
        let by_mem = catch_unwind(|| Object::open_mem(&data, &opts).map(drop));
        for (layer, result) in [("Object::open_file", by_file), ("Object::open_mem", by_mem)] {
            match result {
                Err(_) => failures.push(format!("{}: {layer} panicked", case.file.display())),
                Ok(Ok(())) => failures.push(format!("{}: {layer} accepted it", case.file.display())),
                Ok(Err(e)) if e.errno() != case.errno => {
                    failures.push(format!("{}: {layer} errno {} != {}: {e}", case.file.display(), e.errno(), case.errno))
                }
                Ok(Err(e)) => failures.extend(missing(&case, layer, &e.to_string())),
            }
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_static_linker_never_panics_on_them() {
    for case in cases() {
        let data = std::fs::read(&case.file).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut linker = Linker::new();
            if linker.add_buf("malformed.o", &data).is_ok() {
                let _ = linker.into_output();
            }
        }));
        assert!(outcome.is_ok(), "{}: the linker panicked", case.file.display());
    }
}
