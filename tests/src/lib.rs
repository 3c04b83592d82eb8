//! Checks shared by the tests on this machine and the tests inside the QEMU guests: each
//! takes what a test program printed and what `syscord dump --format json` printed, and
//! panics with a message that says what differs.

use std::collections::BTreeMap;

use serde_json::Value;
use syscord_arch::SyscallTable;

/// JSON lines of `text`, skipping anything else (a guest's console echoes commands).
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

/// The syscall records, by thread, in time order.
pub fn syscalls_by_tid(records: &[Value]) -> BTreeMap<u64, Vec<Value>> {
    let mut by_tid: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for r in records {
        if r.get("syscall").is_some() {
            by_tid
                .entry(r["tid"].as_u64().unwrap())
                .or_default()
                .push(r.clone());
        }
    }
    by_tid
}

// --- sc-sequence -------------------------------------------------------------------------

/// sc-sequence's logs by role ("main", "thread", "child"), and its executable mappings.
pub struct SequenceLog {
    pub roles: BTreeMap<String, Value>,
    /// [start, end) of every executable mapping of the program (its text, libc, vdso).
    pub text: Vec<(u64, u64)>,
}

pub fn sequence_log(stdout: &str) -> SequenceLog {
    let mut roles = BTreeMap::new();
    let mut text = Vec::new();
    for v in json_lines(stdout) {
        if let Some(ranges) = v.get("text") {
            for r in ranges.as_array().unwrap() {
                text.push((r[0].as_u64().unwrap(), r[1].as_u64().unwrap()));
            }
        } else if let Some(role) = v.get("role") {
            roles.insert(role.as_str().unwrap().to_owned(), v);
        }
    }
    assert_eq!(roles.len(), 3, "sc-sequence printed: {stdout}");
    SequenceLog { roles, text }
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

/// Between its markers, each thread's recording holds exactly the calls it logged: number,
/// name (in `table`, the recording architecture's), arguments, return value. The main
/// thread's life starts with execve (its path captured) and ends with exit_group.
pub fn check_sequence(log: &SequenceLog, records: &[Value], table: &SyscallTable, program: &str) {
    let by_tid = syscalls_by_tid(records);
    for (role, log) in &log.roles {
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
        let names: Vec<&str> = between
            .iter()
            .map(|r| r["syscall"].as_str().unwrap())
            .collect();
        assert_eq!(between.len(), calls.len(), "{role}: recorded {names:?}");
        for (r, c) in between.iter().zip(calls) {
            let nr = c["nr"].as_u64().unwrap();
            assert_eq!(r["nr"].as_u64(), Some(nr), "{role}: {r}");
            assert_eq!(r["syscall"].as_str(), table.name(nr as u32), "{role}: {r}");
            assert_eq!(r["ret"], c["ret"], "{role}: return value of {r}");
            for (i, arg) in c["args"].as_array().unwrap().iter().enumerate() {
                assert_eq!(&r["args"][i], arg, "{role}: argument {i} of {r}");
            }
            assert_eq!(r["pid"], log["pid"], "{role}: {r}");
        }
    }

    let main_tid = log.roles["main"]["tid"].as_u64().unwrap();
    let main = &by_tid[&main_tid];
    let first = &main[0];
    assert_eq!(first["syscall"], "execve", "{first}");
    assert_eq!(first["ret"], 0);
    let filename = capture(first, "filename").expect("execve filename captured");
    assert_eq!(filename["hex"], hex(program.as_bytes()));
    let last = main.last().unwrap();
    assert_eq!(last["syscall"], "exit_group");
    assert_eq!(last["ret"], Value::Null);
    assert_eq!(last["args"][0], 0);
}

/// Every syscall of the program's threads after its execve returns into its own executable
/// mappings (its text, a shared libc, the vDSO).
pub fn check_return_addresses(log: &SequenceLog, records: &[Value]) {
    assert!(!log.text.is_empty(), "sc-sequence printed no mappings");
    let pid = log.roles["main"]["pid"].as_u64().unwrap();
    let mut checked = 0;
    for r in records.iter().filter(|r| r.get("syscall").is_some()) {
        if r["pid"].as_u64() != Some(pid) || r["ret"].is_null() || r["syscall"] == "execve" {
            continue;
        }
        let pc = r["ret_addr"].as_u64().unwrap();
        assert!(
            log.text.iter().any(|&(s, e)| (s..e).contains(&pc)),
            "return address {pc:#x} of {} outside {:x?}",
            r["syscall"],
            log.text
        );
        checked += 1;
    }
    assert!(checked > 20, "only {checked} return addresses checked");
}

/// On every CPU the sequence numbers of the file's events and loss ranges cover 1..=max
/// exactly once; returns the number of events lost.
pub fn check_sequence_numbers(records: &[Value]) -> u64 {
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

// --- sc-effects --------------------------------------------------------------------------

/// The capture called `name` of a record.
pub fn capture<'a>(record: &'a Value, name: &str) -> Option<&'a Value> {
    record["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
}

/// Syscall `nr` with up to six arguments, through `syscall(2)`: the raw result, -errno on
/// failure, as the kernel returns it (what the test programs log and the recording holds).
///
/// # Safety
/// The arguments must be valid for the syscall.
pub unsafe fn raw_syscall(nr: libc::c_long, args: &[u64]) -> i64 {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: the caller passes valid arguments.
    let ret = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if ret == -1 {
        // SAFETY: errno right after the call.
        -i64::from(unsafe { *libc::__errno_location() })
    } else {
        ret
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What sc-requests' rules captured equals what it saw, for all its 20 captures:
/// TIOCGWINSZ, TCGETS, FIONREAD, TIOCGPGRP, TIOCGSID, TIOCGPTN, four SIOCGIF*, F_GETLK,
/// F_OFD_GETLK, F_GETOWN_EX, PR_GET_NAME, PR_GET_PDEATHSIG, KEYCTL_DESCRIBE, KEYCTL_READ,
/// BPF_OBJ_GET_INFO_BY_FD and two failed quotactl changes.
pub fn check_requests(pairs: &[(Value, Value)]) {
    assert_eq!(check_effects(pairs, 256, false), 20);
}

/// sc-effects' log and the recorded syscalls between its markers, one for one.
pub fn effects_pairs(stdout: &str, records: &[Value]) -> Vec<(Value, Value)> {
    let logged: Vec<Value> = json_lines(stdout);
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
    let names: Vec<&Value> = recorded.iter().map(|r| &r["syscall"]).collect();
    assert_eq!(recorded.len(), logged.len(), "recorded {names:?}");
    logged.into_iter().zip(recorded).collect()
}

/// Checks every byte sc-effects saw against the recording at snap length `snap`; returns
/// how many captures were compared.
pub fn check_effects(pairs: &[(Value, Value)], snap: usize, writes_captured: bool) -> usize {
    let mut checked = 0;
    for (logged, recorded) in pairs {
        assert_eq!(logged["nr"], recorded["nr"], "{recorded}");
        assert_eq!(logged["ret"], recorded["ret"], "{recorded}");
        if logged["ret"].as_i64().unwrap() < 0 {
            // a failure leaves no output content (inputs such as a path may be there)
            assert!(
                capture(recorded, "buf").is_none(),
                "failed call with content: {recorded}"
            );
        }
        for (name, hex) in logged["data"].as_object().unwrap() {
            let hex = hex.as_str().unwrap();
            let full_len = hex.len() / 2;
            let got = capture(recorded, name);
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

// --- sc-race -----------------------------------------------------------------------------

/// The string thread 1 of the thesis's case study reads, whose length (25) overflows thread
/// 2's 15-byte buffer.
pub const RACE_LONG: &[u8] = b"1234567890123456789012345";

/// The recording of sc-race holds the read that returned the 25-byte string, with its
/// content, in the reading thread; returns that record.
pub fn check_race(records: &[Value]) -> Value {
    let read = records
        .iter()
        .find(|r| r["syscall"] == "read" && r["ret"] == RACE_LONG.len() as u64)
        .unwrap_or_else(|| panic!("no read returning 25 bytes"))
        .clone();
    let buf = capture(&read, "buf").expect("the read's content");
    assert_eq!(buf["hex"], hex(RACE_LONG), "{read}");
    assert_eq!(buf["len"], 25);
    assert_eq!(buf["truncated"], false);
    assert_eq!(
        read["args"][2], 64,
        "read into the 64-byte shared buffer: {read}"
    );
    read
}

fn case<'a>(cases: &'a [Value], name: &str) -> &'a Value {
    cases
        .iter()
        .find(|c| c["case"] == name)
        .unwrap_or_else(|| panic!("no {name} case in {cases:?}"))
}

/// The signal events (`signal`, `signal_sent`) of one signal.
pub fn signal_events<'a>(records: &'a [Value], event: &str, signal: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["event"] == event && r["signal"] == signal)
        .collect()
}

/// Checks a recording of `sc-signals all` (`records` its JSON dump, `text` its text dump)
/// against what the program printed (`stdout`): each signal sent and delivered with the
/// siginfo the handler saw, interrupted and restarted calls as strace shows them, the
/// group exit's SIGKILL, the SIGSEGV at address 8 and the exit status waitpid gave.
pub fn check_signals(stdout: &str, records: &[Value], text: &str) {
    let cases = json_lines(stdout);

    // kill(getpid(), SIGUSR1), an SA_SIGINFO handler.
    let handled = case(&cases, "handled");
    let pid = handled["pid"].as_u64().unwrap();
    let sent = signal_events(records, "signal_sent", "SIGUSR1");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["sender_pid"], pid);
    assert_eq!(sent[0]["pid"], pid);
    assert_eq!(sent[0]["result"], "queued");
    let delivered = signal_events(records, "signal", "SIGUSR1");
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
    // SIGRTMIN is the C library's: 34 with glibc (SIGRT_2), 35 with musl (SIGRT_3).
    let rt: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"] == "signal" && r["signo"] == queued["signo"])
        .collect();
    assert_eq!(rt.len(), 1, "{rt:?}");
    assert_eq!(
        rt[0]["signal"],
        format!("SIGRT_{}", queued["signo"].as_u64().unwrap() - 32)
    );
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
    let alarms = signal_events(records, "signal", "SIGALRM");
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
    let cont = signal_events(records, "signal_sent", "SIGCONT");
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
    let kills = signal_events(records, "signal", "SIGKILL");
    assert!(kills.iter().all(|k| k["group_exit"] == true), "{kills:?}");

    // SIGSEGV at address 8, its default action, and the exit status waitpid gave.
    let segv = case(&cases, "segv");
    let child = segv["child"].as_u64().unwrap();
    let status = segv["status"].as_u64().unwrap();
    assert_eq!(status & 0x7f, 11);
    let faults: Vec<&Value> = signal_events(records, "signal", "SIGSEGV")
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
    // The parent's handler saw the child's end in its SIGCHLD.
    assert_eq!(segv["signo"], 17);
    assert_eq!(segv["si_pid"], child);
    assert_eq!(segv["si_status"], 11);
    let chld: Vec<&Value> = signal_events(records, "signal", "SIGCHLD")
        .into_iter()
        .filter(|s| s["siginfo"]["si_pid"] == child)
        .collect();
    assert_eq!(chld.len(), 1, "{chld:?}");
    let how = if status & 0x80 != 0 {
        "CLD_DUMPED"
    } else {
        "CLD_KILLED"
    };
    assert_eq!(chld[0]["siginfo"]["si_code"], how);
    assert_eq!(segv["code"], if status & 0x80 != 0 { 3 } else { 2 });
    assert_eq!(chld[0]["siginfo"]["si_status"], "SIGSEGV");
    assert_eq!(chld[0]["action"], "handler");
    // SIGCHLDs of the earlier children: ignored by default, so dropped when sent.
    assert!(
        signal_events(records, "signal_sent", "SIGCHLD")
            .iter()
            .any(|s| s["result"] == "ignored")
    );
}

// --- exec of a `#!` script ----------------------------------------------------------------

/// The NUL-separated strings of a capture.
fn strings_of(capture: &Value) -> Vec<String> {
    let hex = capture["hex"].as_str().unwrap_or_default();
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    bytes
        .strip_suffix(&[0])
        .unwrap_or(&bytes)
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// The recording of `script one two` (a `#!/bin/sh` script): its execve shows the argv the
/// caller passed, and beside it the interpreter's argv the new image received. With
/// `caller_argv_taken` false (the kernel refused the entry hooks), the interpreter's alone.
pub fn check_script_exec(records: &[Value], script: &str, caller_argv_taken: bool) {
    let execve = records
        .iter()
        .find(|r| {
            r["syscall"] == "execve"
                && capture(r, "filename").is_some_and(|f| strings_of(f) == [script])
        })
        .unwrap_or_else(|| panic!("no execve of {script}"));
    let argv = strings_of(capture(execve, "argv").expect("argv"));
    let image = ["/bin/sh", script, "one", "two"];
    if caller_argv_taken {
        assert_eq!(argv, [script, "one", "two"], "{execve}");
        let image_argv = capture(execve, "image_argv").expect("the image's argv");
        assert_eq!(strings_of(image_argv), image, "{execve}");
    } else {
        assert_eq!(argv, image, "{execve}");
        assert!(capture(execve, "image_argv").is_none(), "{execve}");
    }
}

// --- sc-image ------------------------------------------------------------------------------

/// The ELF build-id of the file at `path`, in hex; None when it has none.
pub fn build_id_of(path: &std::path::Path) -> Option<String> {
    use object::Object as _;
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let elf = object::File::parse(&*data).expect("an ELF file");
    elf.build_id().expect("readable notes").map(hex)
}

/// sc-image's account of how its image started (`out`, its stdout) equals what the
/// recording says of that exec: auxiliary vector, AT_RANDOM's bytes, AT_PLATFORM and
/// AT_EXECFN, working directory, the executable's inode and build-id, and, when `env`
/// (`--capture-env`), the environment, in the exec_image event and as execve's `envp`.
pub fn check_exec_image(out: &str, records: &[Value], env: bool) {
    let saw = json_lines(out).pop().expect("sc-image's line");
    let image = records
        .iter()
        .find(|r| r["event"] == "exec_image" && r["execfn"] == saw["execfn"])
        .unwrap_or_else(|| panic!("no exec_image with execfn {}", saw["execfn"]));
    let recorded = image["auxv"].as_array().expect("auxv");
    let seen = saw["auxv"].as_array().unwrap();
    assert_eq!(recorded.len(), seen.len(), "{image}\n{saw}");
    for (r, s) in recorded.iter().zip(seen) {
        assert_eq!(r["value"], s[1], "{r} {s}");
        let name = r["type"].as_str().unwrap();
        match s[0].as_u64().unwrap() {
            15 => assert_eq!(name, "AT_PLATFORM"),
            25 => assert_eq!(name, "AT_RANDOM"),
            31 => assert_eq!(name, "AT_EXECFN"),
            kind => assert!(
                name.starts_with("AT_") || name == kind.to_string(),
                "{name}"
            ),
        }
    }
    for field in ["random", "platform", "execfn", "cwd"] {
        assert_eq!(image[field], saw[field], "{field}: {image}");
    }
    assert_eq!(image["cwd_whole"], true);
    let executable = &image["executable"];
    for field in [
        "ino",
        "size",
        "mtime_sec",
        "mtime_nsec",
        "mode",
        "dev_major",
        "dev_minor",
    ] {
        assert_eq!(
            executable[field], saw["executable"][field],
            "{field}: {image}"
        );
    }
    assert_eq!(executable["build_id"], saw["build_id"], "{image}");
    let execve = records
        .iter()
        .rev()
        .find(|r| r["syscall"] == "execve" && r["pid"] == image["pid"] && r["ret"] == 0)
        .expect("the execve of sc-image");
    if env {
        assert_eq!(image["env"], saw["env"], "{image}");
        assert_eq!(image["env_truncated"], false);
        let envp = capture(execve, "envp").expect("envp");
        assert_eq!(serde_json::json!(strings_of(envp)), saw["env"], "{execve}");
    } else {
        assert!(image.get("env").is_none(), "{image}");
        assert!(capture(execve, "envp").is_none(), "{execve}");
    }
}
