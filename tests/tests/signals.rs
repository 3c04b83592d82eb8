//! Signals on this kernel: what `sc-signals` saw in its handlers and from waitpid equals what
//! syscord recorded of the signals sent to it and delivered to it, interrupted calls show as
//! strace shows them, and `stats` and the `signal` filter see them.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use common::{Recording, Scratch, syscord};
use serde_json::Value;
use syscord_tests::{check_signals, signal_events as events};

const SIGNALS: &str = env!("CARGO_BIN_EXE_sc-signals");

/// `sc-signals all` recorded in the scratch directory, where the segv case's core goes if
/// the kernel writes one.
fn recorded(scratch: &Scratch, name: &str, extra: &[&str]) -> Recording {
    let file = scratch.path(&format!("{name}.rec"));
    let output = Command::new(syscord())
        .current_dir(scratch.path(""))
        .arg("record")
        .arg("-o")
        .arg(&file)
        .args(extra)
        .args(["--", SIGNALS, "all"])
        .output()
        .expect("run syscord record");
    let rec = Recording { file, output };
    assert!(
        rec.output.status.success(),
        "record failed: {}",
        rec.stderr()
    );
    assert_eq!(rec.lost(), 0, "{}", rec.stderr());
    rec
}

#[test]
fn signals_sent_and_delivered_are_what_the_program_saw() {
    let scratch = Scratch::new("signals");
    let rec = recorded(&scratch, "all", &[]);
    let records = rec.records();
    check_signals(&rec.stdout(), &records, &common::dump_text(&rec));

    // stats: a row per signal.
    let out = Command::new(syscord())
        .args(["stats", "--format", "json"])
        .arg(&rec.file)
        .output()
        .expect("run syscord stats");
    assert!(out.status.success());
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| {
        stats["signals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["signal"] == name)
            .unwrap_or_else(|| panic!("no {name} row: {stats}"))
            .clone()
    };
    let usr1 = row("SIGUSR1");
    assert_eq!(
        (usr1["sent"].as_u64(), usr1["handled"].as_u64()),
        (Some(1), Some(1))
    );
    let alrm = row("SIGALRM");
    assert_eq!(
        (alrm["sent"].as_u64(), alrm["handled"].as_u64()),
        (Some(2), Some(2))
    );
    // Every child's SIGCHLD was sent; all but the last were dropped (ignored by default),
    // and the last one ran the handler.
    let chld = row("SIGCHLD");
    assert_eq!(
        chld["sent"].as_u64().unwrap(),
        chld["dropped"].as_u64().unwrap() + 1
    );
    assert_eq!(chld["handled"], 1);
    // The group exit's SIGKILL is the exit's, not a signal anyone sent.
    assert!(
        stats["signals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["signal"] != "SIGKILL")
    );
}

#[test]
fn the_signal_filter_keeps_the_signals_it_names() {
    let scratch = Scratch::new("signal-filter");
    let rec = recorded(&scratch, "segv", &["--filter", "signal == SEGV"]);
    let records = rec.records();
    let signals: Vec<&Value> = records
        .iter()
        .filter(|r| r.get("signal").is_some())
        .collect();
    assert!(!signals.is_empty());
    assert!(
        signals.iter().all(|r| r["signal"] == "SIGSEGV"),
        "{signals:?}"
    );
    assert!(
        records.iter().all(|r| r.get("syscall").is_none()),
        "no syscalls"
    );

    // Syscall conditions say nothing of signals; `signal` alone keeps them all.
    let rec = recorded(
        &scratch,
        "kills",
        &["--filter", "syscall == kill || signal"],
    );
    let records = rec.records();
    let syscalls: Vec<&Value> = records
        .iter()
        .filter(|r| r.get("syscall").is_some())
        .collect();
    assert!(
        syscalls.iter().all(|r| r["syscall"] == "kill"),
        "{syscalls:?}"
    );
    assert!(!events(&records, "signal", "SIGUSR1").is_empty());
    assert!(!events(&records, "signal_sent", "SIGCHLD").is_empty());
    let rec = recorded(&scratch, "reads", &["--filter", "syscall == kill"]);
    assert!(rec.records().iter().all(|r| r.get("signal").is_none()));

    let out = Command::new(syscord())
        .args(["record", "-o"])
        .arg(scratch.path("bad.rec"))
        .args(["--filter", "signal == SIGNOPE", "--", "true"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        common::text(&out.stderr).trim(),
        "syscord: filter: column 11: unknown signal 'SIGNOPE' (a name such as SIGSEGV or SEGV, or 1 to 64)"
    );
}

#[test]
fn a_signal_from_a_process_that_is_not_recorded_names_its_sender() {
    let scratch = Scratch::new("signal-outside");
    let file = scratch.path("wait.rec");
    let mut child = Command::new(syscord())
        .arg("record")
        .arg("-o")
        .arg(&file)
        .args(["--", SIGNALS, "wait"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run syscord record");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let pid = first["pid"].as_i64().unwrap() as i32;
    // SAFETY: a signal to the test's own recorded child, which waits for it.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGUSR2) }, 0);
    let second: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(second["case"], "usr2");
    let me = std::process::id();
    assert_eq!(second["si_pid"], me);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    let rec = Recording { file, output: out };
    let records = rec.records();
    let sent = events(&records, "signal_sent", "SIGUSR2");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["sender_pid"], me);
    assert_eq!(sent[0]["pid"], pid);
    assert_eq!(sent[0]["siginfo"]["si_pid"], me);
    let delivered = events(&records, "signal", "SIGUSR2");
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0]["siginfo"]["si_pid"], me);
    assert_eq!(delivered[0]["siginfo"]["si_uid"], second["si_uid"]);
}
