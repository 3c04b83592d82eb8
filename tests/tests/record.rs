//! `syscord record` on the real kernel: what a known program did is what the file holds.
//! These tests load eBPF programs: they need root (or CAP_BPF and CAP_PERFMON).

mod common;

use std::{collections::BTreeMap, process::Command};

use common::{Scratch, record, syscord};
use serde_json::Value;
use syscord_arch::{Arch, SyscallTable};

const SEQUENCE: &str = env!("CARGO_BIN_EXE_sc-sequence");

fn host_table() -> &'static SyscallTable {
    SyscallTable::of(Arch::host().expect("supported host"))
}

/// The logs the sequence program printed, by role.
fn sequence_logs(stdout: &str) -> BTreeMap<String, Value> {
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("program log line");
            (v["role"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

fn marker(role: &str, start: bool) -> u64 {
    let n: i64 = match role {
        "main" => 1,
        "thread" => 2,
        "child" => 3,
        other => panic!("unknown role {other}"),
    };
    (if start { -1000 - n } else { -2000 - n }) as u64
}

fn is_close_of(record: &Value, fd: u64) -> bool {
    record["syscall"] == "close" && record["args"][0].as_u64() == Some(fd)
}

#[test]
fn the_recording_holds_exactly_the_syscalls_each_thread_made() {
    let scratch = Scratch::new("sequence");
    let rec = record(&scratch, "seq", &[], &[SEQUENCE]);
    assert!(
        rec.output.status.success(),
        "record failed: {}",
        rec.stderr()
    );
    assert_eq!(rec.lost(), 0, "records lost: {}", rec.stderr());
    let logs = sequence_logs(&rec.stdout());
    assert_eq!(logs.len(), 3, "program output: {}", rec.stdout());
    let by_tid = rec.syscalls_by_tid();
    let table = host_table();

    for (role, log) in &logs {
        let tid = log["tid"].as_u64().unwrap();
        let recorded = by_tid
            .get(&tid)
            .unwrap_or_else(|| panic!("{role}: no record of thread {tid}"));
        let start = recorded
            .iter()
            .position(|r| is_close_of(r, marker(role, true)))
            .unwrap_or_else(|| panic!("{role}: start marker not recorded"));
        let end = recorded
            .iter()
            .position(|r| is_close_of(r, marker(role, false)))
            .unwrap_or_else(|| panic!("{role}: end marker not recorded"));
        let between = &recorded[start..=end];
        let calls = log["calls"].as_array().unwrap();
        let names = |v: &[Value]| -> Vec<String> {
            v.iter()
                .map(|r| r["syscall"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            between.len(),
            calls.len(),
            "{role}: recorded {:?}",
            names(between)
        );
        for (r, c) in between.iter().zip(calls) {
            let nr = c["nr"].as_u64().unwrap();
            assert_eq!(r["nr"].as_u64(), Some(nr), "{role}: {r}");
            assert_eq!(r["syscall"].as_str(), table.name(nr as u32), "{role}: {r}");
            assert_eq!(r["ret"], c["ret"], "{role}: return value of {r}");
            for (i, arg) in c["args"].as_array().unwrap().iter().enumerate() {
                assert_eq!(&r["args"][i], arg, "{role}: argument {i} of {r}");
            }
            assert_eq!(r["pid"], log["pid"], "{role}: {r}");
            assert_ne!(r["ret_addr"].as_u64(), Some(0), "{role}: {r}");
        }
    }

    // The whole life of the main thread: from its execve to its exit_group.
    let main_tid = logs["main"]["tid"].as_u64().unwrap();
    let main = &by_tid[&main_tid];
    let first = &main[0];
    assert_eq!(first["syscall"], "execve");
    assert_eq!(first["ret"], 0);
    let filename = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "filename")
        .expect("execve filename captured");
    let hex: String = SEQUENCE.bytes().map(|b| format!("{b:02x}")).collect();
    assert_eq!(filename["hex"], hex);
    let last = main.last().unwrap();
    assert_eq!(last["syscall"], "exit_group");
    assert_eq!(last["ret"], Value::Null);
    assert_eq!(last["args"][0], 0);
}

#[test]
fn the_recorder_exits_with_the_command_status() {
    let scratch = Scratch::new("status");
    let rec = record(&scratch, "exit7", &[], &["sh", "-c", "exit 7"]);
    assert_eq!(rec.output.status.code(), Some(7), "{}", rec.stderr());
    let rec = record(&scratch, "segv", &[], &["sh", "-c", "kill -SEGV $$"]);
    assert_eq!(rec.output.status.code(), Some(128 + 11), "{}", rec.stderr());
    // the killed process's end is in the recording
    let exits: Vec<Value> = rec
        .records()
        .into_iter()
        .filter(|r| r.get("exit").is_some())
        .collect();
    assert!(
        exits
            .iter()
            .any(|e| e["exit"] == "killed by SIGSEGV (core dumped)"
                || e["exit"] == "killed by SIGSEGV"),
        "{exits:?}"
    );
}

#[test]
fn children_and_their_execs_are_followed() {
    let scratch = Scratch::new("children");
    // sh forks, the child execs ls, which stats a file
    let rec = record(
        &scratch,
        "sh",
        &[],
        &["sh", "-c", "ls /proc/self/exe >/dev/null; echo done"],
    );
    assert!(rec.output.status.success(), "{}", rec.stderr());
    assert_eq!(rec.lost(), 0);
    let records = rec.records();
    let execs: Vec<&Value> = records
        .iter()
        .filter(|r| r["syscall"] == "execve")
        .collect();
    assert_eq!(execs.len(), 2, "sh and ls: {execs:?}");
    assert_eq!(execs[0]["comm"], "sh");
    assert_eq!(execs[1]["comm"], "ls");
    assert_ne!(execs[0]["pid"], execs[1]["pid"]);
    // ls's syscalls carry its name, and its process ended
    assert!(
        records
            .iter()
            .any(|r| r["comm"] == "ls" && r["syscall"] == "exit_group")
    );
    // the child's return from fork/clone is not a syscall of the child
    let ls_pid = execs[1]["pid"].clone();
    let first_of_ls = records
        .iter()
        .find(|r| r["pid"] == ls_pid && r.get("syscall").is_some());
    assert_ne!(first_of_ls.unwrap()["syscall"], "clone");
}

#[test]
fn syscord_and_strace_see_the_same_syscalls() {
    let scratch = Scratch::new("strace");
    let rec = record(&scratch, "seq", &[], &[SEQUENCE]);
    assert!(rec.output.status.success(), "{}", rec.stderr());
    let logs = sequence_logs(&rec.stdout());
    let ours = rec.syscalls_by_tid();

    let prefix = scratch.path("strace");
    let out = Command::new("strace")
        .args(["-f", "-ff", "-qq", "-o"])
        .arg(&prefix)
        .arg(SEQUENCE)
        .output()
        .expect("strace (ci/setup installs it)");
    assert!(
        out.status.success(),
        "strace failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let strace_logs = sequence_logs(&String::from_utf8_lossy(&out.stdout));

    for role in ["main", "thread", "child"] {
        let our_tid = logs[role]["tid"].as_u64().unwrap();
        let strace_tid = strace_logs[role]["tid"].as_u64().unwrap();
        let our_seq: Vec<(String, bool)> = ours[&our_tid]
            .iter()
            .map(|r| {
                let ok = match r["ret"].as_i64() {
                    None => true,
                    Some(ret) => !(-4095..0).contains(&ret),
                };
                (r["syscall"].as_str().unwrap().to_owned(), ok)
            })
            .filter(|(name, _)| name != "futex")
            .collect();
        let text = std::fs::read_to_string(format!("{}.{strace_tid}", prefix.display()))
            .expect("strace output for the thread");
        let strace_seq: Vec<(String, bool)> = text
            .lines()
            .filter(|l| !l.starts_with("+++") && !l.starts_with("---"))
            .filter_map(|l| {
                // name(arguments)   = result   (strace pads before the '=')
                let name = l.split('(').next()?.trim().to_owned();
                let (call, result) = l.rsplit_once(" = ")?;
                if !call.trim_end().ends_with(')') {
                    return None;
                }
                let ok = !result.starts_with("-1 ");
                Some((name, ok))
            })
            .filter(|(name, _)| name != "futex")
            .collect();
        assert_eq!(our_seq, strace_seq, "{role}: syscord vs strace -f");
    }
}

#[test]
fn missing_privileges_are_a_clear_error() {
    let scratch = Scratch::new("unprivileged");
    // setpriv drops every capability and switches to nobody
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(syscord())
        .args(["record", "-o"])
        .arg(scratch.path("x.rec"))
        .args(["--", "true"])
        .output()
        .expect("setpriv (util-linux)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("needs root"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_missing_command_is_a_clear_error() {
    let scratch = Scratch::new("nocmd");
    let rec = record(&scratch, "x", &[], &["no-such-command-syscord"]);
    assert_eq!(rec.output.status.code(), Some(1));
    assert_eq!(
        rec.stderr().trim(),
        "syscord: command not found: no-such-command-syscord"
    );
}

#[test]
fn an_unwritable_output_is_a_clear_error() {
    let out = Command::new(syscord())
        .args(["record", "-o", "/nonexistent-dir/x.rec", "--", "true"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.starts_with("syscord: cannot write /nonexistent-dir/x.rec:"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn a_kernel_without_btf_is_a_clear_error() {
    let scratch = Scratch::new("nobtf");
    let rec = record(&scratch, "x", &["--btf", "/nonexistent/vmlinux"], &["true"]);
    assert_eq!(rec.output.status.code(), Some(1), "{}", rec.stderr());
    assert!(rec.stderr().contains("no usable BTF"), "{}", rec.stderr());
    assert!(
        rec.stderr().contains("CONFIG_DEBUG_INFO_BTF"),
        "{}",
        rec.stderr()
    );
}

#[test]
fn recording_needs_no_tracefs() {
    // In a mount namespace of its own with tracefs and debugfs unmounted: raw tracepoints
    // are attached through bpf(2) alone.
    let scratch = Scratch::new("notracefs");
    let file = scratch.path("x.rec");
    let script = format!(
        "umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug 2>/dev/null; \
         if grep -q tracefs /proc/self/mounts; then echo 'tracefs still mounted'; exit 99; fi; \
         exec {} record -o {} -- true",
        syscord().display(),
        file.display()
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("unshare (util-linux)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(file.exists());
}

/// Checks that on every CPU the sequence numbers of the file's events and loss ranges cover
/// 1..=max exactly once; returns the number of events lost.
fn check_sequences(records: &[Value]) -> u64 {
    let mut seen: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
    let mut lost = 0;
    for r in records {
        let cpu = r["cpu"].as_u64().expect("cpu on every record");
        if r["event"] == "lost" {
            let first = r["first_seq"].as_u64().unwrap();
            let count = r["lost"].as_u64().unwrap();
            lost += count;
            seen.entry(cpu)
                .or_default()
                .push((first, first + count - 1));
        } else {
            let seq = r["seq"].as_u64().expect("seq on every event");
            seen.entry(cpu).or_default().push((seq, seq));
        }
    }
    for (cpu, mut ranges) in seen {
        ranges.sort_unstable();
        let mut next = 1;
        for (first, last) in ranges {
            assert_eq!(
                first, next,
                "CPU {cpu}: sequence hole or overlap at {first}"
            );
            next = last + 1;
        }
    }
    lost
}

#[test]
fn every_event_has_its_sequence_number() {
    let scratch = Scratch::new("sequences");
    let rec = record(&scratch, "seq", &[], &[SEQUENCE]);
    assert!(rec.output.status.success(), "{}", rec.stderr());
    assert_eq!(check_sequences(&rec.records()), 0);
}

#[test]
fn losses_are_counted_in_the_kernel_and_marked_in_the_file() {
    // A 2 MiB ring per CPU and a drain that only looks every 3 s: a burst of 300,000
    // syscalls cannot fit.
    let scratch = Scratch::new("losses");
    let rec = record(
        &scratch,
        "burst",
        &["--buffer-size", "2M", "--poll-interval", "3000"],
        &[env!("CARGO_BIN_EXE_sc-loop"), "getppid", "300000"],
    );
    assert!(rec.output.status.success(), "{}", rec.stderr());
    let reported = rec.lost();
    assert!(reported > 100_000, "expected losses, got {reported}");
    assert!(!rec.stderr().contains("warning"), "{}", rec.stderr());
    let records = rec.records();
    // the loss ranges are exactly the events the kernel counted as lost
    assert_eq!(check_sequences(&records), reported);
    let getppid = records.iter().filter(|r| r["syscall"] == "getppid").count() as u64;
    assert!(
        getppid + reported >= 300_000,
        "{getppid} recorded + {reported} lost"
    );
    assert!(getppid > 0);
    // and dump says so
    let out = Command::new(syscord())
        .arg("dump")
        .arg(&rec.file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{reported} records were lost while recording")),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("records lost on CPU"));
}
