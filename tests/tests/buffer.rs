//! The record buffer and the file on the real kernel: nothing lost under a storm, durations,
//! rotation into a bounded set of files, a recorder killed or out of disk space, the live
//! line on a terminal.

mod common;

use std::{
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Command, Stdio},
    sync::Mutex,
    thread,
    time::{Duration, Instant},
};

use common::{Scratch, record, syscord};
use serde_json::Value;
use syscord_tests::{check_sequence_numbers, json_lines};

/// The storm wants the machine to itself, and the timing test a quiet one: these tests run
/// one at a time.
static ALONE: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ALONE.lock().unwrap_or_else(|e| e.into_inner())
}

const LOOP: &str = env!("CARGO_BIN_EXE_sc-loop");

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn stats_json(file: &Path, extra: &[&str]) -> Value {
    let out = Command::new(syscord())
        .args(["stats", "--format", "json"])
        .args(extra)
        .arg(file)
        .output()
        .expect("run syscord stats");
    assert!(
        out.status.success(),
        "stats: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stats JSON")
}

fn calls_of(stats: &Value, syscall: &str) -> u64 {
    stats["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["syscall"] == syscall)
        .map_or(0, |row| row["calls"].as_u64().unwrap())
}

/// Records `program` with default settings and checks that nothing was lost: the kernel
/// counted no loss, the recorder warned of nothing, and every call each thread of the
/// program says it made (lines `getppid|pread TID CALLS`) is in the recording for that
/// thread. Returns the getppid and pread calls made.
fn loses_nothing(name: &str, program: &[&str]) -> (u64, u64) {
    let scratch = Scratch::new(name);
    let rec = record(&scratch, name, &[], program);
    assert!(rec.output.status.success(), "{}", rec.stderr());
    assert_eq!(rec.lost(), 0, "{}", rec.stderr());
    assert!(!rec.stderr().contains("warning"), "{}", rec.stderr());
    // The main thread's calls (the loader's preads) are counted apart.
    let stats = stats_json(&rec.file, &["--threads"]);
    assert_eq!(stats["lost"], 0);
    let threads = stats["threads"].as_array().expect("per-thread statistics");
    let (mut getppid, mut pread) = (0, 0);
    for line in rec.stdout().lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (kind, tid, calls): (&str, u64, u64) = (
            words[0],
            words[1].parse().unwrap(),
            words[2].parse().unwrap(),
        );
        let syscall = match kind {
            "getppid" => {
                getppid += calls;
                "getppid"
            }
            "pread" => {
                pread += calls;
                "pread64"
            }
            other => panic!("unexpected line {other}"),
        };
        let thread = threads
            .iter()
            .find(|t| t["tid"] == tid)
            .unwrap_or_else(|| panic!("thread {tid} is not in the recording"));
        assert_eq!(calls_of(thread, syscall), calls, "{kind} thread {tid}");
    }
    assert_eq!(calls_of(&stats, "getppid"), getppid);
    (getppid, pread)
}

#[test]
fn a_syscall_storm_from_both_cores_loses_nothing() {
    let _alone = alone();
    // Two threads of getppid and two of 4 KiB preads for 10 s.
    let (getppid, pread) = loses_nothing("storm", &[LOOP, "storm", "10"]);
    assert!(
        getppid > 1_000_000 && pread > 100_000,
        "a storm: {getppid} getppid, {pread} pread"
    );
}

#[test]
fn two_threads_of_getppid_at_full_speed_lose_nothing() {
    let _alone = alone();
    let (getppid, _) = loses_nothing("pair", &[LOOP, "getppid-pair", "2000000"]);
    assert_eq!(getppid, 4_000_000);
}

/// The drain's voluntary context switches so far: one per wake-up from a sleep or a wait.
fn drain_wakeups(recorder: u32) -> u64 {
    for task in std::fs::read_dir(format!("/proc/{recorder}/task")).unwrap() {
        let task = task.unwrap().path();
        let comm = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        if comm.trim() == "syscord-drain" {
            let status = std::fs::read_to_string(task.join("status")).unwrap();
            return status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .map(|n| n.trim().parse().unwrap())
                .unwrap();
        }
    }
    panic!("no syscord-drain thread in {recorder}");
}

#[test]
fn an_idle_recording_wakes_the_drain_about_once_a_second() {
    let _alone = alone();
    let scratch = Scratch::new("idle");
    let mut recorder = Command::new(syscord())
        .arg("record")
        .arg("-o")
        .arg(scratch.path("idle.rec"))
        .args(["--", "sleep", "5"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Past the start and the drain's first, shorter sleeps.
    thread::sleep(Duration::from_millis(2000));
    let before = drain_wakeups(recorder.id());
    thread::sleep(Duration::from_millis(2500));
    let woken = drain_wakeups(recorder.id()) - before;
    assert!(recorder.wait().unwrap().success());
    // Polling every 10 to 40 ms, as before the producers' notices, was 60 to 250 times.
    assert!(
        (1..=8).contains(&woken),
        "the idle drain woke {woken} times in 2.5 s"
    );
}

#[test]
fn a_storm_after_an_idle_while_loses_nothing() {
    let _alone = alone();
    // The drain is in its longest idle wait when the calls start: the first ring segment
    // they fill must wake it.
    let (getppid, _) = loses_nothing(
        "idle-then-storm",
        &[LOOP, "getppid-pair", "2000000", "3000"],
    );
    assert_eq!(getppid, 4_000_000);
}

#[test]
fn syscall_times_are_measured_with_t() {
    let _alone = alone();
    let scratch = Scratch::new("times");
    let rec = record(&scratch, "timed", &["-T"], &["sleep", "0.3"]);
    assert!(rec.output.status.success(), "{}", rec.stderr());
    let records = rec.records();
    let syscalls: Vec<&Value> = records
        .iter()
        .filter(|r| r["syscall"].is_string())
        .collect();
    let sleep = syscalls
        .iter()
        .find(|r| r["syscall"] == "clock_nanosleep" || r["syscall"] == "nanosleep")
        .expect("the sleep is recorded");
    let slept = sleep["duration_ns"].as_u64().expect("a duration");
    assert!(
        (300_000_000..3_000_000_000).contains(&slept),
        "sleep 0.3 took {slept} ns"
    );
    // Every call that returned has its time; exit_group never returns.
    for r in &syscalls {
        if r["ret"].is_null() {
            assert!(r.get("duration_ns").is_none(), "{r}");
        } else {
            let ns = r["duration_ns"]
                .as_u64()
                .unwrap_or_else(|| panic!("no duration: {r}"));
            if r != sleep {
                assert!(ns < 300_000_000, "{r}");
            }
        }
    }
    // The text shows it as strace -T does.
    let out = Command::new(syscord())
        .arg("dump")
        .arg(&rec.file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("nanosleep("))
        .expect("sleep line");
    let shown: f64 = line
        .rsplit_once('<')
        .and_then(|(_, t)| t.strip_suffix('>'))
        .unwrap_or_else(|| panic!("no <time> in {line}"))
        .parse()
        .unwrap();
    assert!((shown - slept as f64 / 1e9).abs() < 1e-5, "{line}");

    // Without -T: no durations at all.
    let rec = record(&scratch, "untimed", &[], &["sleep", "0.01"]);
    assert!(
        rec.records().iter().all(|r| r.get("duration_ns").is_none()),
        "durations without -T"
    );
}

#[test]
fn rotation_keeps_the_newest_files_and_dump_reads_them_as_one() {
    let _alone = alone();
    let scratch = Scratch::new("rotation");
    let base = scratch.path("ring.rec");
    // Stale parts of an earlier recording at the same name are not taken for this one's.
    std::fs::write(scratch.path("ring.rec.000009"), b"stale").unwrap();
    // getrandom's 256 random bytes do not compress: about 270 bytes a record, so 40,000
    // calls fill four or five 2 MiB parts.
    let out = Command::new(syscord())
        .arg("record")
        .arg("-o")
        .arg(&base)
        .args([
            "--max-size",
            "2M",
            "--keep",
            "2",
            "--",
            LOOP,
            "getrandom",
            "40000",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let mut parts: Vec<String> = std::fs::read_dir(scratch.path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    parts.sort();
    assert_eq!(parts.len(), 2, "{parts:?}");
    let last: u64 = parts[1].rsplit_once('.').unwrap().1.parse().unwrap();
    assert!(last >= 4, "{parts:?}");
    assert_eq!(parts[0], format!("ring.rec.{:06}", last - 1));
    for part in &parts {
        let path = scratch.path(part);
        assert_eq!(mode(&path), 0o600, "{part}");
        // Each part is about --max-size, at most one compressed chunk more.
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size <= (2 << 20) + (1 << 20) + 4096, "{part}: {size}");
    }
    assert!(
        stderr.contains(&format!("(2 files {:06} to {last:06}", last - 1))
            && stderr.contains(&format!("{} older removed by --keep", last - 2)),
        "{stderr}"
    );

    // dump reads the kept parts in order as one recording.
    let dump = Command::new(syscord())
        .args(["dump", "--format", "json"])
        .arg(&base)
        .output()
        .unwrap();
    let dump_err = String::from_utf8_lossy(&dump.stderr);
    assert!(dump.status.success(), "{dump_err}");
    assert!(
        dump_err.contains(&format!(
            "parts 1 to {} were removed by --keep: the recording starts at part {}",
            last - 2,
            last - 1
        )),
        "{dump_err}"
    );
    let records = json_lines(&String::from_utf8_lossy(&dump.stdout));
    // Per CPU the sequence numbers run on without a gap across the two parts (they start
    // where the removed parts ended, so not at 1).
    let mut last_seq: std::collections::BTreeMap<u64, u64> = Default::default();
    for r in &records {
        let (Some(cpu), Some(seq)) = (r["cpu"].as_u64(), r["seq"].as_u64()) else {
            continue;
        };
        if let Some(previous) = last_seq.insert(cpu, seq) {
            assert_eq!(seq, previous + 1, "gap on CPU {cpu}: {r}");
        }
    }
    let times: Vec<u64> = records.iter().filter_map(|r| r["ts_ns"].as_u64()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
    // The recording ends where the program did.
    assert!(
        records
            .iter()
            .any(|r| r["syscall"] == "exit_group" && r["comm"] == "sc-loop"),
        "exit_group in the last part"
    );
    let getrandom = records
        .iter()
        .filter(|r| r["syscall"] == "getrandom")
        .count();
    // At least the older kept part's worth (2 MiB of ~300-byte records), never all 40,000.
    assert!((6_000..40_000).contains(&getrandom), "{getrandom}");
}

#[test]
fn a_killed_recorder_leaves_a_readable_file() {
    let _alone = alone();
    let scratch = Scratch::new("sigkill");
    let file = scratch.path("killed.rec");
    // A slow trickle: one sleep a loop turn, so records reach the file by the periodic
    // flush rather than by a full chunk.
    let mut recorder = Command::new(syscord())
        .arg("record")
        .arg("-o")
        .arg(&file)
        .args(["--", "sh", "-c", "while :; do sleep 0.1; done"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_millis(3000));
    recorder.kill().unwrap();
    recorder.wait().unwrap();
    // The recorded shell is left behind by the SIGKILL: end it.
    let _ = Command::new("pkill")
        .args(["-f", "while :; do sleep 0.1; done"])
        .status();
    assert_eq!(mode(&file), 0o600);
    let out = Command::new(syscord())
        .args(["dump", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("its tail is missing"), "{stderr}");
    let records = json_lines(&String::from_utf8_lossy(&out.stdout));
    let sleeps = records
        .iter()
        .filter(|r| r["syscall"] == "execve" && r["comm"] == "sleep")
        .count();
    // Up to 30 sleeps ran (fewer on a busy machine); those before the last flush, a second
    // or so before the kill, are in the file.
    assert!(sleeps >= 3, "{sleeps} sleeps in the file");
    assert_eq!(check_sequence_numbers(&records), 0);
}

/// A tmpfs of 1 MiB, unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn new(dir: std::path::PathBuf) -> SmallDisk {
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "mount a small tmpfs");
        SmallDisk(dir)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_a_clear_error_and_keeps_what_was_written() {
    let _alone = alone();
    let scratch = Scratch::new("full-disk");
    let disk = SmallDisk::new(scratch.path("disk"));
    let file = disk.0.join("full.rec");
    let started = Instant::now();
    let out = Command::new(syscord())
        .arg("record")
        .arg("-o")
        .arg(&file)
        .args(["--", LOOP, "getrandom", "100000"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Said when it happens, and again at the end.
    let first = stderr.lines().next().unwrap();
    assert!(
        first.contains("No space left on device") && first.contains("the recording stops here"),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .contains("No space left on device"),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    // What was written is a readable recording whose tail is missing.
    let dump = Command::new(syscord())
        .args(["dump", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let dump_err = String::from_utf8_lossy(&dump.stderr);
    assert!(dump.status.success(), "{dump_err}");
    assert!(dump_err.contains("its tail is missing"), "{dump_err}");
    let records = json_lines(&String::from_utf8_lossy(&dump.stdout));
    let getrandom = records
        .iter()
        .filter(|r| r["syscall"] == "getrandom")
        .count();
    assert!(getrandom > 1000, "{getrandom} getrandom records kept");
}

#[test]
fn the_live_line_counts_on_a_terminal() {
    let _alone = alone();
    let scratch = Scratch::new("live");
    let file = scratch.path("live.rec");
    let command = format!(
        "{} record -o {} -- sh -c 'sleep 1.5; echo done'",
        syscord().display(),
        file.display()
    );
    // rexpect runs it on a pseudo-terminal, where the live line shows.
    let mut session = rexpect::spawn(&command, Some(20_000)).expect("spawn under a pty");
    let (_, live) = session
        .exp_regex(r"syscord: \d+ syscalls, [0-9.]+ [kMG]?B written, 0 lost")
        .expect("the live line");
    assert!(live.starts_with("syscord:"), "{live}");
    session.exp_string("done").expect("the command's output");
    let (_, end) = session
        .exp_regex(r"syscalls recorded to [^\n]+, 0 lost")
        .expect("the summary line");
    assert!(end.contains("live.rec"), "{end}");
    session.exp_eof().expect("syscord exits");
}

#[test]
fn without_a_terminal_there_is_no_live_line() {
    let _alone = alone();
    let scratch = Scratch::new("not-live");
    let rec = record(&scratch, "quiet", &[], &["sleep", "0.6"]);
    assert!(rec.output.status.success());
    let stderr = rec.stderr();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains('\r'), "{stderr:?}");
}

/// Runs `syscord dump --format json FILE` into /dev/null; returns its peak RSS in bytes.
// The child is reaped by wait4, which also gives its resource usage; Child::wait cannot.
#[allow(clippy::zombie_processes)]
fn dump_peak_rss(file: &Path) -> u64 {
    let child = Command::new(syscord())
        .args(["dump", "--format", "json"])
        .arg(file)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, with valid pointers.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    usage.ru_maxrss as u64 * 1024
}

#[test]
fn dump_streams_large_files_in_flat_memory() {
    let _alone = alone();
    let scratch = Scratch::new("flat");
    // Random bytes do not compress: 200,000 getrandom records make a file of about 53 MB,
    // 440,000 one of about 115 MB (400,000 made 104.8 MB, within 0.1% of the mark).
    let medium = record(&scratch, "medium", &[], &[LOOP, "getrandom", "200000"]);
    let large = record(&scratch, "large", &[], &[LOOP, "getrandom", "440000"]);
    assert!(medium.output.status.success() && large.output.status.success());
    let size = |rec: &common::Recording| std::fs::metadata(&rec.file).unwrap().len();
    let (medium_size, large_size) = (size(&medium), size(&large));
    assert!(large_size > 100 << 20, "{large_size} bytes");
    let (medium_rss, large_rss) = (dump_peak_rss(&medium.file), dump_peak_rss(&large.file));
    // One chunk in memory at a time: twice the file, not more memory (a reader that kept
    // the 200,000 records more would need about 140 MB more). What dump holds besides is its reorder window,
    // 100 ms of records: as many as the recording made in 100 ms, so it follows how fast
    // the machine ran while recording, not the file's size (files of 400,000 records
    // dumped at 48 to 60 MB, their recordings taking 870 to 650 ms).
    assert!(
        large_rss < medium_rss + (32 << 20),
        "dump of {large_size} bytes peaked at {large_rss} bytes of memory, of {medium_size} bytes at {medium_rss}"
    );
}
