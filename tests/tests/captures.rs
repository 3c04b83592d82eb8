//! The memory syscord captures equals what the program itself saw: file content (read,
//! pread64, readv), random bytes, stat and statx structs, pipe descriptors, socket addresses,
//! timespecs, paths; truncated at the snap length; nothing for a failed call.

mod common;

use common::{Recording, Scratch, record};
use serde_json::Value;

const EFFECTS: &str = env!("CARGO_BIN_EXE_sc-effects");

/// The program's log and the recorded syscalls between its markers, one for one.
fn calls(rec: &Recording) -> Vec<(Value, Value)> {
    assert!(
        rec.output.status.success(),
        "record failed: {}",
        rec.stderr()
    );
    assert_eq!(rec.lost(), 0, "{}", rec.stderr());
    let logged: Vec<Value> = rec
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).expect("program log"))
        .collect();
    let records = rec.records();
    let is_marker = |r: &Value, fd: i64| r["syscall"] == "close" && r["args"][0] == fd as u64;
    let start = records
        .iter()
        .position(|r| is_marker(r, -1099))
        .expect("start marker");
    let end = records
        .iter()
        .position(|r| is_marker(r, -2099))
        .expect("end marker");
    let recorded: Vec<Value> = records[start..=end]
        .iter()
        .filter(|r| r.get("syscall").is_some())
        .cloned()
        .collect();
    assert_eq!(
        recorded.len(),
        logged.len(),
        "recorded {:?}",
        recorded
            .iter()
            .map(|r| r["syscall"].clone())
            .collect::<Vec<_>>()
    );
    logged.into_iter().zip(recorded).collect()
}

/// The capture called `name` of a record.
fn data<'a>(record: &'a Value, name: &str) -> Option<&'a Value> {
    record["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
}

/// Checks every byte the program saw against the recording, at snap length `snap`.
fn check(pairs: &[(Value, Value)], snap: usize, writes_captured: bool) -> usize {
    let mut checked = 0;
    for (logged, recorded) in pairs {
        assert_eq!(logged["nr"], recorded["nr"], "{recorded}");
        assert_eq!(logged["ret"], recorded["ret"], "{recorded}");
        let ret = logged["ret"].as_i64().unwrap();
        if ret < 0 {
            // a failure leaves no output content (inputs such as a path may be there)
            assert!(
                data(recorded, "buf").is_none(),
                "failed call with content: {recorded}"
            );
        }
        for (name, hex) in logged["data"].as_object().unwrap() {
            let hex = hex.as_str().unwrap();
            let full_len = hex.len() / 2;
            let got = data(recorded, name);
            if recorded["syscall"] == "write" && !writes_captured {
                assert!(
                    got.is_none(),
                    "write content captured by default: {recorded}"
                );
                continue;
            }
            let got = got.unwrap_or_else(|| panic!("no capture {name} in {recorded}"));
            assert_eq!(got["len"], full_len as u64, "{name} of {recorded}");
            let kept = full_len.min(snap);
            assert_eq!(
                got["hex"].as_str().unwrap(),
                &hex[..2 * kept],
                "{name} of {}",
                recorded["syscall"]
            );
            assert_eq!(got["truncated"], full_len > snap, "{name} of {recorded}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn captured_memory_equals_what_the_program_saw() {
    let scratch = Scratch::new("captures");
    let dir = scratch.path("");
    let rec = record(&scratch, "effects", &[], &[EFFECTS, dir.to_str().unwrap()]);
    let pairs = calls(&rec);
    let checked = check(&pairs, 256, false);
    // read, pread64, readv, fstat, statx, getrandom, pipe2, clock_gettime, getcwd,
    // getsockname, accept4, recvfrom
    assert_eq!(checked, 12);
    // the read of 400 bytes was cut at the default 256
    let read = pairs
        .iter()
        .find(|(_, r)| r["syscall"] == "read" && r["ret"] == 400)
        .unwrap();
    assert_eq!(data(&read.1, "buf").unwrap()["truncated"], true);
}

#[test]
fn snap_length_truncates_and_keeps_the_original_length() {
    let scratch = Scratch::new("snaplen");
    let dir = scratch.path("");
    let rec = record(
        &scratch,
        "effects",
        &["-s", "16"],
        &[EFFECTS, dir.to_str().unwrap()],
    );
    let pairs = calls(&rec);
    assert_eq!(check(&pairs, 16, false), 12);
}

#[test]
fn write_content_is_captured_on_request() {
    let scratch = Scratch::new("writes");
    let dir = scratch.path("");
    let rec = record(
        &scratch,
        "effects",
        &["--capture-writes", "--full"],
        &[EFFECTS, dir.to_str().unwrap()],
    );
    let pairs = calls(&rec);
    // 13: the written "ping" as well
    assert_eq!(check(&pairs, 32 * 1024, true), 13);
}

#[test]
fn registers_only_captures_nothing() {
    let scratch = Scratch::new("nodata");
    let dir = scratch.path("");
    let rec = record(
        &scratch,
        "effects",
        &["--no-data"],
        &[EFFECTS, dir.to_str().unwrap()],
    );
    for (_, recorded) in calls(&rec) {
        // execve's path and argv come from the new image, not from a capture rule
        assert_eq!(recorded["data"].as_array().unwrap().len(), 0, "{recorded}");
    }
}
