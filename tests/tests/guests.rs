//! End to end, on three architectures: each test boots a Debian kernel under QEMU (TCG),
//! drives the guest's serial console, records the test programs with that architecture's
//! static syscord, and checks the decoded recordings.
//!
//! Needs the guests `ci/guests` builds (kernels and busybox cached by images/fetch, one
//! initramfs per architecture in target/guests/). Enabled with `--features guests`.
#![cfg(feature = "guests")]

mod common;

use std::{collections::BTreeMap, path::PathBuf, process::Command, time::Instant};

use base64::Engine as _;
use rexpect::{
    ReadUntil,
    session::{PtySession, spawn_command},
};
use serde_json::Value;
use syscord_arch::{Arch, SyscallTable};
use syscord_tests::{
    check_effects, check_race, check_return_addresses, check_sequence, check_sequence_numbers,
    effects_pairs, json_lines, sequence_log, syscalls_by_tid,
};

/// Every wait on the console gives up after this long: TCG is slow, the eBPF verifier more so.
const TIMEOUT_MS: u64 = 600_000;

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

struct Guest {
    arch: Arch,
    session: PtySession,
    commands: u32,
}

impl Guest {
    fn boot(arch: Arch) -> Guest {
        let images = cache_dir().join("images").join(arch.name());
        let kernel = images.join(if arch == Arch::Riscv64 {
            "vmlinux"
        } else {
            "vmlinuz"
        });
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
        cmd.args(machine)
            .args(["-m", "1024", "-smp", "2", "-no-reboot"])
            .args(["-display", "none", "-monitor", "none", "-serial", "stdio"])
            .arg("-kernel")
            .arg(&kernel)
            .arg("-initrd")
            .arg(&initramfs)
            .arg("-append")
            // loglevel=1: only emergency messages (a panic's) reach the console, which carries
            // the test's output too. A kernel message lands inside whatever line the guest is
            // writing: Debian's PREEMPT_RT 7.3 kernel printed its error "irq 4: nobody cared"
            // into the middle of a JSON record. (Its emergency "Disabling IRQ #4" still does.)
            .arg(format!("console={console} panic=-1 quiet loglevel=1"));
        let session = spawn_command(cmd, Some(TIMEOUT_MS))
            .unwrap_or_else(|e| panic!("cannot start {qemu} (ci/setup installs it): {e}"));
        let mut guest = Guest {
            arch,
            session,
            commands: 0,
        };
        let started = Instant::now();
        guest.expect("syscord-guest: ready");
        guest.expect("guest# ");
        eprintln!("{arch}: booted in {:.1} s", started.elapsed().as_secs_f64());
        guest
    }

    /// Waits for `text`, failing at once on a kernel panic.
    fn expect(&mut self, text: &str) -> String {
        let found = self
            .session
            .exp_any(vec![
                ReadUntil::String(text.to_owned()),
                ReadUntil::String("Kernel panic".to_owned()),
            ])
            .unwrap_or_else(|e| panic!("{}: waiting for {text:?}: {e}", self.arch));
        assert!(
            !found.1.contains("Kernel panic"),
            "{}: kernel panic: {}",
            self.arch,
            found.0
        );
        found.0
    }

    /// Runs a shell command in the guest; returns its output and exit status.
    fn run(&mut self, command: &str) -> (String, i32) {
        self.commands += 1;
        let n = self.commands;
        self.session
            .send_line(&format!("{command}; echo \"@@done-{n} rc=$?\""))
            .expect("write to the guest console");
        // The echoed command line shows the marker with `$?` unexpanded: only the real one has
        // a number. The space after it matters: the console may deliver "rc=10" before the
        // "1" of "rc=101" (seen once in the riscv64 guest).
        let regex = format!(r"@@done-{n} rc=(\d+)\s");
        let (output, marker) = self
            .session
            .exp_any(vec![
                ReadUntil::Regex(regex::Regex::new(&regex).expect("marker regex")),
                ReadUntil::String("Kernel panic".to_owned()),
            ])
            .unwrap_or_else(|e| panic!("{}: running {command:?}: {e}", self.arch));
        assert!(
            !marker.contains("Kernel panic"),
            "{}: kernel panic: {output}",
            self.arch
        );
        let rc = marker
            .rsplit('=')
            .next()
            .and_then(|s| s.trim().parse().ok())
            .expect("exit status");
        self.expect("guest# ");
        // Drop the echo of the command itself (it may wrap over several lines).
        let output = output
            .split_once(&format!("echo \"@@done-{n}"))
            .map_or(output.as_str(), |(_, rest)| {
                rest.split_once('\n').map_or("", |(_, after)| after)
            })
            .replace('\r', "");
        (output, rc)
    }

    /// Runs `command` and expects it to succeed.
    fn ok(&mut self, command: &str) -> String {
        let (output, rc) = self.run(command);
        assert_eq!(rc, 0, "{}: {command} failed:\n{output}", self.arch);
        output
    }

    fn dump_json(&mut self, file: &str) -> Vec<Value> {
        json_lines(&self.ok(&format!("syscord dump --format json {file}")))
    }

    fn shutdown(mut self) {
        let _ = self.session.send_line("poweroff -f");
        let _ = self.session.exp_eof();
    }
}

/// Everything checked inside one guest of `arch`.
fn guest_records_right(arch: Arch) {
    let table = SyscallTable::of(arch);
    let mut guest = Guest::boot(arch);

    // The guest's own syscord knows its architecture.
    let handlers = json_lines(&guest.ok("syscord handlers --format json"));
    assert_eq!(handlers.len(), table.len());
    let openat = handlers.iter().find(|h| h["syscall"] == "openat").unwrap();
    assert_eq!(
        openat["nr"],
        if arch == Arch::X86_64 { 257 } else { 56 },
        "{arch}"
    );

    // A known sequence in three threads: names, numbers, arguments (the first one too, which
    // arm64 and riscv64 keep in orig_x0 / orig_a0), return values, return addresses.
    let record = guest.ok("syscord record -o /tmp/seq.rec -- sc-sequence > /tmp/seq.out");
    assert!(record.contains(" 0 lost"), "{arch}: {record}");
    // A sequence gap the kernel did not count, or an anomaly, is a warning: never silent.
    assert!(!record.contains("warning"), "{arch}: {record}");
    let log = sequence_log(&guest.ok("cat /tmp/seq.out"));
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

    // Captured memory equals what the program saw: read, pread64, readv content, structs,
    // random bytes, pipe descriptors, socket addresses, timespec, getcwd.
    guest.ok("syscord record -o /tmp/eff.rec -- sc-effects /tmp > /tmp/eff.out");
    let effects = guest.ok("cat /tmp/eff.out");
    let effect_records = guest.dump_json("/tmp/eff.rec");
    let pairs = effects_pairs(&effects, &effect_records);
    assert_eq!(check_effects(&pairs, 256, false), 12, "{arch}");

    // The thesis's case study: the read that returned the 25-byte string, with its content.
    let (output, rc) = guest.run("syscord record -o /tmp/race.rec -- sc-race");
    assert_eq!(
        rc, 101,
        "{arch}: sc-race should fail its assertion:\n{output}"
    );
    let read = check_race(&guest.dump_json("/tmp/race.rec"));
    assert_ne!(read["tid"], read["pid"], "{arch}: the reading thread");

    // A filter decided in this kernel: the exact path of the child's executable, walked
    // from its dentry across the tmpfs mount, selects the child and its thread from their
    // execve on, and nothing of the parent.
    guest.ok("cp /bin/sc-family /tmp/sc-child");
    let record = guest.ok(
        "syscord record -o /tmp/fam.rec --filter 'exe == \"/tmp/sc-child\"' -- sc-family 300 /tmp/sc-child > /tmp/fam.out",
    );
    assert!(record.contains(" 0 lost"), "{arch}: {record}");
    let family: BTreeMap<String, u64> = json_lines(&guest.ok("cat /tmp/fam.out"))
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
        "{arch}: threads recorded with the exe filter, of {family:?}"
    );
    assert_eq!(by_tid[&family["child"]][0]["syscall"], "execve", "{arch}");

    // Each CPU's records go to that CPU's ring: a process pinned to a CPU is recorded as
    // on it (riscv64's bpf_get_smp_processor_id answered 0 on CPU 1 too, so both CPUs once
    // wrote one ring).
    for cpu in 0..2u64 {
        let mask = 1 << cpu;
        guest.ok(&format!(
            "taskset {mask} syscord record -o /tmp/pin.rec -- taskset {mask} sc-loop getppid 2000"
        ));
        let pinned = guest.dump_json("/tmp/pin.rec");
        let getppid: Vec<&Value> = pinned
            .iter()
            .filter(|r| r["syscall"] == "getppid")
            .collect();
        assert_eq!(getppid.len(), 2000, "{arch}");
        assert!(
            getppid.iter().all(|r| r["cpu"] == cpu),
            "{arch}: a process pinned to CPU {cpu} recorded on another"
        );
    }

    // Both CPUs producing at full speed while the drain consumes: every sequence number is
    // a record or a counted loss, and nothing is out of place. (Small: the records cross
    // the serial console as JSON.)
    let storm =
        guest.ok("syscord record -o /tmp/storm.rec -- sc-loop getppid-pair 5000 > /dev/null");
    assert!(!storm.contains("warning"), "{arch}: {storm}");
    let stormed = guest.dump_json("/tmp/storm.rec");
    let lost = check_sequence_numbers(&stormed);
    assert!(
        storm.contains(&format!(" {lost} lost")),
        "{arch}: the kernel's count and the file's gaps ({lost}) differ: {storm}"
    );
    let getppid = stormed.iter().filter(|r| r["syscall"] == "getppid").count() as u64;
    // Every call is in the file, or among the counted losses.
    assert!(
        getppid <= 10_000 && getppid + lost >= 10_000,
        "{arch}: {getppid} of 10000 getppid calls, {lost} lost"
    );

    // The file recorded here decodes on this machine, by the recording's architecture.
    let encoded: String = guest
        .ok("base64 /tmp/seq.rec")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64 of the recording");
    let scratch = common::Scratch::new(&format!("guest-{arch}"));
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

    guest.shutdown();
}

#[test]
fn x86_64_guest() {
    guest_records_right(Arch::X86_64);
}

#[test]
fn aarch64_guest() {
    guest_records_right(Arch::Aarch64);
}

#[test]
fn riscv64_guest() {
    guest_records_right(Arch::Riscv64);
}
