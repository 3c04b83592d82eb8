//! `syscord record`: start a command with recording active, follow it, write the file.

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
use syscord_handlers::{Policy, Registry};

use crate::{
    drain::{Drain, DrainProgress},
    error::{Error, Result},
    format::{Header, Summary, Writer},
    preflight,
    probes::{ProbeOptions, Probes, possible_cpus},
    spawn::{Paused, wait_exit_code},
};

#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub output: PathBuf,
    pub command: Vec<String>,
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

extern "C" fn forward_signal(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _: *mut libc::c_void,
) {
    // A signal from the terminal (Ctrl-C) reached the child's process group too; one sent to
    // syscord alone (kill, a service manager) is passed on, so the child ends and the
    // recording finishes cleanly after it.
    // SAFETY: the kernel hands a valid siginfo to SA_SIGINFO handlers; kill is
    // async-signal-safe.
    unsafe {
        let from_process = (*info).si_code == libc::SI_USER || (*info).si_code == libc::SI_QUEUE;
        let child = CHILD.load(Ordering::Relaxed);
        if from_process && child > 0 {
            libc::kill(child, signal);
        }
    }
}

fn install_signal_forwarding() -> Result<()> {
    let action = SigAction::new(
        SigHandler::SigAction(forward_signal),
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

pub fn record(options: &RecordOptions) -> Result<Outcome> {
    preflight::check_privileges()?;
    let arch = Arch::host().ok_or(Error::Internal("unsupported host architecture"))?;

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
    let child = Paused::spawn(&options.command)?;

    let registry = Registry::new(arch).map_err(|e| Error::Handlers(e.to_string()))?;
    let rules = registry.rules(&options.policy);
    let mut probes = Probes::load(&options.probes, &rules)?;
    let cpus = possible_cpus()?;

    let uname = nix::sys::utsname::uname().map_err(std::io::Error::from)?;
    let header = Header {
        arch,
        kernel_release: uname.release().to_string_lossy().into_owned(),
        hostname: uname.nodename().to_string_lossy().into_owned(),
        start_wall_ns: now_ns(ClockId::CLOCK_REALTIME)?,
        start_boot_ns: now_ns(ClockId::CLOCK_BOOTTIME)?,
        snap_len: options.probes.snap_len,
        command: options.command.clone(),
        syscord_version: env!("CARGO_PKG_VERSION").to_owned(),
        cpus: cpus as u32,
    };
    let writer =
        Writer::new(BufWriter::with_capacity(1 << 20, file), &header).map_err(output_error)?;
    let drain = Drain::new(probes.rings()?, writer, registry);

    probes.arm(child.pid())?;
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

    let exit_code = match child.release() {
        Ok(pid) => {
            CHILD.store(pid.as_raw(), Ordering::Relaxed);
            install_signal_forwarding()?;
            wait_exit_code(pid)
        }
        Err(e) => Err(e),
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
