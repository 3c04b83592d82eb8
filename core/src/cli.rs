//! The `syscord` command line.

use std::{io, path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use syscord_arch::Arch;
use syscord_common::{DEFAULT_SNAP_LEN, MAX_SNAP_LEN, SEGMENT_SIZE};
use syscord_handlers::Policy;
use syscord_recording::{
    dump::{self, DumpFormat},
    parts::ReadError,
    stats::{self, SortKey, StatsFormat, StatsOptions},
};

use crate::{
    command::record::{self, RecordOptions, Target},
    error::Error,
    filter,
    output::{MIN_PART_SIZE, Rotation},
    probes::{self, ProbeOptions},
};

/// syscord: an always-on flight recorder for Linux system calls.
#[derive(Debug, Parser)]
#[command(name = "syscord", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record the syscalls of a command (with its threads and children), of running
    /// processes (-p) or of the whole system (-a), optionally filtered.
    Record(Box<RecordArgs>),
    /// Print a recording, one syscall per line, in time order.
    Dump(DumpArgs),
    /// Count the calls, errors and times of each syscall of a recording, like strace -c.
    Stats(StatsArgs),
    /// List every syscall of an architecture: number, class and what is captured.
    Handlers(HandlersArgs),
}

#[derive(Debug, clap::Args)]
struct HandlersArgs {
    /// x86_64, aarch64 or riscv64 (default: this machine's).
    #[arg(long, value_parser = parse_arch)]
    arch: Option<Arch>,
    /// text (one line per syscall) or json (one object per line).
    #[arg(long, value_enum, default_value = "text")]
    format: DumpFormat,
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    s.parse()
        .map_err(|e: syscord_arch::UnknownArch| e.to_string())
}

#[derive(Debug, clap::Args)]
struct RecordArgs {
    /// Where to write the recording.
    #[arg(short, long, value_name = "FILE", default_value = "syscord.rec")]
    output: PathBuf,
    /// Write a ring of files FILE.000001, FILE.000002, ... instead, starting the next once
    /// one holds SIZE bytes (K, M, G; at least 2M; a file may pass SIZE by one compressed
    /// chunk, at most about 1M). Parts an earlier recording left at FILE are removed.
    #[arg(long, value_name = "SIZE", value_parser = parse_part_size)]
    max_size: Option<u64>,
    /// With --max-size: keep the newest N files, removing older ones (default: keep all).
    #[arg(long, value_name = "N", requires = "max_size",
          value_parser = clap::value_parser!(u64).range(1..))]
    keep: Option<u64>,
    /// Attach to running processes (all their threads) until they exit or syscord is
    /// interrupted.
    #[arg(short = 'p', long = "attach", value_name = "PID", value_delimiter = ',',
          conflicts_with_all = ["all", "command"])]
    attach: Vec<u32>,
    /// With -p: also record the processes' future children (those started after syscord
    /// attaches, to the precision of a clock tick; not those already running, as strace -f).
    #[arg(short = 'f', long, requires = "attach")]
    follow_forks: bool,
    /// Record every task of the system (normally with a filter) until interrupted.
    #[arg(short = 'a', long, conflicts_with = "command")]
    all: bool,
    /// Which threads and syscalls to record: pid, tid, comm, ppid, pcomm, uid, gid, exe,
    /// cgroup, syscall, class, failed; == != < > <= >= in {...}; && || ! ( ).
    /// Example: 'comm == "nginx*" && syscall in {read, write} || failed'.
    #[arg(long, value_name = "EXPR")]
    filter: Option<String>,
    /// Only these process ids (shorthand; several filter options are joined with &&).
    #[arg(long = "pid", value_name = "PID", value_delimiter = ',')]
    pid_filter: Vec<u32>,
    /// Only threads with this name (a glob with * at either end).
    #[arg(long = "comm", value_name = "NAME")]
    comm_filter: Vec<String>,
    /// Only children of this process id.
    #[arg(long = "ppid", value_name = "PID", value_delimiter = ',')]
    ppid_filter: Vec<u32>,
    /// Only children of a process with this name.
    #[arg(long = "pcomm", value_name = "NAME")]
    pcomm_filter: Vec<String>,
    /// Size of each CPU's ring buffer: a power of two, at least 2M (K, M, G suffixes).
    /// Default: 16M, or 64M shared among the CPUs where that is less.
    #[arg(long, value_name = "SIZE", value_parser = parse_ring_size)]
    buffer_size: Option<u64>,
    /// Bytes captured per buffer at most (file and socket content, paths, structs).
    #[arg(short = 's', long, value_name = "N", default_value_t = DEFAULT_SNAP_LEN,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SNAP_LEN)))]
    snap_len: u32,
    /// Capture buffers whole, up to 32 KiB each (the per-record maximum is 4 such buffers).
    #[arg(long, conflicts_with = "snap_len")]
    full: bool,
    /// Measure the time each syscall takes, as strace -T (hooks sys_enter as well: costs
    /// about 100 ns more per recorded syscall).
    #[arg(short = 'T', long)]
    syscall_times: bool,
    /// Also capture the content that write-content syscalls send (write, sendto, ...).
    #[arg(long)]
    capture_writes: bool,
    /// Capture the inputs of write-status syscalls (paths of mkdir, unlink, ...) when they
    /// succeed too, not only when they fail.
    #[arg(long)]
    capture_inputs: bool,
    /// Where the kernel refuses fentry on execve's entry, take the argv an exec's caller
    /// passed from the syscalls:sys_enter_execve(at) tracepoints instead. Costs every
    /// syscall on the machine a pass through a sys_enter probe (about 20 ns each measured).
    #[arg(long)]
    caller_argv_tracepoints: bool,
    /// Also record the environment each new program image starts with (it can hold
    /// secrets: off unless asked for).
    #[arg(long)]
    capture_env: bool,
    /// Record registers only: no memory at all.
    #[arg(long, conflicts_with_all = ["capture_writes", "capture_inputs", "full"])]
    no_data: bool,
    /// How long the drain sleeps when it finds every ring empty (ms); after more empty
    /// passes in a row, longer: up to a second with rings of 8M or more (a ring that fills
    /// a segment wakes it), else up to four times that, as far as the rings' size allows.
    #[arg(long, value_name = "MS", default_value_t = 10)]
    poll_interval: u64,
    /// Kernel BTF to read struct layouts from, for kernels that do not expose
    /// /sys/kernel/btf/vmlinux.
    #[arg(long, value_name = "FILE")]
    btf: Option<PathBuf>,
    /// The command to record, after `--`.
    #[arg(last = true, value_name = "CMD", required_unless_present_any = ["attach", "all"])]
    command: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct DumpArgs {
    /// Output format: text (strace-like lines) or json (one object per line).
    #[arg(long, value_enum, default_value = "text")]
    format: DumpFormat,
    /// The recording to read.
    file: PathBuf,
}

#[derive(Debug, clap::Args)]
struct StatsArgs {
    /// Output format: text (a table like strace -c) or json (one object).
    #[arg(long, value_enum, default_value = "text")]
    format: StatsFormat,
    /// Order of the rows (default: time if the recording has times, calls if not).
    #[arg(long, value_enum)]
    sort: Option<SortKey>,
    /// Also list the failures of each syscall per errno.
    #[arg(long)]
    errors: bool,
    /// Also give the statistics of each thread (as perf trace -s).
    #[arg(long)]
    threads: bool,
    /// The recording to read.
    file: PathBuf,
}

/// "64M" -> bytes; the kernel wants a power of two of at least a page.
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{s}' is not a size (examples: 4096, 256K, 64M, 1G)"))?;
    let multiplier: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("'{s}' has an unknown unit (use K, M or G)")),
    };
    n.checked_mul(multiplier)
        .ok_or_else(|| format!("'{s}' is too large"))
}

fn parse_ring_size(s: &str) -> Result<u64, String> {
    let bytes = parse_size(s)?;
    if !bytes.is_power_of_two() || bytes < SEGMENT_SIZE {
        return Err(format!(
            "ring buffer size must be a power of two of at least 2M, not {s}"
        ));
    }
    if bytes > (1 << 30) {
        return Err(format!(
            "ring buffer size {s} is above the 1G per CPU limit"
        ));
    }
    Ok(bytes)
}

fn parse_part_size(s: &str) -> Result<u64, String> {
    let bytes = parse_size(s)?;
    if bytes < MIN_PART_SIZE {
        return Err(format!("--max-size must be at least 2M, not {s}"));
    }
    Ok(bytes)
}

/// What `record` says at the end: how many syscalls went where, and what was lost.
fn summary_line(outcome: &record::Outcome, output: &std::path::Path) -> String {
    let s = &outcome.summary;
    let written = &outcome.written;
    let place = match written.parts {
        None => format!(
            "{} ({})",
            output.display(),
            record::human_bytes(written.bytes)
        ),
        Some((first, last)) => format!(
            "{} ({} files {:06} to {:06}, {}{})",
            output.display(),
            last - first + 1,
            first,
            last,
            record::human_bytes(written.bytes),
            match first - 1 {
                0 => String::new(),
                removed => format!("; {removed} older removed by --keep"),
            }
        ),
    };
    let mut line = format!(
        "syscord: {} syscalls recorded to {place}, {} lost",
        s.records,
        s.lost_records()
    );
    if s.lost_records() > 0 {
        let mut per_cpu: Vec<String> = s
            .lost_records_per_cpu
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(cpu, n)| format!("CPU {cpu}: {n}"))
            .collect();
        if s.busy_lost > 0 {
            per_cpu.push(format!(
                "{} with no sequence number: their CPU's ring was held by a preempted program",
                s.busy_lost
            ));
        }
        line.push_str(&format!(" ({})", per_cpu.join(", ")));
    }
    if s.lost_tasks > 0 {
        line.push_str(&format!(", {} child tasks not followed", s.lost_tasks));
    }
    if s.skipped_runs > 0 {
        line.push_str(&format!(
            "; the kernel skipped syscord's programs {} times while one was preempted on the \
             same CPU (syscalls of any process, recorded ones among them, went unseen)",
            s.skipped_runs
        ));
    }
    line
}

/// The filter as the user gave it, for the file's header.
fn filter_description(args: &RecordArgs) -> String {
    let mut parts: Vec<String> = args.filter.iter().cloned().collect();
    let join = |v: &[String]| v.join(",");
    let numbers = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>();
    if !args.pid_filter.is_empty() {
        parts.push(format!("--pid {}", join(&numbers(&args.pid_filter))));
    }
    for c in &args.comm_filter {
        parts.push(format!("--comm {c}"));
    }
    if !args.ppid_filter.is_empty() {
        parts.push(format!("--ppid {}", join(&numbers(&args.ppid_filter))));
    }
    for c in &args.pcomm_filter {
        parts.push(format!("--pcomm {c}"));
    }
    parts.join(" ")
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("syscord: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Record(args) => {
            let cpus = probes::possible_cpus()?;
            let filter = filter::combine(
                args.filter.as_deref(),
                &args.pid_filter,
                &args.comm_filter,
                &args.ppid_filter,
                &args.pcomm_filter,
            )
            .map_err(|e| Error::Usage(e.to_string()))?;
            let filter_text = filter_description(&args);
            let target = if args.all {
                Target::Everything
            } else if !args.attach.is_empty() {
                Target::Processes {
                    pids: args.attach.clone(),
                    children: args.follow_forks,
                }
            } else {
                Target::Command(args.command.clone())
            };
            let options = RecordOptions {
                output: args.output.clone(),
                target,
                filter: filter.map(|f| (f, filter_text)),
                probes: ProbeOptions {
                    ring_bytes_per_cpu: args
                        .buffer_size
                        .unwrap_or_else(|| ProbeOptions::default_ring_bytes_per_cpu(cpus)),
                    btf: args.btf,
                    snap_len: if args.full {
                        MAX_SNAP_LEN
                    } else {
                        args.snap_len
                    },
                    timing: args.syscall_times,
                    capture_env: args.capture_env,
                    caller_argv_tracepoints: args.caller_argv_tracepoints,
                },
                policy: Policy {
                    capture_writes: args.capture_writes,
                    capture_ws_inputs: args.capture_inputs,
                    capture_memory: !args.no_data,
                },
                idle_sleep: Duration::from_millis(args.poll_interval),
                rotation: args.max_size.map(|max_size| Rotation {
                    max_size,
                    keep: args.keep.unwrap_or(u64::MAX),
                }),
            };
            let outcome = record::record(&options)?;
            eprintln!("{}", summary_line(&outcome, &args.output));
            Ok(ExitCode::from(outcome.exit_code.clamp(0, 255) as u8))
        }
        Command::Handlers(args) => {
            let arch = args.arch.or(Arch::host()).ok_or(Error::Usage(
                "unsupported host architecture: give --arch".into(),
            ))?;
            crate::command::handlers::run(arch, args.format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Dump(args) => {
            let stdout = io::stdout().lock();
            let mut out = io::BufWriter::with_capacity(1 << 16, stdout);
            let result = dump::dump(&args.file, args.format, &mut out);
            end_of_reading(args.file, result.map(|report| report.messages()))
        }
        Command::Stats(args) => {
            let options = StatsOptions {
                format: args.format,
                sort: args.sort,
                by_errno: args.errors,
                threads: args.threads,
            };
            let mut out = io::stdout().lock();
            let result = stats::stats(&args.file, options, &mut out);
            end_of_reading(args.file, result.map(|outcome| outcome.notes))
        }
    }
}

/// How `dump` and `stats` end: their notes on stderr; damage an error, after the output of
/// what precedes it; a closed pipe (`syscord dump f | head`) not one.
fn end_of_reading(
    file: PathBuf,
    result: Result<Vec<String>, ReadError>,
) -> Result<ExitCode, Error> {
    match result {
        Ok(notes) => {
            for note in notes {
                eprintln!("syscord: {}: {note}", file.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ReadError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(ReadError::Output(e)) => Err(Error::Io(e)),
        Err(ReadError::Format(source)) => Err(Error::Input { path: file, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_ring_size("3M").is_err());
        assert!(parse_ring_size("512K").is_err());
        assert!(parse_ring_size("1M").is_err());
        assert_eq!(parse_ring_size("2M"), Ok(2 << 20));
        assert_eq!(parse_ring_size("64M"), Ok(64 << 20));
        assert!(parse_ring_size("2G").is_err());
    }

    #[test]
    fn command_line_shape() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
