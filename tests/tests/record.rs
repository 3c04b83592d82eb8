//! `syscord record` on the real kernel: what a known program did is what the file holds.
//! These tests load eBPF programs: they need root (or CAP_BPF and CAP_PERFMON).

mod common;

use std::{path::Path, process::Command};

use common::{Scratch, program, record, syscord};
use serde_json::Value;
use syscord_arch::{Arch, SyscallTable};
use syscord_tests::{
    check_race, check_return_addresses, check_sequence, check_sequence_numbers, sequence_log,
};

const SEQUENCE: &str = env!("CARGO_BIN_EXE_sc-sequence");

fn host_table() -> &'static SyscallTable {
    SyscallTable::of(Arch::host().expect("supported host"))
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
    let log = sequence_log(&rec.stdout());
    let records = rec.records();
    check_sequence(&log, &records, host_table(), SEQUENCE);
    check_return_addresses(&log, &records);
}

#[test]
fn the_thesis_case_study_shows_the_read_behind_the_overflow() {
    let scratch = Scratch::new("race");
    let rec = record(&scratch, "race", &[], &[env!("CARGO_BIN_EXE_sc-race")]);
    // the program fails its assertion, like the thesis's, and syscord says so
    assert_eq!(rec.output.status.code(), Some(101), "{}", rec.stderr());
    assert_eq!(rec.lost(), 0);
    let read = check_race(&rec.records());
    assert!(rec.stderr().contains("assertion"), "{}", rec.stderr());
    let pid = read["pid"].as_u64();
    assert_ne!(
        read["tid"].as_u64(),
        pid,
        "the read is made by the second thread"
    );
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
    // Without address randomization both runs lay memory out alike: glibc's thread arena
    // setup unmaps one or two pieces depending on where mmap placed it.
    let no_aslr = ["setarch", std::env::consts::ARCH, "-R", SEQUENCE];
    let scratch = Scratch::new("strace");
    let rec = record(&scratch, "seq", &[], &no_aslr);
    assert!(rec.output.status.success(), "{}", rec.stderr());
    let logs = sequence_log(&rec.stdout()).roles;
    let ours = rec.syscalls_by_tid();

    let prefix = scratch.path("strace");
    let out = Command::new("strace")
        .args(["-f", "-ff", "-qq", "-o"])
        .arg(&prefix)
        .args(no_aslr)
        .output()
        .expect("strace (ci/setup installs it)");
    assert!(
        out.status.success(),
        "strace failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let strace_logs = sequence_log(&String::from_utf8_lossy(&out.stdout)).roles;

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

#[test]
fn every_event_has_its_sequence_number() {
    let scratch = Scratch::new("sequences");
    let rec = record(&scratch, "seq", &[], &[SEQUENCE]);
    assert!(rec.output.status.success(), "{}", rec.stderr());
    assert_eq!(check_sequence_numbers(&rec.records()), 0);
}

#[test]
fn losses_are_counted_in_the_kernel_and_marked_in_the_file() {
    // A 2 MiB ring per CPU and a drain that looks every 3 s once the rings are quiet: a
    // burst of 300,000 syscalls (17 MB of records) after a second of quiet cannot fit.
    // (Started at once, the burst would be drained as it comes: the drain keeps up.)
    let scratch = Scratch::new("losses");
    let burst = format!(
        "sleep 1; exec {} getppid 300000",
        env!("CARGO_BIN_EXE_sc-loop")
    );
    let rec = record(
        &scratch,
        "burst",
        &["--buffer-size", "2M", "--poll-interval", "3000"],
        &["sh", "-c", &burst],
    );
    assert!(rec.output.status.success(), "{}", rec.stderr());
    let reported = rec.lost();
    assert!(reported > 100_000, "expected losses, got {reported}");
    assert!(!rec.stderr().contains("warning"), "{}", rec.stderr());
    let records = rec.records();
    // the loss ranges are exactly the events the kernel counted as lost
    assert_eq!(check_sequence_numbers(&records), reported);
    // per CPU too: the summary's "(CPU 0: n, CPU 1: m)" against the markers in the file
    let stderr = rec.stderr();
    let per_cpu = stderr
        .split_once(" lost (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .unwrap_or_else(|| panic!("no per-CPU losses in: {stderr}"))
        .0;
    let mut in_file: std::collections::BTreeMap<u64, u64> = Default::default();
    for r in records.iter().filter(|r| r["event"] == "lost") {
        *in_file.entry(r["cpu"].as_u64().unwrap()).or_default() += r["lost"].as_u64().unwrap();
    }
    let said: std::collections::BTreeMap<u64, u64> = per_cpu
        .split(", ")
        .map(|part| {
            let (cpu, n) = part.strip_prefix("CPU ").unwrap().split_once(": ").unwrap();
            (cpu.parse().unwrap(), n.parse().unwrap())
        })
        .collect();
    assert_eq!(said, in_file, "{stderr}");
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

/// A `#!` script's execve shows the argv its caller passed, as strace does, where the
/// kernel lets syscord hook the entry of execve (fentry, or with --caller-argv-tracepoints
/// the syscalls tracepoints); the recorder says when it does not.
#[test]
fn a_script_exec_shows_the_argv_its_caller_passed() {
    let scratch = Scratch::new("script-exec");
    let script = scratch.path("script.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let script = script.to_str().unwrap();
    for tracepoints in [false, true] {
        let extra: &[&str] = if tracepoints {
            &["--caller-argv-tracepoints"]
        } else {
            &[]
        };
        let rec = record(&scratch, "script", extra, &[script, "one", "two"]);
        assert!(rec.output.status.success(), "{}", rec.stderr());
        // Where the kernel refuses the hooks (this project's 6.18 host refuses fentry),
        // the header says why, and the new image's argv is what there is.
        let stats = Command::new(syscord())
            .args(["stats", "--format", "json"])
            .arg(&rec.file)
            .output()
            .unwrap();
        let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
        let exec_argv = stats["exec_argv"].as_str().unwrap();
        let taken = exec_argv == "as the caller passed it";
        let refused = exec_argv.starts_with("the new image's: this kernel refused fentry on ");
        let why = if tracepoints {
            " and the syscalls tracepoints ("
        } else {
            "; --caller-argv-tracepoints would take it"
        };
        assert!(taken || (refused && exec_argv.contains(why)), "{exec_argv}");
        syscord_tests::check_script_exec(&rec.records(), script, taken);
    }
}

/// An exec's record says what the new image started with, as the program itself sees it:
/// auxiliary vector, AT_RANDOM's bytes, working directory, executable and its build-id,
/// and with --capture-env only, the environment (in the event and as execve's envp).
#[test]
fn an_exec_records_what_its_image_started_with() {
    let scratch = Scratch::new("exec-image");
    let image = program("sc-image");
    let shell_build_id = syscord_tests::build_id_of(Path::new("/bin/sh"));
    let script = format!("cd {} && exec {image}", scratch.path("").display());
    for env in [false, true] {
        let extra: &[&str] = if env { &["--capture-env"] } else { &[] };
        let rec = record(&scratch, "image", extra, &["/bin/sh", "-c", &script]);
        assert!(rec.output.status.success(), "{}", rec.stderr());
        let records = rec.records();
        let out = String::from_utf8_lossy(&rec.output.stdout);
        syscord_tests::check_exec_image(&out, &records, env);
        // The shell's executable, a distribution's, has a build-id.
        let shell = records
            .iter()
            .find(|r| r["event"] == "exec_image" && r["execfn"] == "/bin/sh")
            .expect("the shell's image");
        assert!(shell_build_id.is_some());
        assert_eq!(
            shell["executable"]["build_id"],
            serde_json::json!(shell_build_id),
            "{shell}"
        );
    }
}
