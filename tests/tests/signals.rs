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

const SIGNALS: &str = env!("CARGO_BIN_EXE_sc-signals");

/// The program's lines, by case.
fn cases(rec: &Recording) -> Vec<Value> {
    rec.stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect()
}

fn case<'a>(cases: &'a [Value], name: &str) -> &'a Value {
    cases
        .iter()
        .find(|c| c["case"] == name)
        .unwrap_or_else(|| panic!("no {name} case in {cases:?}"))
}

fn events<'a>(records: &'a [Value], event: &str, signal: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["event"] == event && r["signal"] == signal)
        .collect()
}

fn dump_text(rec: &Recording) -> String {
    let out = Command::new(syscord())
        .arg("dump")
        .arg(&rec.file)
        .output()
        .expect("run syscord dump");
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    common::text(&out.stdout)
}

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
    let cases = cases(&rec);
    let records = rec.records();
    let text = dump_text(&rec);

    // kill(getpid(), SIGUSR1), an SA_SIGINFO handler.
    let handled = case(&cases, "handled");
    let pid = handled["pid"].as_u64().unwrap();
    let sent = events(&records, "signal_sent", "SIGUSR1");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["sender_pid"], pid);
    assert_eq!(sent[0]["pid"], pid);
    assert_eq!(sent[0]["result"], "queued");
    let delivered = events(&records, "signal", "SIGUSR1");
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    let usr1 = delivered[0];
    assert_eq!(usr1["action"], "handler");
    assert_eq!(usr1["handler"], handled["handler"]);
    assert_eq!(usr1["siginfo"]["si_code"], "SI_USER");
    assert_eq!(handled["code"], 0);
    assert_eq!(usr1["siginfo"]["si_pid"], handled["si_pid"]);
    assert_eq!(usr1["siginfo"]["si_uid"], handled["si_uid"]);
    assert!(text.contains(&format!(
        "--- SIGUSR1 {{si_signo=SIGUSR1, si_code=SI_USER, si_pid={pid}, si_uid={}}} --- handler {:#x}",
        handled["uid"],
        handled["handler"].as_u64().unwrap()
    )));
    assert!(text.contains(&format!(
        "{pid}/{pid} --- SIGUSR1 sent by {pid}/{pid} sc-signals to the process: queued ---"
    )));

    // sigqueue(getpid(), SIGRTMIN, 42).
    let queued = case(&cases, "queued");
    let rt = events(&records, "signal", "SIGRT_2");
    assert_eq!(rt.len(), 1, "{rt:?}");
    assert_eq!(rt[0]["signo"], queued["signo"]);
    assert_eq!(rt[0]["siginfo"]["si_code"], "SI_QUEUE");
    assert_eq!(queued["code"], -1);
    assert_eq!(rt[0]["siginfo"]["si_int"], queued["value"]);
    assert_eq!(rt[0]["siginfo"]["si_ptr"], queued["value"]);

    // A read a SIGALRM without SA_RESTART interrupted: ERESTARTSYS at the exit, EINTR for
    // the program once the handler has run.
    let interrupted = case(&cases, "interrupted");
    assert_eq!(
        (interrupted["ret"].as_i64(), interrupted["errno"].as_i64()),
        (Some(-1), Some(4))
    );
    let fd = interrupted["fd"].as_u64().unwrap();
    let restart = format!("read({fd}, ");
    let restart_lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains(&restart)
                && l.ends_with("= ? ERESTARTSYS (To be restarted if SA_RESTART is set)")
        })
        .collect();
    // The interrupted read and the restarted one.
    assert_eq!(restart_lines.len(), 2, "{text}");
    let alarms = events(&records, "signal", "SIGALRM");
    assert_eq!(alarms.len(), 2, "{alarms:?}");
    assert_eq!(alarms[0]["siginfo"]["si_pid"], interrupted["si_pid"]);
    assert_eq!(
        alarms[0]["sa_flags"].as_u64().unwrap() & 0x1000_0000,
        0,
        "no SA_RESTART"
    );
    let after_alarm = text
        .lines()
        .skip_while(|l| !l.contains("--- SIGALRM {"))
        .find(|l| l.contains(" rt_sigreturn("))
        .unwrap_or_else(|| panic!("no rt_sigreturn after the alarm: {text}"));
    assert!(
        after_alarm.ends_with("= -1 EINTR (Interrupted system call)"),
        "{after_alarm}"
    );

    // With SA_RESTART the read goes on and returns the helper's byte.
    let restarted = case(&cases, "restarted");
    assert_eq!(restarted["ret"], 1);
    assert_eq!(alarms[1]["siginfo"]["si_pid"], restarted["helper"]);
    assert_ne!(
        alarms[1]["sa_flags"].as_u64().unwrap() & 0x1000_0000,
        0,
        "SA_RESTART"
    );
    let read_x = format!(
        "{pid}/{pid} sc-signals read({}, \"x\", 1) = 1",
        restarted["fd"]
    );
    assert!(text.contains(&read_x), "{text}");

    // A sleep stopped and continued goes on through restart_syscall.
    let stopped = case(&cases, "stopped");
    assert_eq!(stopped["ret"], 0);
    let sleeper = format!("{0}/{0} ", stopped["pid"]);
    let sleeper_lines: Vec<&str> = text.lines().filter(|l| l.contains(&sleeper)).collect();
    let interrupted_sleep = sleeper_lines
        .iter()
        .position(|l| {
            l.contains("nanosleep(")
                && l.ends_with("= ? ERESTART_RESTARTBLOCK (Interrupted by signal)")
        })
        .unwrap_or_else(|| panic!("no interrupted sleep: {sleeper_lines:#?}"));
    let stop = sleeper_lines
        .iter()
        .position(|l| {
            l.contains("--- SIGSTOP {si_signo=SIGSTOP, si_code=SI_USER")
                && l.ends_with("--- default: stop")
        })
        .expect("SIGSTOP delivered");
    let restarted_sleep = sleeper_lines
        .iter()
        .position(|l| l.contains(" restart_syscall() = 0"))
        .expect("restart_syscall");
    assert!(
        interrupted_sleep < stop && stop < restarted_sleep,
        "{sleeper_lines:#?}"
    );
    // SIGCONT by default is ignored once it has woken the stopped process.
    let cont = events(&records, "signal_sent", "SIGCONT");
    assert_eq!(cont.len(), 1);
    assert_eq!(cont[0]["result"], "ignored");
    assert_eq!(cont[0]["pid"], stopped["pid"]);

    // exit_group with a second thread: the kernel ends it with SIGKILL.
    let thread = case(&cases, "group")["thread"].as_u64().unwrap();
    let group_exit = case(&cases, "group_exit");
    let child = group_exit["child"].as_u64().unwrap();
    assert!(
        text.contains(&format!(
            "{child}/{thread} --- SIGKILL --- the process exits"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{child}/{thread} +++ exited with 3 +++")),
        "{text}"
    );
    let kills = events(&records, "signal", "SIGKILL");
    assert!(kills.iter().all(|k| k["group_exit"] == true), "{kills:?}");

    // SIGSEGV at address 8, its default action, and the exit status waitpid gave.
    let segv = case(&cases, "segv");
    let child = segv["child"].as_u64().unwrap();
    let status = segv["status"].as_u64().unwrap();
    assert_eq!(status & 0x7f, 11);
    let faults: Vec<&Value> = events(&records, "signal", "SIGSEGV")
        .into_iter()
        .filter(|s| s["tid"] == child)
        .collect();
    assert!(!faults.is_empty());
    for fault in &faults {
        assert_eq!(fault["siginfo"]["si_code"], "SEGV_MAPERR");
        assert_eq!(fault["siginfo"]["si_addr"], 8);
    }
    // Rust's runtime handles it first and gives it back to the default action.
    assert_eq!(faults.last().unwrap()["action"], "default");
    assert_eq!(faults.last().unwrap()["default_action"], "core");
    assert!(text.contains(&format!(
        "{child}/{child} --- SIGSEGV {{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x8}} --- default: core"
    )));
    let core = if status & 0x80 != 0 {
        " (core dumped)"
    } else {
        ""
    };
    assert!(
        text.contains(&format!("{child}/{child} +++ killed by SIGSEGV{core} +++")),
        "{text}"
    );
    // The parent's SIGCHLD: ignored by default, so dropped when sent.
    assert!(
        events(&records, "signal_sent", "SIGCHLD")
            .iter()
            .any(|s| s["sender_pid"] == child && s["result"] == "ignored")
    );

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
    let chld = row("SIGCHLD");
    assert_eq!(chld["sent"], chld["dropped"]);
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
