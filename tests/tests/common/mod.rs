//! Running syscord and reading what it recorded, for the tests.
#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

/// The syscord binary under test: $SYSCORD_BIN, or the one cargo built next to this test
/// (target/<profile>/syscord; `ci/test` builds it before running the tests).
pub fn syscord() -> PathBuf {
    if let Some(bin) = std::env::var_os("SYSCORD_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .join("syscord");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build --release -p syscord; ci/test does)",
        bin.display()
    );
    bin
}

/// A directory for one test's files, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("syscord-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The result of `syscord record`.
pub struct Recording {
    pub file: PathBuf,
    pub output: Output,
}

impl Recording {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Records lost, as the recorder's summary line reports them.
    pub fn lost(&self) -> u64 {
        let stderr = self.stderr();
        let line = stderr
            .lines()
            .find(|l| l.contains("syscalls recorded to"))
            .unwrap_or_else(|| panic!("no summary line in: {stderr}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        let i = words
            .iter()
            .position(|w| w.starts_with("lost"))
            .expect("'lost' in the summary");
        words[i - 1].parse().expect("lost count")
    }

    /// Every record of the file, as `syscord dump --format json` prints them.
    pub fn records(&self) -> Vec<Value> {
        let out = Command::new(syscord())
            .args(["dump", "--format", "json"])
            .arg(&self.file)
            .output()
            .expect("run syscord dump");
        assert!(
            out.status.success(),
            "syscord dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8 dump")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l}: {e}")))
            .collect()
    }

    /// The syscall records, by thread, in time order.
    pub fn syscalls_by_tid(&self) -> BTreeMap<u64, Vec<Value>> {
        syscord_tests::syscalls_by_tid(&self.records())
    }
}

/// `syscord dump` of the recording, as text.
pub fn dump_text(rec: &Recording) -> String {
    let out = Command::new(syscord())
        .arg("dump")
        .arg(&rec.file)
        .output()
        .expect("run syscord dump");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// A command's output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `syscord record -o <dir>/<name>.rec [extra...] -- command...`.
pub fn record(scratch: &Scratch, name: &str, extra: &[&str], command: &[&str]) -> Recording {
    let file = scratch.path(&format!("{name}.rec"));
    let output = Command::new(syscord())
        .arg("record")
        .arg("-o")
        .arg(&file)
        .args(extra)
        .arg("--")
        .args(command)
        .output()
        .expect("run syscord record");
    Recording { file, output }
}

/// Path of a test program built with the tests.
pub fn program(name: &str) -> String {
    let exe = std::env::current_exe().expect("test executable path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .join(name);
    assert!(bin.exists(), "{} is missing", bin.display());
    bin.to_string_lossy().into_owned()
}
