//! `syscord stats` on real recordings: the counts are what the program did (its own log,
//! and `strace -c -f` of the same program), the times appear only with `record -T`, and a
//! damaged file gives the statistics of what could be read, as `dump` shows those records.
//! These tests load eBPF programs: they need root (or CAP_BPF and CAP_PERFMON).

mod common;

use std::{
    collections::BTreeMap,
    path::Path,
    process::{Command, Output},
    time::Instant,
};

use common::{Scratch, record, syscord, text};
use serde_json::Value;
use syscord_arch::errno_name;
use syscord_tests::sequence_log;

const SEQUENCE: &str = env!("CARGO_BIN_EXE_sc-sequence");
const LOOP: &str = env!("CARGO_BIN_EXE_sc-loop");

fn stats(args: &[&str], file: &Path) -> Output {
    Command::new(syscord())
        .arg("stats")
        .args(args)
        .arg(file)
        .output()
        .expect("run syscord stats")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stats JSON: {e}: {}", text(&out.stdout)))
}

/// The row of `name` in `stats --format json`.
fn row<'j>(stats: &'j Value, name: &str) -> &'j Value {
    stats["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["syscall"] == name)
        .unwrap_or_else(|| panic!("no {name} in {stats}"))
}

fn u64_of(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// One line of an strace -c style table.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    calls: u64,
    errors: u64,
    /// % time, seconds, usecs/call, when the table has time columns.
    times: Option<(f64, f64, u64)>,
}

/// The rows of an `strace -c` style table by syscall name, and its total line. Both
/// syscord's and strace's tables read this way: the errors column is blank for none.
fn parse_table(table: &str) -> (BTreeMap<String, Line>, Line) {
    let lines: Vec<&str> = table.lines().collect();
    let timed = lines[0].starts_with("% time");
    let rules: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("---"))
        .collect();
    assert_eq!(rules.len(), 2, "two rules around the rows:\n{table}");
    let parse = |line: &str| -> (String, Line) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let counts = if timed { &words[3..] } else { &words[..] };
        let (calls, errors) = match counts.len() {
            2 => (counts[0], "0"),
            3 => (counts[0], counts[1]),
            _ => panic!("not a table row: {line:?}"),
        };
        let times = timed.then(|| {
            (
                words[0].parse().unwrap(),
                words[1].parse().unwrap(),
                words[2].parse().unwrap(),
            )
        });
        let line = Line {
            calls: calls.parse().unwrap(),
            errors: errors.parse().unwrap(),
            times,
        };
        (counts.last().unwrap().to_string(), line)
    };
    let rows = lines[rules[0] + 1..rules[1]]
        .iter()
        .map(|l| parse(l))
        .collect();
    let (name, total) = parse(lines[rules[1] + 1]);
    assert_eq!(name, "total");
    (rows, total)
}

/// The total of a stats JSON object is the sum of its rows; returns the rows' calls.
fn check_total(stats: &Value) -> u64 {
    let rows = stats["syscalls"].as_array().unwrap();
    let sum = |key: &str| rows.iter().map(|r| u64_of(&r[key])).sum::<u64>();
    let total = &stats["total"];
    assert_eq!(u64_of(&total["calls"]), sum("calls"), "{stats}");
    assert_eq!(u64_of(&total["errors"]), sum("errors"), "{stats}");
    for r in rows {
        let by_errno: u64 = r["errors_by_name"]
            .as_object()
            .unwrap()
            .values()
            .map(u64_of)
            .sum();
        assert_eq!(by_errno, u64_of(&r["errors"]), "{r}");
    }
    sum("calls")
}

#[test]
fn counts_are_the_programs_and_strace_agrees() {
    // Without address randomization both runs lay memory out alike (see record.rs).
    let program = ["setarch", std::env::consts::ARCH, "-R", SEQUENCE];
    let scratch = Scratch::new("stats-counts");
    let rec = record(&scratch, "seq", &[], &program);
    assert!(rec.output.status.success(), "{}", rec.stderr());
    assert_eq!(rec.lost(), 0, "{}", rec.stderr());
    let log = sequence_log(&rec.stdout());

    let out = stats(&["--format", "json"], &rec.file);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ours = json(&out);
    assert_eq!(ours["complete"], true);
    assert_eq!(ours["lost"], 0);
    // x86-64 keeps stores in order: the program publishes records with a plain store.
    let publish = if cfg!(target_arch = "x86_64") {
        vec!["plain store"]
    } else {
        vec!["store-release", "atomic exchange"]
    };
    assert!(
        publish.contains(&ours["ring_publish"].as_str().unwrap()),
        "{ours}"
    );
    let total_calls = check_total(&ours);
    // every syscall record of the file is counted once
    let recorded = rec
        .records()
        .iter()
        .filter(|r| r.get("syscall").is_some())
        .count() as u64;
    assert_eq!(total_calls, recorded);

    // What the program logged, by syscall number: calls and failures per errno.
    let mut logged: BTreeMap<u64, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
    for role in log.roles.values() {
        for call in role["calls"].as_array().unwrap() {
            let entry = logged.entry(u64_of(&call["nr"])).or_default();
            entry.0 += 1;
            let ret = call["ret"].as_i64().unwrap();
            if (-4095..0).contains(&ret) {
                let name = errno_name(-ret).expect("a known errno").to_owned();
                *entry.1.entry(name).or_default() += 1;
            }
        }
    }
    let by_nr = |nr: u64| {
        ours["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["nr"] == nr)
            .unwrap_or_else(|| panic!("syscall {nr} not in {ours}"))
    };

    let strace_out = scratch.path("strace-c");
    let out = Command::new("strace")
        .args(["-c", "-f", "-o"])
        .arg(&strace_out)
        .args(program)
        .output()
        .expect("strace (ci/setup installs it)");
    assert!(out.status.success(), "strace: {}", text(&out.stderr));
    let (strace, _) = parse_table(&std::fs::read_to_string(&strace_out).unwrap());

    for (nr, (calls, errors)) in &logged {
        let row = by_nr(*nr);
        let name = row["syscall"].as_str().unwrap();
        let counted: BTreeMap<String, u64> =
            serde_json::from_value(row["errors_by_name"].clone()).unwrap();
        let theirs = strace
            .get(name)
            .unwrap_or_else(|| panic!("strace -c has no {name}"));
        assert_eq!(
            (u64_of(&row["calls"]), u64_of(&row["errors"])),
            (theirs.calls, theirs.errors),
            "{name}: syscord stats vs strace -c -f"
        );
        // The program's own calls are all counted, with their errnos. Where strace too sees
        // only those, the counts are exactly the program's.
        assert!(u64_of(&row["calls"]) >= *calls, "{name}: {row}");
        for (errno, n) in errors {
            assert!(counted.get(errno).is_some_and(|c| c >= n), "{name}: {row}");
        }
        if theirs.calls == *calls {
            assert_eq!(&counted, errors, "{name}: {row}");
        }
    }
    // Calls only sc-sequence itself makes: two getppid (main and child), one dup3 failing
    // with EINVAL; and its openat of a missing file.
    let getppid = row(&ours, "getppid");
    assert_eq!(
        (u64_of(&getppid["calls"]), u64_of(&getppid["errors"])),
        (2, 0)
    );
    assert_eq!(
        row(&ours, "dup3")["errors_by_name"],
        serde_json::json!({"EINVAL": 1})
    );
    assert!(u64_of(&row(&ours, "openat")["errors_by_name"]["ENOENT"]) >= 1);

    // The text table says the same as the JSON, total included.
    let out = stats(&["--errors"], &rec.file);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let (rows, total) = parse_table(table.split("\n\n").next().unwrap());
    assert_eq!(rows.len(), ours["syscalls"].as_array().unwrap().len());
    for (name, line) in &rows {
        let r = row(&ours, name);
        assert_eq!(
            (line.calls, line.errors, line.times),
            (u64_of(&r["calls"]), u64_of(&r["errors"]), None),
            "{name}"
        );
    }
    assert_eq!(total.calls, total_calls);
    assert_eq!(total.calls, rows.values().map(|l| l.calls).sum::<u64>());
    assert_eq!(total.errors, rows.values().map(|l| l.errors).sum::<u64>());
    // --errors: a line per syscall and errno
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["1", "EINVAL", "dup3"]),
        "{table}"
    );
    // without -T: no times, and a note on stderr that says how to get them
    assert!(!table.contains("% time"), "{table}");
    assert!(
        text(&out.stderr).contains("no syscall times in this recording"),
        "{}",
        text(&out.stderr)
    );
    assert!(getppid.get("seconds").is_none(), "{getppid}");
}

#[test]
fn times_appear_with_record_t() {
    const N: u64 = 5000;
    let scratch = Scratch::new("stats-times");
    let started = Instant::now();
    let rec = record(
        &scratch,
        "timed",
        &["-T"],
        &[LOOP, "getppid", &N.to_string()],
    );
    let elapsed = started.elapsed().as_secs_f64();
    assert!(rec.output.status.success(), "{}", rec.stderr());
    assert_eq!(rec.lost(), 0, "{}", rec.stderr());

    let out = stats(&["--format", "json"], &rec.file);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // a complete, timed recording needs no note
    assert_eq!(text(&out.stderr), "");
    let ours = json(&out);
    check_total(&ours);
    let getppid = row(&ours, "getppid");
    assert_eq!(u64_of(&getppid["calls"]), N);
    let seconds = getppid["seconds"].as_f64().unwrap();
    // Each call takes some time, and all of them less than the recording did.
    assert!(seconds > 0.0 && seconds < elapsed, "{getppid}");
    // every getppid returned, so every one was timed
    let per_call = getppid["usecs_per_call"].as_f64().unwrap();
    assert!(
        (per_call - seconds * 1e6 / N as f64).abs() < 1e-6,
        "{getppid}"
    );
    let rows = ours["syscalls"].as_array().unwrap();
    let total_seconds: f64 = rows.iter().map(|r| r["seconds"].as_f64().unwrap()).sum();
    let total = &ours["total"];
    assert!((total["seconds"].as_f64().unwrap() - total_seconds).abs() < 1e-9);
    assert!(total_seconds < elapsed, "{total}");
    let percent: f64 = rows
        .iter()
        .map(|r| r["percent_time"].as_f64().unwrap())
        .sum();
    assert!((percent - 100.0).abs() < 1e-6, "{percent}");
    assert_eq!(total["percent_time"], 100.0);
    // exit_group never returns: a call without a time, which does not lower the mean
    let exit = row(&ours, "exit_group");
    assert_eq!(
        (exit["seconds"].as_f64(), exit["usecs_per_call"].as_f64()),
        (Some(0.0), Some(0.0))
    );

    // The text table: strace's time columns, the same numbers rounded as strace does.
    let out = stats(&[], &rec.file);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.starts_with("% time     seconds  usecs/call     calls    errors syscall\n"),
        "{table}"
    );
    let (lines, total_line) = parse_table(&table);
    // by time by default: the first row took the most
    let first = table
        .lines()
        .nth(2)
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap();
    assert_eq!(first, rows[0]["syscall"], "{table}");
    for (name, line) in &lines {
        let r = row(&ours, name);
        let (pct, secs, usecs) = line.times.unwrap_or_else(|| panic!("{name}: no times"));
        assert_eq!(line.calls, u64_of(&r["calls"]), "{name}");
        assert_eq!(
            format!("{secs:.6}"),
            format!("{:.6}", r["seconds"].as_f64().unwrap())
        );
        assert_eq!(
            format!("{pct:.2}"),
            format!("{:.2}", r["percent_time"].as_f64().unwrap())
        );
        // whole microseconds per call, truncated, as strace -c shows them
        assert_eq!(
            usecs,
            r["usecs_per_call"].as_f64().unwrap() as u64,
            "{name}"
        );
    }
    let (pct, secs, _) = total_line.times.unwrap();
    assert_eq!(pct, 100.0);
    assert_eq!(format!("{secs:.6}"), format!("{total_seconds:.6}"));
    assert_eq!(
        total_line.calls,
        lines.values().map(|l| l.calls).sum::<u64>()
    );
    assert_eq!(lines["getppid"].calls, N);
}

#[test]
fn a_cut_recording_gives_the_statistics_of_what_was_readable() {
    // About seven 1 MiB chunks of records: a cut at half leaves a few whole ones.
    const N: u64 = 100_000;
    let scratch = Scratch::new("stats-cut");
    let rec = record(&scratch, "big", &[], &[LOOP, "getppid", &N.to_string()]);
    assert!(rec.output.status.success(), "{}", rec.stderr());
    let whole = json(&stats(&["--format", "json"], &rec.file));
    let all = u64_of(&row(&whole, "getppid")["calls"]);
    assert_eq!(all + u64_of(&whole["lost"]), N);

    let bytes = std::fs::read(&rec.file).unwrap();
    let mut at = bytes.len() / 2;
    if bytes[at..].starts_with(b"SCHK") {
        // Cut inside a chunk, not between two.
        at += 1;
    }
    let cut = scratch.path("cut.rec");
    std::fs::write(&cut, &bytes[..at]).unwrap();

    // As dump: the statistics of the records before the damage, then the damage as a
    // one-line error, and a failure status.
    let out = stats(&["--format", "json"], &cut);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "syscord: cannot read {}: recording is truncated: the last chunk is incomplete\n",
            cut.display()
        )
    );
    let part = json(&out);
    assert_eq!(part["complete"], false);
    let readable = u64_of(&row(&part, "getppid")["calls"]);
    assert!(readable > 0 && readable < all, "{readable} of {all}");
    let dump = Command::new(syscord())
        .args(["dump", "--format", "json"])
        .arg(&cut)
        .output()
        .unwrap();
    assert_eq!(dump.status.code(), Some(1));
    let dumped = text(&dump.stdout)
        .lines()
        .filter(|l| l.contains(r#""syscall":"getppid""#))
        .count() as u64;
    assert_eq!(readable, dumped, "stats and dump read as far");

    // Cut just before the end chunk, as a killed recorder leaves it: every record is
    // there, a note says the end is missing, and that is no failure.
    let end_chunk = bytes.windows(4).rposition(|w| w == b"SCHK").unwrap();
    std::fs::write(&cut, &bytes[..end_chunk]).unwrap();
    let out = stats(&[], &cut);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "syscord: {}: the recording has no end chunk",
            cut.display()
        )),
        "{stderr}"
    );
    let (rows, _) = parse_table(&text(&out.stdout));
    assert_eq!(rows["getppid"].calls, all);
}

#[test]
fn files_that_are_not_recordings_are_clear_errors() {
    let scratch = Scratch::new("stats-errors");
    let foreign = scratch.path("foreign");
    std::fs::write(&foreign, b"#!/bin/sh\necho hello\n").unwrap();
    let missing = scratch.path("missing.rec");
    for (file, expected) in [
        (&foreign, "not a syscord recording"),
        (&missing, "No such file or directory"),
    ] {
        let out = stats(&[], file);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.starts_with(&format!("syscord: cannot read {}: ", file.display())),
            "{stderr}"
        );
        assert!(stderr.contains(expected), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    }
}
