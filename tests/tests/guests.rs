//! End to end, on three architectures and several kernels each: each test boots Debian
//! kernels of the matrix (images/kernels) under QEMU, drives the guest's serial console,
//! records the test programs with that architecture's static syscord, and checks the decoded
//! recordings.
//!
//! Needs the guests `ci/guests` builds (kernels and busybox cached by images/fetch, one
//! initramfs per architecture in target/guests/). Enabled with `--features guests`. Which
//! cells run: `SYSCORD_GUEST_CELLS` (`x86_64/6.1 riscv64/newest ...`, as ci/test sets it), or
//! else every cell whose kernel is in the cache.
#![cfg(feature = "guests")]

mod common;

use std::{collections::BTreeMap, path::PathBuf, process::Command, time::Instant};

use base64::Engine as _;
use regex::Regex;
use rexpect::{
    ReadUntil,
    session::{PtySession, spawn_command},
};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use syscord_arch::{Arch, SyscallTable};
use syscord_tests::{
    check_effects, check_exec_image, check_race, check_requests, check_return_addresses,
    check_script_exec, check_sequence, check_sequence_numbers, check_signals, effects_pairs,
    json_lines, sequence_log, syscalls_by_tid,
};

/// Every wait on the console gives up after this long: TCG is slow, the eBPF verifier more so.
const TIMEOUT_MS: u64 = 600_000;

/// The kernel matrix: (architecture, cell) in the table's order.
const MATRIX: &str = include_str!("../../images/kernels");

fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SYSCORD_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"),
        PathBuf::from,
    );
    base.join("syscord")
}

/// The cells of `arch` this run boots.
fn cells(arch: Arch) -> Vec<String> {
    let of_arch: Vec<String> = MATRIX
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut fields = l.split_whitespace();
            (fields.next()? == arch.name()).then(|| fields.next().map(str::to_owned))?
        })
        .collect();
    assert!(!of_arch.is_empty(), "{arch}: no cell in images/kernels");
    match std::env::var("SYSCORD_GUEST_CELLS") {
        Ok(selected) => {
            let selected: Vec<&str> = selected
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .collect();
            for s in &selected {
                let known = s.split_once('/').is_some_and(|(a, c)| {
                    Arch::ALL.iter().any(|x| x.name() == a)
                        && (a != arch.name() || of_arch.iter().any(|x| x == c))
                });
                assert!(known, "SYSCORD_GUEST_CELLS: no cell {s} in images/kernels");
            }
            of_arch
                .into_iter()
                .filter(|c| selected.contains(&format!("{arch}/{c}").as_str()))
                .collect()
        }
        Err(_) => {
            let cached: Vec<String> = of_arch
                .into_iter()
                .filter(|c| kernel_path(arch, c).exists())
                .collect();
            assert!(
                !cached.is_empty(),
                "{arch}: no kernel in {}: run ci/guests first",
                cache_dir().join("images").display()
            );
            cached
        }
    }
}

fn kernel_path(arch: Arch, cell: &str) -> PathBuf {
    cache_dir()
        .join("images")
        .join(arch.name())
        .join(cell)
        .join("kernel")
}

/// A kernel message as the console prints it: printk's `[seconds.micros] ` and one line. The
/// kernel writes it whole, but anywhere, into the middle of a line the guest is writing too.
fn kernel_line() -> Regex {
    Regex::new(r"\[ *\d+\.\d{6}\] [^\r\n]*\r*\n").expect("kernel line regex")
}

/// The guest's serial console. Everything read is taken through [`Console::read_until`],
/// which removes kernel messages before it looks for what it waits for.
struct Console {
    label: String,
    session: PtySession,
    /// Read from the console, not yet consumed.
    pending: String,
    kernel_line: Regex,
    anything: Regex,
}

impl Console {
    /// Reads until `pattern` matches the console's text with every complete kernel message
    /// taken out; returns the text before the match and the match. Fails at once on a kernel
    /// panic.
    fn read_until(&mut self, pattern: &Regex, waiting_for: &str) -> (String, String) {
        loop {
            while let Some(m) = self.kernel_line.find(&self.pending) {
                let line = m.as_str().trim_end().to_owned();
                self.pending.replace_range(m.range(), "");
                assert!(
                    !line.contains("Kernel panic"),
                    "{}: kernel panic: {line}",
                    self.label
                );
                eprintln!("{}: kernel: {line}", self.label);
            }
            assert!(
                !self.pending.contains("Kernel panic"),
                "{}: kernel panic: {}",
                self.label,
                self.pending
            );
            if let Some(m) = pattern.find(&self.pending) {
                let before = self.pending[..m.start()].to_owned();
                let matched = m.as_str().to_owned();
                self.pending.replace_range(..m.end(), "");
                if std::env::var_os("SYSCORD_GUEST_TRACE").is_some() {
                    eprintln!("<<matched {matched:?} for {waiting_for}>>");
                }
                return (before, matched);
            }
            let (_, more) = self
                .session
                .exp_any(vec![ReadUntil::Regex(self.anything.clone())])
                .unwrap_or_else(|e| {
                    panic!(
                        "{}: waiting for {waiting_for}: {e}\nread: {}",
                        self.label, self.pending
                    )
                });
            if std::env::var_os("SYSCORD_GUEST_TRACE").is_some() {
                eprint!("{more}");
            }
            self.pending.push_str(&more);
        }
    }
}

struct Guest {
    label: String,
    /// `uname -r` of the guest's kernel.
    uname: String,
    console: Console,
    commands: u32,
}

impl Guest {
    fn boot(arch: Arch, cell: &str) -> Guest {
        let label = format!("{arch}/{cell}");
        let kernel = kernel_path(arch, cell);
        let initramfs = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/guests")
            .join(arch.name())
            .join("initramfs.cpio.gz");
        for file in [&kernel, &initramfs] {
            assert!(
                file.exists(),
                "{} is missing: run ci/guests first",
                file.display()
            );
        }
        let (qemu, machine, console): (&str, &[&str], &str) = match arch {
            Arch::X86_64 => ("qemu-system-x86_64", &[], "ttyS0"),
            Arch::Aarch64 => (
                "qemu-system-aarch64",
                &["-M", "virt", "-cpu", "max"],
                "ttyAMA0",
            ),
            Arch::Riscv64 => ("qemu-system-riscv64", &["-M", "virt"], "ttyS0"),
        };
        let mut cmd = Command::new(qemu);
        cmd.args(machine);
        cmd.args(["-m", "1024", "-smp", "2", "-no-reboot"])
            .args(["-display", "none", "-monitor", "none", "-serial", "stdio"])
            .arg("-kernel")
            .arg(&kernel)
            .arg("-initrd")
            .arg(&initramfs)
            .arg("-append")
            // loglevel=1: only emergency messages (a panic's) reach the console, which carries
            // the test's output too. Those that still do are taken out by their printk time
            // stamp (Console::read_until), and every output is checked against its checksum
            // (Guest::fetch).
            .arg(format!(
                "console={console} panic=-1 quiet loglevel=1 printk.time=1"
            ));
        let session = spawn_command(cmd, Some(TIMEOUT_MS))
            .unwrap_or_else(|e| panic!("cannot start {qemu} (ci/setup installs it): {e}"));
        let mut guest = Guest {
            label: label.clone(),
            uname: String::new(),
            console: Console {
                label,
                session,
                pending: String::new(),
                kernel_line: kernel_line(),
                anything: Regex::new(r"(?s).+").expect("regex"),
            },
            commands: 0,
        };
        let started = Instant::now();
        let ready = Regex::new(r"syscord-guest: ready ([^\r\n]*)\r*\n").expect("regex");
        let (_, line) = guest.console.read_until(&ready, "the guest's init");
        // "syscord-guest: ready <machine> <release> cpus=<n>"
        guest.uname = line
            .split_whitespace()
            .nth(3)
            .unwrap_or_default()
            .to_owned();
        guest.expect("guest# ");
        eprintln!(
            "{}: booted in {:.1} s: {}",
            guest.label,
            started.elapsed().as_secs_f64(),
            line.trim()
        );
        guest
    }

    /// Waits for `text`.
    fn expect(&mut self, text: &str) -> String {
        let pattern = Regex::new(&regex::escape(text)).expect("regex");
        self.console.read_until(&pattern, text).0
    }

    /// Runs a shell command in the guest; returns its output (stdout and stderr) and exit
    /// status. The output goes to a file in the guest, then crosses the console framed and
    /// checked (Guest::fetch), so a kernel message cannot end up inside it.
    fn run(&mut self, command: &str) -> (String, i32) {
        self.commands += 1;
        let n = self.commands;
        self.send(&format!(
            "{{ {command}\n}} > /tmp/.out 2>&1; echo \"@@done-{n} rc=$?\""
        ));
        // The echoed command line shows the marker with `$?` unexpanded: only the real one has
        // a number, and a line end after it (the console may deliver "rc=10" before the "1"
        // of "rc=101", seen once in the riscv64 guest).
        let marker = Regex::new(&format!(r"@@done-{n} rc=(\d+)\r*\n")).expect("marker regex");
        let (_, done) = self.console.read_until(&marker, command);
        let rc = done
            .trim()
            .rsplit('=')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("exit status");
        (self.fetch("/tmp/.out"), rc)
    }

    /// The contents of a text file in the guest. It crosses the console between two markers,
    /// after its size and SHA-256 as the guest computed them, and is fetched again (up to
    /// three times) until what arrived matches both.
    fn fetch(&mut self, file: &str) -> String {
        for attempt in 1..=3 {
            self.commands += 1;
            let n = self.commands;
            self.send(&format!(
                "echo \"@@file-{n} $(wc -c < {file}) $(sha256sum < {file})\"; cat {file}; echo \"@@end-{n}\""
            ));
            let header = Regex::new(&format!(
                r"@@file-{n} *(\d+) ([0-9a-f]{{64}}) [^\r\n]*\r*\n"
            ))
            .expect("header regex");
            let (_, header) = self.console.read_until(&header, file);
            let end = Regex::new(&format!(r"@@end-{n}\r*\n")).expect("end regex");
            let (body, _) = self.console.read_until(&end, file);
            // The console turns each line end into \r\n.
            let body = body.replace('\r', "");
            let mut fields = header.split_whitespace().skip(1);
            let size: usize = fields.next().and_then(|s| s.parse().ok()).expect("size");
            let sha = fields.next().expect("sha256");
            let got = format!("{:x}", Sha256::digest(body.as_bytes()));
            if body.len() == size && got == sha {
                return body;
            }
            eprintln!(
                "{}: {file} arrived as {} bytes with SHA-256 {got}, not {size} bytes with {sha} \
                 (attempt {attempt}):\n{body}",
                self.label,
                body.len()
            );
        }
        panic!("{}: {file} never crossed the console intact", self.label);
    }

    fn send(&mut self, line: &str) {
        self.console
            .session
            .send_line(line)
            .expect("write to the guest console");
    }

    /// Runs `command` and expects it to succeed.
    fn ok(&mut self, command: &str) -> String {
        let (output, rc) = self.run(command);
        assert_eq!(rc, 0, "{}: {command} failed:\n{output}", self.label);
        output
    }

    /// Runs a `syscord record` command line, expecting exit status `rc`, then `check` on
    /// what it recorded, and returns what `check` returns. Nothing may be lost. On a kernel
    /// that runs syscord's programs preemptibly, though, the kernel skips a program while it
    /// is preempted on a CPU (syscord counts that, as events of any process); there a failed
    /// check of a run with skipped programs runs the command again, up to five times.
    fn record_checked<R>(
        &mut self,
        command: &str,
        rc: i32,
        mut check: impl FnMut(&mut Guest) -> R,
    ) -> R {
        for attempt in 1..=5 {
            let (output, got) = self.run(command);
            assert_eq!(got, rc, "{}: {command}:\n{output}", self.label);
            assert!(
                !output.contains("warning"),
                "{}: {command}:\n{output}",
                self.label
            );
            let lost = output_count(&output, r", (\d+) lost");
            let skipped = output_count(&output, r"skipped syscord's programs (\d+) times");
            if skipped == 0 && lost == 0 {
                return check(self);
            }
            assert!(
                !preemption_free(&self.uname),
                "{}: {command}: records lost on a kernel that runs the programs with preemption off:\n{output}",
                self.label
            );
            if lost > 0 {
                // Only records whose CPU's ring a preempted program held.
                let busy = output_count(&output, r"(\d+) with no sequence number");
                assert_eq!(busy, lost, "{}: {command}:\n{output}", self.label);
                eprintln!(
                    "{}: {command}: {lost} records lost to a preempted program (attempt {attempt}); again",
                    self.label
                );
                continue;
            }
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(self))) {
                Ok(result) => return result,
                Err(_) => eprintln!(
                    "{}: {command}: the check failed on a run where the kernel skipped syscord's \
                     programs {skipped} times (attempt {attempt}); again",
                    self.label
                ),
            }
        }
        panic!(
            "{}: {command}: five runs with skipped programs, none whole",
            self.label
        );
    }

    fn dump_json(&mut self, file: &str) -> Vec<Value> {
        json_lines(&self.ok(&format!("syscord dump --format json {file}")))
    }

    fn shutdown(mut self) {
        self.send("poweroff -f");
        let _ = self.console.session.exp_eof();
    }
}

/// Whether a kernel of the matrix runs syscord's programs with preemption off, so that no
/// program is ever preempted by another on its CPU: those before 7.x that are not PREEMPT_RT
/// (Debian's rt releases end in `-rt-<arch>`). Debian's 7.2 and 7.3 do not: programs at the
/// syscall tracepoints are preempted there.
fn preemption_free(release: &str) -> bool {
    let major: u32 = release
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    major < 7 && !release.contains("-rt-")
}

/// How syscord's eBPF program publishes records on a kernel `release` of `arch`: BPF's
/// store-release came with 6.15 on arm64 and 6.16 on riscv64; x86-64 needs none.
fn ring_publish(arch: Arch, release: &str) -> &'static str {
    let mut numbers = release.split(|c: char| !c.is_ascii_digit());
    let mut next = || numbers.next().and_then(|n| n.parse().ok()).unwrap_or(0u32);
    let version = (next(), next());
    match arch {
        Arch::X86_64 => "plain store",
        Arch::Riscv64 if version >= (6, 16) => "store-release",
        Arch::Aarch64 if version >= (6, 15) => "store-release",
        _ => "atomic exchange",
    }
}

/// The number the first group of `pattern` matches in `text`, or 0.
fn output_count(text: &str, pattern: &str) -> u64 {
    Regex::new(pattern)
        .expect("count regex")
        .captures(text)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or(0)
}

/// How many times each guest runs the storm.
const STORM_RUNS: u32 = 10;
/// getppid calls per thread in each storm.
const STORM_CALLS: u64 = 20_000;

/// Everything checked inside one guest: `arch` booting the kernel of `cell`.
fn guest_records_right(arch: Arch, cell: &str) {
    let table = SyscallTable::of(arch);
    let mut guest = Guest::boot(arch, cell);
    let label = guest.label.clone();

    // The guest's own syscord knows its architecture.
    // A kernel whose BPF JIT is off (Debian's riscv64 7.x) gets a clear refusal that names
    // the setting, then the setting.
    if guest.fetch("/proc/sys/net/core/bpf_jit_enable").trim() == "0" {
        let (refusal, rc) = guest.run("syscord record -o /tmp/nojit.rec -- true");
        assert_ne!(rc, 0, "{label}: {refusal}");
        assert!(
            refusal.contains("sysctl net.core.bpf_jit_enable=1"),
            "{label}: {refusal}"
        );
        guest.ok("echo 1 > /proc/sys/net/core/bpf_jit_enable");
        eprintln!("{label}: the BPF JIT was off: refused clearly, then turned on");
    }

    let listing = guest.ok("syscord handlers --format json");
    let handlers = json_lines(&listing);
    let known = |h: &&Value| h["class"] != "unknown";
    assert_eq!(
        handlers.iter().filter(known).count(),
        table.len(),
        "{label}"
    );
    // Where the kernel's sys_call_table is not in /proc/kallsyms (Debian's arm64 6.1 lists
    // no data symbols), handlers says so and lists no unknown number.
    let table_readable = !listing.contains("syscall table is not readable");
    let openat = handlers.iter().find(|h| h["syscall"] == "openat").unwrap();
    assert_eq!(
        openat["nr"],
        if arch == Arch::X86_64 { 257 } else { 56 },
        "{label}"
    );

    // The first number past syscord's table: a syscall of kernels newer than the table
    // (file_setattr on x86_64 6.17+), or no syscall at all (ENOSYS) on older ones. Either way
    // each call is recorded, as syscall_NNN with its six registers, and counted; and
    // `syscord handlers` lists the number as unknown exactly when this kernel implements it.
    let nr = u64::from(table.max_nr_exclusive());
    guest.record_checked(
        "syscord record -o /tmp/unknown.rec -- sc-loop unknown 3 > /tmp/unknown.out",
        0,
        |guest| check_unknown_syscall(guest, nr, &handlers, table_readable),
    );

    // A known sequence in three threads: names, numbers, arguments (the first one too, which
    // arm64 and riscv64 keep in orig_x0 / orig_a0), return values, return addresses.
    // (record_checked also checks there is no warning: a sequence gap the kernel did not
    // count, or an anomaly, is one, never silent.)
    let (log, records) = guest.record_checked(
        "syscord record -o /tmp/seq.rec -- sc-sequence > /tmp/seq.out",
        0,
        |guest| {
            let log = sequence_log(&guest.fetch("/tmp/seq.out"));
            let records = guest.dump_json("/tmp/seq.rec");
            check_sequence(&log, &records, table, "/bin/sc-sequence");
            check_return_addresses(&log, &records);
            assert_eq!(check_sequence_numbers(&records), 0);
            let opens: Vec<&Value> = records
                .iter()
                .filter(|r| r["syscall"] == "openat")
                .collect();
            assert!(!opens.is_empty());
            for r in opens {
                assert_eq!(
                    r["nr"].as_u64(),
                    table.number("openat").map(u64::from),
                    "{r}"
                );
            }
            (log, records)
        },
    );

    // Captured memory equals what the program saw: read, pread64, readv content, structs,
    // random bytes, pipe descriptors, socket addresses, timespec, getcwd.
    guest.record_checked(
        "syscord record -o /tmp/eff.rec -- sc-effects /tmp > /tmp/eff.out",
        0,
        |guest| {
            let effects = guest.fetch("/tmp/eff.out");
            let effect_records = guest.dump_json("/tmp/eff.rec");
            let pairs = effects_pairs(&effects, &effect_records);
            assert_eq!(check_effects(&pairs, 256, false), 12, "{label}");
        },
    );

    // Signals sent and delivered with the siginfo the handlers saw, interrupted and
    // restarted calls, a group exit's SIGKILL, a SIGSEGV and its exit status. In /tmp, where
    // the SIGSEGV's core goes.
    guest.record_checked(
        "(cd /tmp && syscord record -o /tmp/sig.rec -- sc-signals all > /tmp/sig.out)",
        0,
        |guest| {
            let out = guest.fetch("/tmp/sig.out");
            let records = guest.dump_json("/tmp/sig.rec");
            let text = guest.ok("syscord dump /tmp/sig.rec");
            check_signals(&out, &records, &text);
        },
    );
    guest.ok("rm -f /tmp/core*");

    // A `#!` script's execve as its caller made it, and the interpreter's argv beside it.
    guest.ok("printf '#!/bin/sh\\nexit 0\\n' > /tmp/script.sh && chmod +x /tmp/script.sh");
    guest.record_checked(
        "syscord record --caller-argv-tracepoints -o /tmp/script.rec -- /tmp/script.sh one two",
        0,
        |guest| {
            let stats: Value = serde_json::from_str(
                &guest.ok("syscord stats --format json /tmp/script.rec 2>/dev/null"),
            )
            .expect("stats JSON");
            // Every kernel of the matrix hooks execve's entry: with fentry, or where arm64
            // has no BPF trampolines for it (before 6.4), on the syscalls tracepoint that
            // --caller-argv-tracepoints allows.
            assert_eq!(
                stats["exec_argv"], "as the caller passed it",
                "{label}: the hook on execve's entry: {stats}"
            );
            let records = guest.dump_json("/tmp/script.rec");
            check_script_exec(&records, "/tmp/script.sh", true);
        },
    );

    // What a new image starts with (auxiliary vector, AT_RANDOM, working directory,
    // executable and build-id, environment) equals what the program saw.
    guest.record_checked(
        "cd /tmp && syscord record --capture-env -o /tmp/image.rec -- sc-image > /tmp/image.out",
        0,
        |guest| {
            let out = guest.fetch("/tmp/image.out");
            let records = guest.dump_json("/tmp/image.rec");
            check_exec_image(&out, &records, true);
        },
    );

    // ioctl, fcntl and prctl requests on a pty, a locked file and a socket: what their
    // rules captured equals what the program saw.
    guest.record_checked(
        "syscord record -o /tmp/req.rec -- sc-requests /tmp/req.lock > /tmp/req.out",
        0,
        |guest| {
            let out = guest.fetch("/tmp/req.out");
            let records = guest.dump_json("/tmp/req.rec");
            let pairs = effects_pairs(&out, &records);
            check_requests(&pairs);
        },
    );

    // The thesis's case study: the read that returned the 25-byte string, with its content.
    // sc-race fails its assertion: exit status 101.
    guest.record_checked("syscord record -o /tmp/race.rec -- sc-race", 101, |guest| {
        let read = check_race(&guest.dump_json("/tmp/race.rec"));
        assert_ne!(read["tid"], read["pid"], "{label}: the reading thread");
    });

    // A filter decided in this kernel: the exact path of the child's executable, walked
    // from its dentry across the tmpfs mount, selects the child and its thread from their
    // execve on, and nothing of the parent.
    guest.ok("cp /bin/sc-family /tmp/sc-child");
    guest.record_checked(
        "syscord record -o /tmp/fam.rec --filter 'exe == \"/tmp/sc-child\"' -- sc-family 300 /tmp/sc-child > /tmp/fam.out",
        0,
        |guest| {
            let family: BTreeMap<String, u64> = json_lines(&guest.fetch("/tmp/fam.out"))
                .iter()
                .map(|v| {
                    (
                        v["role"].as_str().unwrap().to_owned(),
                        v["tid"].as_u64().unwrap(),
                    )
                })
                .collect();
            let by_tid = syscalls_by_tid(&guest.dump_json("/tmp/fam.rec"));
            assert_eq!(
                by_tid.keys().copied().collect::<Vec<u64>>(),
                vec![family["child"], family["child-thread"]],
                "{label}: threads recorded with the exe filter, of {family:?}"
            );
            assert_eq!(by_tid[&family["child"]][0]["syscall"], "execve", "{label}");
        },
    );

    // Each CPU's records go to that CPU's ring: a process pinned to a CPU is recorded as
    // on it (riscv64's bpf_get_smp_processor_id answered 0 on CPU 1 too, so both CPUs once
    // wrote one ring).
    for cpu in 0..2u64 {
        let mask = 1 << cpu;
        guest.record_checked(
            &format!(
                "taskset {mask} syscord record -o /tmp/pin.rec -- taskset {mask} sc-loop getppid 2000"
            ),
            0,
            |guest| {
                let pinned = guest.dump_json("/tmp/pin.rec");
                let getppid: Vec<&Value> = pinned
                    .iter()
                    .filter(|r| r["syscall"] == "getppid")
                    .collect();
                assert_eq!(getppid.len(), 2000, "{label}");
                assert!(
                    getppid.iter().all(|r| r["cpu"] == cpu),
                    "{label}: a process pinned to CPU {cpu} recorded on another"
                );
            },
        );
    }

    // Both CPUs producing at full speed while the drain consumes, STORM_RUNS times: every
    // sequence number of each CPU is a record or a counted loss, none out of place, and every
    // getppid call is in the file, or counted lost, or among the runs the kernel says it
    // skipped. The guest checks the sequence numbers itself (sc-seqcheck): the console is too
    // slow for the records. Where the kernel runs syscord's programs with preemption off
    // (6.1 and 6.12 but rt) nothing may be lost or skipped at all; where it does not, a
    // program preempted on a CPU makes the kernel skip it there until it resumes, and a
    // program that preempts one holding the ring counts its record lost.
    let started = Instant::now();
    let mut lost_in_storms = 0;
    let mut skipped_in_storms = 0;
    for run in 1..=STORM_RUNS {
        let out = guest.ok(&format!(
            "syscord record -o /tmp/storm.rec -- sc-loop getppid-pair {STORM_CALLS} > /dev/null \\
             && syscord dump --format json /tmp/storm.rec | sc-seqcheck"
        ));
        assert!(!out.contains("warning"), "{label}: storm {run}: {out}");
        let check = json_lines(&out);
        assert_eq!(check.len(), 1, "{label}: storm {run}: {out}");
        let summary = Regex::new(r"recorded to \S+ \([^)]*\), (\d+) lost").unwrap();
        let lost: u64 = summary
            .captures(&out)
            .unwrap_or_else(|| panic!("{label}: storm {run}: no summary in {out}"))[1]
            .parse()
            .unwrap();
        let numbered = check[0]["lost"].as_u64().unwrap();
        let getppid = check[0]["syscalls"]["getppid"].as_u64().unwrap();
        let skipped = output_count(&out, r"skipped syscord's programs (\d+) times");
        assert!(getppid <= 2 * STORM_CALLS, "{label}: storm {run}: {out}");
        if getppid + lost < 2 * STORM_CALLS {
            // Calls the kernel never showed syscord: only where it says it skipped them.
            assert!(
                skipped > 0,
                "{label}: storm {run}: {getppid} of {} getppid calls in the file, {lost} lost, none skipped: {out}",
                2 * STORM_CALLS
            );
        }
        if lost + skipped > 0 {
            assert!(
                !preemption_free(&guest.uname),
                "{label}: storm {run}: losses on a kernel that runs the programs with preemption off: {out}"
            );
            assert_eq!(
                numbered, 0,
                "{label}: storm {run}: the ring itself lost records: {out}"
            );
        }
        skipped_in_storms += skipped;
        lost_in_storms += lost;
    }
    // The storms ran with the way of publishing this kernel allows: the probe chose it.
    let stats = json_lines(&guest.ok("syscord stats --format json /tmp/storm.rec"));
    assert_eq!(
        stats[0]["ring_publish"],
        ring_publish(arch, &guest.uname),
        "{label}: kernel {}",
        guest.uname
    );
    eprintln!(
        "{label}: {STORM_RUNS} storms of 2 x {STORM_CALLS} getppid calls in {:.1} s, {lost_in_storms} lost, {skipped_in_storms} runs of syscord's programs skipped by the kernel",
        started.elapsed().as_secs_f64()
    );

    // The file recorded here decodes on this machine, by the recording's architecture.
    {
        let encoded: String = guest
            .ok("base64 /tmp/seq.rec")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64 of the recording");
        let scratch = common::Scratch::new(&format!("guest-{arch}-{cell}"));
        let copy = scratch.path("seq.rec");
        std::fs::write(&copy, bytes).unwrap();
        let out = Command::new(common::syscord())
            .args(["dump", "--format", "json"])
            .arg(&copy)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let here = json_lines(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(here.len(), records.len());
        check_sequence(&log, &here, table, "/bin/sc-sequence");
    }

    guest.shutdown();
}

/// The recorded calls of the number past syscord's table (`sc-loop unknown 3`), against what
/// the program saw and what `syscord handlers` listed.
fn check_unknown_syscall(guest: &mut Guest, nr: u64, handlers: &[Value], table_readable: bool) {
    let label = guest.label.clone();
    let rets: Vec<i64> = guest
        .fetch("/tmp/unknown.out")
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(rets.len(), 3, "{label}");
    let unknown: Vec<Value> = guest
        .dump_json("/tmp/unknown.rec")
        .into_iter()
        .filter(|r| r["nr"] == nr)
        .collect();
    assert_eq!(unknown.len(), 3, "{label}: {unknown:?}");
    for (r, ret) in unknown.iter().zip(&rets) {
        assert_eq!(r["syscall"], format!("syscall_{nr}"), "{label}");
        assert_eq!(
            r["args"],
            serde_json::json!([1, 2, 3, 4, 5, 6]),
            "{label}: {r}"
        );
        assert_eq!(r["ret"], *ret, "{label}: {r}");
    }
    let stats = json_lines(&guest.ok("syscord stats --format json /tmp/unknown.rec"));
    let row = stats[0]["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["nr"] == nr)
        .cloned();
    assert_eq!(
        row.map(|row| row["calls"].clone()),
        Some(3.into()),
        "{label}"
    );
    let implemented = rets[0] != -i64::from(libc::ENOSYS);
    let listed = handlers
        .iter()
        .find(|h| h["nr"] == nr && h["class"] == "unknown");
    assert_eq!(
        listed.is_some(),
        implemented && table_readable,
        "{label}: syscall {nr} returned {} and syscord handlers lists {listed:?}",
        rets[0]
    );
    eprintln!(
        "{label}: syscall {nr}: {}",
        match (listed, implemented) {
            (Some(h), _) => format!("the kernel's {}, unknown to syscord", h["kernel_name"]),
            (None, true) => "in this kernel, whose syscall table syscord cannot read".to_owned(),
            (None, false) => "not in this kernel".to_owned(),
        }
    );
}

/// Every selected cell of `arch`, one guest after the other.
fn guests_record_right(arch: Arch) {
    for cell in cells(arch) {
        let started = Instant::now();
        guest_records_right(arch, &cell);
        eprintln!(
            "{arch}/{cell}: passed in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
}

#[test]
fn x86_64_guests() {
    guests_record_right(Arch::X86_64);
}

#[test]
fn aarch64_guests() {
    guests_record_right(Arch::Aarch64);
}

#[test]
fn riscv64_guests() {
    guests_record_right(Arch::Riscv64);
}
