//! `syscord record`: choose what to record (a command it starts, running processes, or
//! every task), load the probes, drain the rings into the file until the end.

use std::{
    fs::OpenOptions,
    io::{IsTerminal, Write},
    os::unix::fs::OpenOptionsExt,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI32, Ordering},
        mpsc::{self, Sender},
    },
    thread,
    time::Duration,
};

use nix::{
    sys::{
        signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction},
        time::TimeSpec,
    },
    time::{ClockId, clock_gettime},
};
use syscord_arch::Arch;
use syscord_common::task_state;
use syscord_handlers::{Policy, Registry};
use syscord_recording::{
    format::{Header, Summary},
    parts::part_path,
};

use crate::{
    drain::{Drain, DrainProgress},
    error::{Error, Result},
    filter::{
        self, Compiled, Expr,
        procfs::{self, Cgroup2},
    },
    output::{Output, OutputThread, Rotation, ThreadName, Written},
    preflight,
    probes::{ProbeOptions, Probes, Selection, possible_cpus},
    spawn::{Paused, wait_exit_code},
};

/// What to record.
#[derive(Debug, Clone)]
pub enum Target {
    /// A command syscord starts, and its descendants.
    Command(Vec<String>),
    /// Running processes (all their threads); with `children`, their future children too.
    Processes { pids: Vec<u32>, children: bool },
    /// Every task, with the filter deciding.
    Everything,
}

#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub output: PathBuf,
    pub target: Target,
    /// The filter, and its text for the file's header.
    pub filter: Option<(Expr, String)>,
    pub probes: ProbeOptions,
    /// What to capture beyond the registers.
    pub policy: Policy,
    /// `--max-size` and `--keep`: a ring of files instead of one.
    pub rotation: Option<Rotation>,
    /// How long the drain sleeps when it finds the ring buffer empty.
    pub idle_sleep: Duration,
}

/// What a finished recording reports.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub exit_code: i32,
    pub summary: Summary,
    pub written: Written,
}

/// The drain thread's nice value (the highest priority short of real time).
const DRAIN_NICE: libc::c_int = -20;

fn now_ns(clock: ClockId) -> Result<u64> {
    let t: TimeSpec = clock_gettime(clock).map_err(std::io::Error::from)?;
    Ok(t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
}

/// The child being recorded, for the signal handler.
static CHILD: AtomicI32 = AtomicI32::new(0);
/// Set by SIGINT / SIGTERM / SIGHUP when syscord itself should stop.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // With a command: a signal from the terminal (Ctrl-C) reached the child's process group
    // too; one sent to syscord alone (kill, a service manager) is passed on, so the child
    // ends and the recording finishes after it. Without one: stop recording.
    // SAFETY: the kernel hands a valid siginfo to SA_SIGINFO handlers; kill and atomics are
    // async-signal-safe.
    unsafe {
        let child = CHILD.load(Ordering::Relaxed);
        if child > 0 {
            let from_process =
                (*info).si_code == libc::SI_USER || (*info).si_code == libc::SI_QUEUE;
            if from_process {
                libc::kill(child, signal);
            }
        } else {
            STOP.store(true, Ordering::Relaxed);
        }
    }
}

fn install_signal_handlers() -> Result<()> {
    let action = SigAction::new(
        SigHandler::SigAction(on_signal),
        SaFlags::SA_SIGINFO | SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        // SAFETY: the handler only calls async-signal-safe functions.
        unsafe { sigaction(signal, &action) }.map_err(std::io::Error::from)?;
    }
    Ok(())
}

/// Whether process `pid` still runs (a zombie counts as gone).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(") ")
                .and_then(|(_, rest)| rest.chars().next())
        })
        .is_some_and(|state| state != 'Z' && state != 'X')
}

/// Marks the threads running now that the target selects, with their state under the
/// filter; `attached_ticks` is when the probes were attached (see procfs::boot_ticks).
/// Returns how many of them are recorded.
fn mark_running(
    probes: &mut Probes,
    target: &Target,
    filter: &Compiled,
    attached_ticks: u64,
    names: &Sender<Vec<ThreadName>>,
) -> usize {
    let cgroups = Cgroup2::find();
    let me = std::process::id();
    let mut marked = 0;
    let mut mark_process = |probes: &mut Probes, pid: u32| {
        let threads: Vec<_> = procfs::threads_of(pid)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|tid| procfs::read_thread(pid, tid, cgroups.as_ref()))
            .map(|info| {
                let (state, exe_bits) = procfs::evaluate(filter, &info);
                (info, state, exe_bits)
            })
            .collect();
        // The names reach the drain before the first record of these threads can: the
        // recording carries names only where they change.
        let _ = names.send(
            threads
                .iter()
                .filter(|(_, state, _)| *state >= task_state::ALL)
                .map(|(info, _, _)| (info.pid, info.tid, info.comm.clone()))
                .collect(),
        );
        for (info, state, exe_bits) in threads {
            if probes.mark(info.tid, state, exe_bits) && state >= task_state::ALL {
                marked += 1;
            }
        }
    };
    match target {
        Target::Command(_) => {}
        Target::Processes { pids, children } => {
            for &pid in pids {
                mark_process(probes, pid);
            }
            if *children {
                // Children forked after the probes were attached but before their parent
                // was marked were not followed by the kernel: take them now, and theirs.
                // Children started earlier are not the future children -f asks for (as
                // with strace -f -p). Start times are in ticks: take the attach tick too.
                for _ in 0..3 {
                    let mut found = false;
                    for pid in procfs::all_processes() {
                        if probes.state(pid) != task_state::NONE || pid == me {
                            continue;
                        }
                        let Some((parent, started)) = procfs::parent_and_start(pid) else {
                            continue;
                        };
                        if started >= attached_ticks && probes.state(parent) != task_state::NONE {
                            mark_process(probes, pid);
                            found = true;
                        }
                    }
                    if !found {
                        break;
                    }
                }
            }
        }
        Target::Everything => {
            for pid in procfs::all_processes() {
                if pid != me {
                    mark_process(probes, pid);
                }
            }
        }
    }
    marked
}

pub fn record(options: &RecordOptions) -> Result<Outcome> {
    preflight::check_privileges()?;
    preflight::check_jit()?;
    let arch = Arch::host().ok_or(Error::Internal("unsupported host architecture"))?;

    if let Target::Processes { pids, .. } = &options.target {
        for &pid in pids {
            if procfs::threads_of(pid).is_none() {
                return Err(Error::Usage(format!("no process {pid}")));
            }
        }
    }
    let compiled = match &options.filter {
        Some((expr, _)) => filter::compile(expr, arch, &Cgroup2::find())
            .map_err(|e| Error::Usage(e.to_string()))?,
        None => Compiled::everything(),
    };

    // Before loading anything: an unwritable output is a common mistake. The file is
    // created again, with its header, once recording starts.
    let first_file = match options.rotation {
        Some(_) => part_path(&options.output, 1),
        None => options.output.clone(),
    };
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&first_file)
        .map_err(|source| Error::Output {
            path: first_file.clone(),
            source,
        })?;
    let output_error = |source| Error::Output {
        path: options.output.clone(),
        source,
    };

    // Before loading anything: a missing command is the commonest mistake.
    let child = match &options.target {
        Target::Command(argv) => Some(Paused::spawn(argv)?),
        _ => None,
    };

    let registry = Registry::new(arch).map_err(|e| Error::Handlers(e.to_string()))?;
    let rules = registry.rules(&options.policy);
    let follow = match &options.target {
        Target::Command(_) => filter::follow_bits(false, true),
        Target::Processes { children, .. } => filter::follow_bits(false, *children),
        Target::Everything => filter::follow_bits(true, true),
    };
    let attached_ticks = procfs::boot_ticks();
    let mut probes = Probes::load(
        &options.probes,
        &Selection {
            rules: &rules,
            filter: &compiled,
            follow,
        },
    )?;
    let cpus = possible_cpus()?;

    let uname = nix::sys::utsname::uname().map_err(std::io::Error::from)?;
    let header = Header {
        arch,
        kernel_release: uname.release().to_string_lossy().into_owned(),
        hostname: uname.nodename().to_string_lossy().into_owned(),
        start_wall_ns: now_ns(ClockId::CLOCK_REALTIME)?,
        start_boot_ns: now_ns(ClockId::CLOCK_BOOTTIME)?,
        snap_len: options.probes.snap_len,
        command: match &options.target {
            Target::Command(argv) => argv.clone(),
            _ => Vec::new(),
        },
        target: match &options.target {
            Target::Command(_) => "command".to_owned(),
            Target::Processes { pids, children } => format!(
                "processes {}{}",
                pids.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                if *children { " and their children" } else { "" }
            ),
            Target::Everything => "all tasks".to_owned(),
        },
        filter: options.filter.as_ref().map(|(_, text)| text.clone()),
        syscord_version: env!("CARGO_PKG_VERSION").to_owned(),
        cpus: cpus as u32,
        part: 0,
        captures: registry.capture_names(),
        ring_publish: probes.ring_publish().name().to_owned(),
        exec_argv: probes.exec_argv().to_owned(),
    };
    let output =
        Output::create(&options.output, &header, options.rotation).map_err(output_error)?;
    let output = OutputThread::start(output).map_err(output_error)?;
    let (names, initial_names) = mpsc::channel();
    let drain = Drain::new(
        probes.rings()?,
        output,
        initial_names,
        options.rotation.is_some(),
    )
    .map_err(output_error)?;
    let wake_drain = drain.rings().stopper().map_err(output_error)?;

    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(DrainProgress::default());
    let drain_thread = {
        let stop = Arc::clone(&stop);
        let progress = Arc::clone(&progress);
        let idle_sleep = options.idle_sleep;
        let path = options.output.clone();
        thread::Builder::new()
            .name("syscord-drain".into())
            .spawn(move || {
                // The drain must never fall behind the traced tasks: give it the CPU before
                // them, so under a syscall storm they slow down rather than fill the rings.
                // Only this thread: the command was forked before, and inherits nothing.
                // SAFETY: setpriority has no memory effects; 0 is the calling thread.
                unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, DRAIN_NICE) };
                let result = drain.run(&stop, idle_sleep, &progress);
                if let Err(e) = &result {
                    // Say it now, not when the command ends, which may be much later. The
                    // chunks written so far stay readable.
                    eprintln!(
                        "syscord: {}: {e}: the recording stops here; what was written stays readable",
                        path.display()
                    );
                    STOP.store(true, Ordering::Relaxed);
                }
                result
            })?
    };

    let ticker = std::io::stderr()
        .is_terminal()
        .then(|| Ticker::start(Arc::clone(&progress)));

    let exit_code = match child {
        Some(child) => {
            probes.arm(child.pid())?;
            match child.release() {
                Ok(pid) => {
                    CHILD.store(pid.as_raw(), Ordering::Relaxed);
                    install_signal_handlers()?;
                    wait_exit_code(pid)
                }
                Err(e) => Err(e),
            }
        }
        None => {
            install_signal_handlers()?;
            let threads = mark_running(
                &mut probes,
                &options.target,
                &compiled,
                attached_ticks,
                &names,
            );
            // Like strace's "Process N attached": tells people (and scripts) that the
            // recording now runs.
            match &options.target {
                Target::Everything => eprintln!(
                    "syscord: recording all tasks{} ({threads} threads now); Ctrl-C or SIGTERM ends it",
                    if options.filter.is_some() {
                        " the filter selects"
                    } else {
                        ""
                    }
                ),
                _ => eprintln!(
                    "syscord: recording {threads} threads; Ctrl-C or SIGTERM ends the recording"
                ),
            }
            loop {
                thread::sleep(Duration::from_millis(50));
                if STOP.load(Ordering::Relaxed) {
                    break;
                }
                if let Target::Processes { pids, .. } = &options.target
                    && !pids.iter().any(|&p| alive(p))
                {
                    break;
                }
            }
            Ok(0)
        }
    };

    if let Some(ticker) = ticker {
        ticker.stop();
    }
    // No event after detach; the drain's last pass then sees everything.
    let skipped_runs = probes.detach();
    stop.store(true, Ordering::Release);
    wake_drain.wake();
    let mut drain = drain_thread
        .join()
        .map_err(|_| Error::Internal("the drain thread panicked"))?
        .map_err(output_error)?;
    let exit_code = exit_code?;

    let last_seq_per_cpu = drain.finish_sequences();
    let counters: Vec<_> = (0..cpus).map(|cpu| drain.rings().counters(cpu)).collect();
    let lost_records_per_cpu: Vec<u64> = counters.iter().map(|c| c.lost).collect();
    let kernel_lost: u64 = lost_records_per_cpu.iter().sum();
    if kernel_lost != drain.gap_lost() {
        eprintln!(
            "syscord: warning: the kernel counted {kernel_lost} lost records, the sequence numbers show {}",
            drain.gap_lost()
        );
    }
    if let Some(anomalies) = drain.anomalies() {
        eprintln!("syscord: warning: {anomalies}");
    }
    let output = drain.into_output().map_err(output_error)?;
    let summary = Summary {
        records: output.records(),
        lost_records_per_cpu,
        lost_tasks: counters.iter().map(|c| c.lost_tasks).sum(),
        busy_lost: counters.iter().map(|c| c.lost_busy).sum(),
        skipped_runs,
        end_wall_ns: now_ns(ClockId::CLOCK_REALTIME)?,
        end_boot_ns: now_ns(ClockId::CLOCK_BOOTTIME)?,
        exit_status: Some(exit_code),
        continued: false,
        last_seq_per_cpu,
    };
    let written = output.finish(&summary).map_err(output_error)?;
    Ok(Outcome {
        exit_code,
        summary,
        written,
    })
}

/// The live line on a terminal: records, bytes and losses so far, redrawn in place.
struct Ticker {
    done: Arc<AtomicBool>,
    thread: thread::JoinHandle<()>,
}

impl Ticker {
    const EVERY: Duration = Duration::from_millis(250);

    fn start(progress: Arc<DrainProgress>) -> Ticker {
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let done = Arc::clone(&done);
            thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    thread::sleep(Self::EVERY);
                    let line = format!(
                        "syscord: {} syscalls, {} written, {} lost",
                        progress.records.load(Ordering::Relaxed),
                        human_bytes(progress.bytes.load(Ordering::Relaxed)),
                        progress.lost.load(Ordering::Relaxed),
                    );
                    // Carriage return and erase-line: the line is redrawn, not repeated.
                    let _ = write!(std::io::stderr(), "\r{line}\x1b[K");
                }
                let _ = write!(std::io::stderr(), "\r\x1b[K");
            })
        };
        Ticker { done, thread }
    }

    fn stop(self) {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

/// 1234567 -> "1.2 MB".
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
