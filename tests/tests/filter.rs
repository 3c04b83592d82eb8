//! Filters and attach modes on the real kernel: which threads and which syscalls a recording
//! holds, for families of test processes (tests/programs/family.rs) whose attributes are
//! known.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Mutex, MutexGuard,
        mpsc::{Receiver, channel},
    },
    time::{Duration, Instant},
};

use common::{Recording, Scratch, program, record, syscord};
use serde_json::Value;

/// The tests record system-wide and start processes with the same names: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The ids a member of a family printed.
#[derive(Debug, Clone, Copy)]
struct Member {
    pid: u64,
    tid: u64,
}

/// A running sc-family: main process, its thread, and a child process (a copy of the program
/// named sc-child) with its own thread.
struct Family {
    process: Child,
    lines: Receiver<String>,
    members: BTreeMap<String, Member>,
}

const ROLES: [&str; 4] = ["main", "thread", "child", "child-thread"];

impl Family {
    /// Starts a family that lives `ms` milliseconds; with `uid`, the child runs as that uid
    /// and gid.
    fn start(scratch: &Scratch, ms: u64, uid: Option<u32>) -> Family {
        let copy = scratch.path("sc-child");
        if !copy.exists() {
            std::fs::copy(program("sc-family"), &copy).expect("copy sc-family to sc-child");
        }
        let mut command = Command::new(program("sc-family"));
        if let Some(uid) = uid {
            command.args(["--uid", &uid.to_string()]);
        }
        let mut process = command
            .arg(ms.to_string())
            .arg(&copy)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start sc-family");
        let stdout = process.stdout.take().unwrap();
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut family = Family {
            process,
            lines,
            members: BTreeMap::new(),
        };
        for role in ROLES {
            family.wait_for(role);
        }
        family
    }

    /// The member in `role`, waiting for it to announce itself.
    fn wait_for(&mut self, role: &str) -> Member {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.members.contains_key(role) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("sc-family's {role} did not start"));
            let v: Value = serde_json::from_str(&line).expect("sc-family prints JSON");
            self.members.insert(
                v["role"].as_str().unwrap().to_owned(),
                Member {
                    pid: v["pid"].as_u64().unwrap(),
                    tid: v["tid"].as_u64().unwrap(),
                },
            );
        }
        self.members[role]
    }

    fn member(&self, role: &str) -> Member {
        self.members[role]
    }

    /// The role of thread `tid`, if it is one of the family's.
    fn role_of(&self, tid: u64) -> Option<&str> {
        self.members
            .iter()
            .find(|(_, m)| m.tid == tid)
            .map(|(r, _)| r.as_str())
    }

    fn pids(&self) -> BTreeSet<u64> {
        self.members.values().map(|m| m.pid).collect()
    }

    /// Asks the main process to fork its "late" child.
    fn fork_late_child(&mut self) -> Member {
        signal(self.member("main").pid, libc::SIGUSR1);
        self.wait_for("late")
    }
}

impl Drop for Family {
    fn drop(&mut self) {
        // The others see their parent go and stop.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn signal(pid: u64, signal: i32) {
    // SAFETY: kill has no memory effects.
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0, "kill {pid}");
}

/// A `syscord record` running in the background, until a signal ends it.
struct Background {
    process: Child,
    file: PathBuf,
    stderr: Receiver<String>,
    seen: Vec<String>,
}

impl Background {
    /// Starts `syscord record -o <name>.rec ARGS...` and waits until it says it records.
    fn start(scratch: &Scratch, name: &str, args: &[&str]) -> Background {
        let file = scratch.path(&format!("{name}.rec"));
        let mut process = Command::new(syscord())
            .arg("record")
            .arg("-o")
            .arg(&file)
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start syscord record");
        let stderr = process.stderr.take().unwrap();
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut background = Background {
            process,
            file,
            stderr: lines,
            seen: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match background.stderr.recv_timeout(left) {
                Ok(line) => {
                    let ready = line.contains("ends the recording") || line.contains("ends it");
                    background.seen.push(line);
                    if ready {
                        break;
                    }
                }
                Err(_) => panic!(
                    "syscord record {args:?} did not start: {}",
                    background.seen.join("\n")
                ),
            }
        }
        background
    }

    /// Ends the recording with `signal` and waits for the file.
    fn stop(mut self, signal_number: i32) -> Recording {
        signal(u64::from(self.process.id()), signal_number);
        let status = self.process.wait().expect("wait for syscord record");
        let mut stderr = std::mem::take(&mut self.seen);
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(5)) {
            stderr.push(line);
        }
        let mut stderr = stderr.join("\n");
        stderr.push('\n');
        assert!(status.success(), "syscord record failed: {stderr}");
        Recording {
            file: self.file.clone(),
            output: std::process::Output {
                status,
                stdout: Vec::new(),
                stderr: stderr.into_bytes(),
            },
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Records the whole system under `filter` for a while.
fn record_all(scratch: &Scratch, name: &str, filter: &str) -> Recording {
    let background = Background::start(scratch, name, &["-a", "--filter", filter]);
    std::thread::sleep(Duration::from_millis(300));
    background.stop(libc::SIGINT)
}

/// The syscall records of a recording.
fn syscalls(recording: &Recording) -> Vec<Value> {
    let records = recording.records();
    assert_eq!(recording.lost(), 0, "{}", recording.stderr());
    records
        .into_iter()
        .filter(|r| r.get("syscall").is_some())
        .collect()
}

/// Which of the family's roles have syscalls in `records`; panics on a record of any other
/// process.
fn roles_recorded(family: &Family, records: &[Value], filter: &str) -> BTreeSet<String> {
    let mut roles = BTreeSet::new();
    for r in records {
        let tid = r["tid"].as_u64().unwrap();
        match family.role_of(tid) {
            Some(role) => {
                roles.insert(role.to_owned());
            }
            None => panic!(
                "with {filter}, a record of a thread not in {:?}: {r}",
                family.members
            ),
        }
    }
    roles
}

fn set(roles: &[&str]) -> BTreeSet<String> {
    roles.iter().map(|r| (*r).to_owned()).collect()
}

/// The cgroup2 mount and a new cgroup in it, removed when dropped.
struct TestCgroup {
    dir: PathBuf,
    /// Its path as the filter names it, relative to the cgroup2 root.
    name: String,
}

impl TestCgroup {
    fn new() -> TestCgroup {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let root = mountinfo
            .lines()
            .find_map(|l| {
                let (left, right) = l.split_once(" - ")?;
                (right.split(' ').next()? == "cgroup2").then(|| left.split(' ').nth(4).unwrap())
            })
            .expect("this machine mounts cgroup2 (the cgroup filter needs it)");
        let name = format!("/syscord-test-{}-cg", std::process::id());
        let dir = PathBuf::from(format!("{root}{name}"));
        std::fs::create_dir(&dir).expect("create a test cgroup");
        TestCgroup { dir, name }
    }

    fn enter(&self, pid: u64) {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string())
            .expect("move a process into the test cgroup");
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // A cgroup is removed once its processes are gone: they stop within milliseconds
        // of the family's main process.
        for _ in 0..100 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn each_process_field_selects_exactly_its_threads() {
    let _serial = serial();
    let scratch = Scratch::new("filter-fields");
    // Declared first, dropped last: after the family has gone.
    let cgroup = TestCgroup::new();
    let family = Family::start(&scratch, 60_000, Some(65534));
    cgroup.enter(family.member("child").pid);
    let main = family.member("main");
    let thread = family.member("thread");
    let child = family.member("child");
    let cases: Vec<(String, &[&str])> = vec![
        (format!("pid == {}", main.pid), &["main", "thread"]),
        (format!("tid == {}", thread.tid), &["thread"]),
        ("comm == \"sc-child\"".into(), &["child", "child-thread"]),
        ("comm == \"sc-fam*\"".into(), &["main", "thread"]),
        (format!("ppid == {}", main.pid), &["child", "child-thread"]),
        ("pcomm == \"sc-family\"".into(), &["child", "child-thread"]),
        ("uid == 65534".into(), &["child", "child-thread"]),
        ("gid == 65534".into(), &["child", "child-thread"]),
        ("exe == \"*/sc-child\"".into(), &["child", "child-thread"]),
        (
            format!("exe == \"{}\"", program("sc-family")),
            &["main", "thread"],
        ),
        (
            format!("cgroup == \"{}\"", cgroup.name),
            &["child", "child-thread"],
        ),
        (
            format!("cgroup == \"/syscord-test-{}-*\"", std::process::id()),
            &["child", "child-thread"],
        ),
        (
            format!(
                "pid in {{{}, {}}} && tid > {}",
                main.pid, child.pid, main.tid
            ),
            // Thread ids grow as threads start: main, thread, child, child-thread.
            &["thread", "child", "child-thread"],
        ),
    ];
    for (i, (filter, expected)) in cases.iter().enumerate() {
        let recording = record_all(&scratch, &format!("field-{i}"), filter);
        let records = syscalls(&recording);
        assert_eq!(
            roles_recorded(&family, &records, filter),
            set(expected),
            "with --filter '{filter}'"
        );
    }
}

#[test]
fn boolean_combinations_follow_their_truth_table() {
    let _serial = serial();
    let scratch = Scratch::new("filter-truth");
    let family = Family::start(&scratch, 60_000, None);
    let main = family.member("main");
    let child = family.member("child");
    // Two conditions, and one thread for each of their four combinations:
    // A: the family's own program (main, thread); B: a second thread (thread, child-thread).
    let a = "comm == \"sc-family\"";
    let b = format!(
        "tid in {{{}, {}}}",
        family.member("thread").tid,
        family.member("child-thread").tid
    );
    let row = |role: &str| (role == "main" || role == "thread", role.ends_with("thread"));
    type Truth = fn(bool, bool) -> bool;
    let expressions: [(String, Truth); 8] = [
        (format!("{a} && {b}"), |a, b| a && b),
        (format!("{a} || {b}"), |a, b| a || b),
        (format!("!({a})"), |a, _| !a),
        (format!("{a} && !({b})"), |a, b| a && !b),
        (format!("!({a} || {b})"), |a, b| !(a || b)),
        (format!("!({a}) || {b}"), |a, b| !a || b),
        // && binds tighter than ||: exclusive or.
        (format!("{a} && !({b}) || !({a}) && {b}"), |a, b| a != b),
        (format!("({a} || {b}) && !({a} && {b})"), |a, b| a != b),
    ];
    let family_only = format!("pid in {{{}, {}}}", main.pid, child.pid);
    for (i, (expression, truth)) in expressions.iter().enumerate() {
        let filter = format!("{family_only} && ({expression})");
        let recording = record_all(&scratch, &format!("truth-{i}"), &filter);
        let expected: BTreeSet<String> = ROLES
            .iter()
            .filter(|r| {
                let (a, b) = row(r);
                truth(a, b)
            })
            .map(|r| (*r).to_owned())
            .collect();
        assert_eq!(
            roles_recorded(&family, &syscalls(&recording), &filter),
            expected,
            "with --filter '{filter}'"
        );
    }

    // Syscall conditions, alone and mixed with process conditions. Every thread calls
    // getppid (succeeds, RS) and close(-1) (fails with EBADF, WS) in its loop.
    type Check = fn(&str, &Value) -> bool;
    let syscall_cases: [(String, Check); 6] = [
        ("syscall == getppid".into(), |_, r| {
            r["syscall"] == "getppid"
        }),
        ("syscall in {getppid, close}".into(), |_, r| {
            r["syscall"] == "getppid" || r["syscall"] == "close"
        }),
        ("failed".into(), |_, r| r["ret"].as_i64().unwrap() < 0),
        ("!failed && syscall in {getppid, close}".into(), |_, r| {
            r["syscall"] == "getppid"
        }),
        ("class == WS".into(), |_, r| r["syscall"] == "close"),
        (
            format!("{a} && syscall == getppid || !({a}) && failed"),
            |role, r| {
                if role == "main" || role == "thread" {
                    r["syscall"] == "getppid"
                } else {
                    r["ret"].as_i64().unwrap() < 0
                }
            },
        ),
    ];
    for (i, (condition, check)) in syscall_cases.iter().enumerate() {
        let filter = format!("{family_only} && ({condition})");
        let recording = record_all(&scratch, &format!("syscall-{i}"), &filter);
        let records = syscalls(&recording);
        // Every thread made calls that pass: each is in the recording, with only those.
        assert_eq!(
            roles_recorded(&family, &records, &filter),
            set(&ROLES),
            "with --filter '{filter}'"
        );
        for r in &records {
            let role = family.role_of(r["tid"].as_u64().unwrap()).unwrap();
            assert!(
                check(role, r),
                "with --filter '{filter}', {role} recorded {r}"
            );
        }
    }
}

#[test]
fn a_process_started_later_is_recorded_from_its_exec_when_its_name_matches() {
    let _serial = serial();
    let scratch = Scratch::new("filter-later");
    let background = Background::start(&scratch, "later", &["-a", "--comm", "sc-child"]);
    let family = Family::start(&scratch, 60_000, None);
    std::thread::sleep(Duration::from_millis(100));
    let recording = background.stop(libc::SIGTERM);
    let records = syscalls(&recording);
    assert_eq!(
        roles_recorded(&family, &records, "comm == sc-child"),
        set(&["child", "child-thread"])
    );
    // The child's first recorded syscall is the execve that gave it its name; what follows
    // is its start-up, up to the write of its announcement.
    let child = family.member("child");
    let own: Vec<&Value> = records
        .iter()
        .filter(|r| r["tid"].as_u64() == Some(child.tid))
        .collect();
    assert_eq!(own[0]["syscall"], "execve", "first: {}", own[0]);
    assert_eq!(own[0]["ret"], 0);
    assert!(
        own.iter().any(|r| r["syscall"] == "write"),
        "the child's announcement is missing"
    );
}

#[test]
fn a_command_filtered_by_name_records_only_its_matching_descendant() {
    let _serial = serial();
    let scratch = Scratch::new("filter-command");
    let copy = scratch.path("sc-child");
    std::fs::copy(program("sc-family"), &copy).unwrap();
    let recording = record(
        &scratch,
        "command",
        &["--filter", "comm == \"sc-child\""],
        &[&program("sc-family"), "200", copy.to_str().unwrap()],
    );
    assert!(recording.output.status.success(), "{}", recording.stderr());
    let log: BTreeMap<String, u64> = recording
        .stdout()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            (
                v["role"].as_str().unwrap().to_owned(),
                v["tid"].as_u64().unwrap(),
            )
        })
        .collect();
    let by_tid = recording.syscalls_by_tid();
    let tids: BTreeSet<u64> = by_tid.keys().copied().collect();
    assert_eq!(tids, BTreeSet::from([log["child"], log["child-thread"]]));
    assert_eq!(by_tid[&log["child"]][0]["syscall"], "execve");
}

#[test]
fn attaching_to_a_running_process_records_its_threads_and_not_its_children() {
    let _serial = serial();
    let scratch = Scratch::new("filter-attach");
    let mut family = Family::start(&scratch, 60_000, None);
    let main = family.member("main");
    let background = Background::start(&scratch, "attach", &["-p", &main.pid.to_string()]);
    family.fork_late_child();
    std::thread::sleep(Duration::from_millis(200));
    // SIGTERM, as a service manager would send, ends it with a complete file.
    let recording = background.stop(libc::SIGTERM);
    assert!(
        recording.stderr().contains("recording 2 threads"),
        "{}",
        recording.stderr()
    );
    let records = syscalls(&recording);
    assert_eq!(
        roles_recorded(&family, &records, "-p"),
        set(&["main", "thread"])
    );
    // Both threads' loops are there: getppid and the failing close.
    for role in ["main", "thread"] {
        let tid = family.member(role).tid;
        for call in ["getppid", "close"] {
            assert!(
                records
                    .iter()
                    .any(|r| r["tid"].as_u64() == Some(tid) && r["syscall"] == call),
                "no {call} of the {role}"
            );
        }
    }
    // Its fork of the late child is in the recording, the child's calls are not.
    let late = family.member("late");
    assert!(
        records
            .iter()
            .any(|r| r["syscall"] == "clone" && r["ret"].as_u64() == Some(late.pid))
            || records
                .iter()
                .any(|r| r["syscall"] == "clone3" && r["ret"].as_u64() == Some(late.pid)),
        "the fork of the late child is missing"
    );
}

#[test]
fn attaching_with_f_follows_the_children_forked_afterwards() {
    let _serial = serial();
    let scratch = Scratch::new("filter-attach-f");
    let mut family = Family::start(&scratch, 60_000, None);
    let main = family.member("main");
    // Process start times have a clock tick's precision (10 ms): -f also takes children
    // started in the tick it attaches, rather than miss one forked as it attaches.
    std::thread::sleep(Duration::from_millis(50));
    let background = Background::start(&scratch, "attach-f", &["-p", &main.pid.to_string(), "-f"]);
    let late = family.fork_late_child();
    std::thread::sleep(Duration::from_millis(200));
    let recording = background.stop(libc::SIGINT);
    let records = syscalls(&recording);
    // The child started before the recording is not a future child.
    assert_eq!(
        roles_recorded(&family, &records, "-p -f"),
        set(&["main", "thread", "late"])
    );
    // The late child is recorded from its first instruction: right after the fork, libc
    // re-registers its robust futex list, then the child announces itself, and getpid is
    // called nowhere else.
    let own: Vec<&Value> = records
        .iter()
        .filter(|r| r["tid"].as_u64() == Some(late.tid))
        .collect();
    let names: Vec<&str> = own.iter().map(|r| r["syscall"].as_str().unwrap()).collect();
    let getpid = names
        .iter()
        .position(|&n| n == "getpid")
        .expect("the announcement");
    assert!(
        names[..getpid].iter().all(|&n| n == "set_robust_list"),
        "the late child's first calls: {names:?}"
    );
}

#[test]
fn a_system_wide_recording_holds_only_the_process_its_filter_selects() {
    let _serial = serial();
    let scratch = Scratch::new("filter-system");
    let chosen = Family::start(&scratch, 60_000, None);
    let other = Family::start(&scratch, 60_000, None);
    let main = chosen.member("main");
    let filter = format!("pid == {} || ppid == {}", main.pid, main.pid);
    let recording = record_all(&scratch, "system", &filter);
    let records = syscalls(&recording);
    let pids: BTreeSet<u64> = records.iter().map(|r| r["pid"].as_u64().unwrap()).collect();
    assert_eq!(pids, chosen.pids(), "other processes are in the recording");
    assert!(pids.is_disjoint(&other.pids()));
    assert_eq!(roles_recorded(&chosen, &records, &filter), set(&ROLES));

    // The thesis's shorthands: several together mean AND.
    let background = Background::start(
        &scratch,
        "shorthands",
        &["-a", "--comm", "sc-child", "--ppid", &main.pid.to_string()],
    );
    std::thread::sleep(Duration::from_millis(300));
    let recording = background.stop(libc::SIGINT);
    let records = syscalls(&recording);
    let pids: BTreeSet<u64> = records.iter().map(|r| r["pid"].as_u64().unwrap()).collect();
    assert_eq!(pids, BTreeSet::from([chosen.member("child").pid]));
}

#[test]
fn bad_filters_are_clear_errors_with_their_column() {
    let _serial = serial();
    let scratch = Scratch::new("filter-errors");
    let cases = [
        ("pid ==", "filter: column 7: expected a value after '=='"),
        ("frob == 1", "filter: column 1: unknown field 'frob'"),
        (
            "syscall == frobnicate",
            "filter: column 12: unknown syscall 'frobnicate'",
        ),
        ("(pid == 1", "filter: column 10: expected ')'"),
        ("pid in {1, 2", "filter: column 13: expected ',' or '}'"),
        ("class == XY", "filter: column 10: unknown class 'XY'"),
        (
            "exe == \"cat\"",
            "filter: column 8: an exe pattern is an absolute path",
        ),
    ];
    for (filter, message) in cases {
        let recording = record(&scratch, "bad", &["--filter", filter], &["true"]);
        assert_eq!(recording.output.status.code(), Some(1), "{filter}");
        assert!(
            recording.stderr().contains(message),
            "--filter '{filter}' said: {}",
            recording.stderr()
        );
        assert!(!recording.stderr().contains("panicked"));
    }
    // A syscall that exists on x86_64 but not on aarch64 or riscv64 is unknown there; on
    // this machine the host's table decides, so try a name no architecture has.
    let recording = record(
        &scratch,
        "bad",
        &["--filter", "syscall == open_tree_attr2"],
        &["true"],
    );
    assert!(
        recording.stderr().contains("unknown syscall"),
        "{}",
        recording.stderr()
    );
    // -p with a process that does not exist.
    let out = Command::new(syscord())
        .args(["record", "-o"])
        .arg(scratch.path("none.rec"))
        .args(["-p", "999999999"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no process 999999999"));
}
