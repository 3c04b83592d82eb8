//! `syscord record`: choose what to record (a command it starts, running processes, or
//! every task), load the probes, drain the rings into the file until the end.

use std::{
    fs::{File, OpenOptions},
    io::{BufWriter, Write},
    os::unix::fs::OpenOptionsExt,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI32, Ordering},
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

use crate::{
    drain::{Drain, DrainProgress},
    error::{Error, Result},
    filter::{
        self, Compiled, Expr,
        procfs::{self, Cgroup2},
    },
    format::{Header, Summary, Writer},
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
    /// How long the drain sleeps when it finds the ring buffer empty.
    pub idle_sleep: Duration,
}

/// What a finished recording reports.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub exit_code: i32,
    pub summary: Summary,
    pub bytes: u64,
}

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

/// Marks the running threads the target names; returns how many were marked.
/// Marks the threads running now that the target selects, with their state under the
/// filter; `attached_ticks` is when the probes were attached (see procfs::boot_ticks).
/// Returns how many of them are recorded.
fn mark_running(
    probes: &mut Probes,
    target: &Target,
    filter: &Compiled,
    attached_ticks: u64,
) -> usize {
    let cgroups = Cgroup2::find();
    let me = std::process::id();
    let mut marked = 0;
    let mut mark_process = |probes: &mut Probes, pid: u32| {
        for tid in procfs::threads_of(pid).unwrap_or_default() {
            if let Some(info) = procfs::read_thread(pid, tid, cgroups.as_ref()) {
                let (state, exe_bits) = procfs::evaluate(filter, &info);
                if probes.mark(tid, state, exe_bits) && state >= task_state::ALL {
                    marked += 1;
                }
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

    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        // Recordings hold what processes read: keep them private.
        .mode(0o600)
        .open(&options.output)
        .map_err(|source| Error::Output {
            path: options.output.clone(),
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
    };
    let writer =
        Writer::new(BufWriter::with_capacity(1 << 20, file), &header).map_err(output_error)?;
    let drain = Drain::new(probes.rings()?, writer, registry);

    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(DrainProgress::default());
    let drain_thread = {
        let stop = Arc::clone(&stop);
        let progress = Arc::clone(&progress);
        let idle_sleep = options.idle_sleep;
        thread::Builder::new()
            .name("syscord-drain".into())
            .spawn(move || drain.run(&stop, idle_sleep, &progress))?
    };

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
            let threads = mark_running(&mut probes, &options.target, &compiled, attached_ticks);
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

    // No event after detach; the drain's last pass then sees everything.
    probes.detach();
    stop.store(true, Ordering::Release);
    let mut drain = drain_thread
        .join()
        .map_err(|_| Error::Internal("the drain thread panicked"))?
        .map_err(output_error)?;
    let exit_code = exit_code?;

    drain.finish_sequences().map_err(output_error)?;
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
    let writer = drain.into_writer();
    let summary = Summary {
        records: writer.records(),
        lost_records_per_cpu,
        lost_tasks: counters.iter().map(|c| c.lost_tasks).sum(),
        end_wall_ns: now_ns(ClockId::CLOCK_REALTIME)?,
        end_boot_ns: now_ns(ClockId::CLOCK_BOOTTIME)?,
        exit_status: Some(exit_code),
    };
    let mut out = writer.finish(&summary).map_err(output_error)?;
    out.flush().map_err(output_error)?;
    let file: File = out.into_inner().map_err(|e| output_error(e.into_error()))?;
    file.sync_all().map_err(output_error)?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok(Outcome {
        exit_code,
        summary,
        bytes,
    })
}
