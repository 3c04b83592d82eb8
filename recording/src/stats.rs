//! `syscord stats`: calls, errors and times per syscall of a recording, like `strace -c`.
//!
//! Reading and accounting are kept apart: [`read_records`] walks the file one chunk at a time
//! and hands each record to [`SyscallStats::add`], so memory stays flat whatever the size of
//! the file (one chunk, plus one entry per syscall number and errno seen).

use std::{
    cmp::Ordering,
    collections::{BTreeMap, HashMap},
    fmt::Write as _,
    io::Write,
    path::Path,
};

use serde_json::{Map, Value, json};
use syscord_arch::{Arch, SyscallTable, errno_name};
use syscord_common::NO_SYSCALL;
use syscord_handlers::decode::Decoder;

use crate::{
    format::{
        Chunk, FormatError, Header, Record, SendResult, SignalAction, Summary, SyscallEvent,
        TaskEvent, TaskEventKind,
    },
    parts::{ReadError, Recording},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    Text,
    Json,
}

/// Order of the rows; ties are broken by name so the output is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortKey {
    /// Most total time first.
    Time,
    /// Most calls first.
    Calls,
    /// Most errors first.
    Errors,
    /// Alphabetical.
    Name,
}

/// What the calls of one syscall (or of all of them) add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) calls: u64,
    pub(crate) errors: u64,
    /// Failed calls per errno (positive numbers).
    pub(crate) errors_by_errno: BTreeMap<i64, u64>,
    /// Calls whose duration the recording has: all that returned, with `record -T`.
    pub(crate) timed_calls: u64,
    pub(crate) time_ns: u64,
}

impl Counts {
    fn add_call(&mut self, event: &SyscallEvent) {
        self.calls += 1;
        if let Some(errno) = failure_errno(event) {
            self.errors += 1;
            *self.errors_by_errno.entry(errno).or_default() += 1;
        }
        if let Some(ns) = event.duration_ns {
            self.timed_calls += 1;
            self.time_ns = self.time_ns.saturating_add(ns);
        }
    }

    fn merge(&mut self, other: &Counts) {
        self.calls += other.calls;
        self.errors += other.errors;
        for (&errno, &n) in &other.errors_by_errno {
            *self.errors_by_errno.entry(errno).or_default() += n;
        }
        self.timed_calls += other.timed_calls;
        self.time_ns = self.time_ns.saturating_add(other.time_ns);
    }

    /// Mean time of the calls that were timed (exit/exit_group, never timed, do not lower it).
    fn usecs_per_call(&self) -> f64 {
        if self.timed_calls == 0 {
            return 0.0;
        }
        self.time_ns as f64 / self.timed_calls as f64 / 1e3
    }

    fn seconds(&self) -> f64 {
        self.time_ns as f64 / 1e9
    }

    /// This share of `total_ns`, in percent.
    fn percent_of(&self, total_ns: u64) -> f64 {
        if total_ns == 0 {
            return 0.0;
        }
        self.time_ns as f64 * 100.0 / total_ns as f64
    }
}

/// The errno of a failed call, or None.
fn failure_errno(event: &SyscallEvent) -> Option<i64> {
    // exit/exit_group never return. rt_sigreturn (recorded with the number NO_SYSCALL)
    // "returns" the restored return value of the call the signal interrupted: a failure there
    // is that call's, already counted at its own exit.
    if !event.returned || event.nr == NO_SYSCALL {
        return None;
    }
    (-4095..=-1).contains(&event.ret).then(|| -event.ret)
}

/// What happened to one signal of the recorded threads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SignalCounts {
    /// Sent to a recorded thread (or its process).
    pub(crate) sent: u64,
    /// Of those, dropped when sent: ignored, already pending, or the queue full.
    pub(crate) dropped: u64,
    /// Delivered, and run by a handler, by the default action, or ignored. The SIGKILL
    /// the kernel ends the other threads of an exiting process with is not counted.
    pub(crate) handled: u64,
    pub(crate) default: u64,
    pub(crate) ignored: u64,
}

/// The statistics of a recording, fed one record at a time.
#[derive(Debug, Default)]
pub(crate) struct SyscallStats {
    /// By syscall number as recorded.
    by_nr: HashMap<u32, Counts>,
    /// By signal number.
    signals: BTreeMap<u32, SignalCounts>,
    /// Events the loss markers say are missing.
    lost: u64,
    /// With `--threads`: the same per thread, with its process id and latest name.
    threads: Option<BTreeMap<u32, ThreadStats>>,
}

#[derive(Debug, Default)]
struct ThreadStats {
    pid: u32,
    comm: Vec<u8>,
    stats: SyscallStats,
}

impl SyscallStats {
    /// Statistics that also count per thread, as `perf trace -s` shows them.
    pub(crate) fn per_thread() -> SyscallStats {
        SyscallStats {
            threads: Some(BTreeMap::new()),
            ..SyscallStats::default()
        }
    }

    pub(crate) fn add(&mut self, record: &Record) {
        if let (Some(threads), Record::Syscall(event)) = (&mut self.threads, record) {
            let thread = threads.entry(event.tid).or_default();
            thread.pid = event.pid;
            if thread.comm != event.comm {
                thread.comm.clone_from(&event.comm);
            }
            thread.stats.add(record);
        }
        match record {
            Record::Syscall(event) => self.by_nr.entry(event.nr).or_default().add_call(event),
            Record::Lost { count, .. } => self.lost = self.lost.saturating_add(*count),
            Record::Task(TaskEvent {
                kind: TaskEventKind::SignalSent { signo, result, .. },
                ..
            }) => {
                let counts = self.signals.entry(*signo).or_default();
                counts.sent += 1;
                if !matches!(result, SendResult::Queued | SendResult::LostInfo) {
                    counts.dropped += 1;
                }
            }
            Record::Task(TaskEvent {
                kind:
                    TaskEventKind::SignalDelivered {
                        signo,
                        action,
                        group_exit: false,
                        ..
                    },
                ..
            }) => {
                let counts = self.signals.entry(*signo).or_default();
                match action {
                    SignalAction::Handler(_) => counts.handled += 1,
                    SignalAction::Default => counts.default += 1,
                    SignalAction::Ignore => counts.ignored += 1,
                }
            }
            // Forks, execs, renames and thread exits are not syscalls.
            Record::Task(_) => {}
        }
    }

    /// Events the recording says it lost (syscalls or task events).
    pub(crate) fn lost(&self) -> u64 {
        self.lost
    }

    /// Whether the recording measured syscall times (`record -T`).
    pub(crate) fn has_times(&self) -> bool {
        self.by_nr.values().any(|c| c.timed_calls > 0)
    }

    /// The counts of syscall number `nr`, as recorded.
    #[cfg(test)]
    fn counts(&self, nr: u32) -> Option<&Counts> {
        self.by_nr.get(&nr)
    }
}

/// How reading a recording ended.
#[derive(Debug)]
pub(crate) struct ReadEnd {
    pub(crate) header: Header,
    /// The file ended with its end chunk.
    pub(crate) complete: bool,
    /// Why the recording is incomplete, if it is.
    pub(crate) missing_tail: Option<String>,
    /// About the files read: parts removed by `--keep`, a part read alone.
    pub(crate) notes: Vec<String>,
    /// Damage found after the header; every record before it was read.
    pub(crate) damage: Option<FormatError>,
    /// The end chunk's summary, if the file has one (the last, for rotated parts).
    pub(crate) summary: Option<Summary>,
}

/// Hands every record of the recording at `path` to `on_record`, one chunk in memory at a
/// time. A file that cannot be opened or has a bad header is an error; damage further in ends
/// the reading and is returned in [`ReadEnd`], so the records before it still count.
pub(crate) fn read_records(
    path: &Path,
    mut on_record: impl FnMut(&Record),
) -> Result<ReadEnd, FormatError> {
    let mut recording = Recording::open(path)?;
    let mut summary = None;
    let damage = loop {
        match recording.next_chunk() {
            Ok(Some(Chunk::Records(records))) => records.iter().for_each(&mut on_record),
            Ok(Some(Chunk::End(end))) => summary = Some(end),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    Ok(ReadEnd {
        header: recording.header().clone(),
        complete: recording.is_complete(),
        missing_tail: recording.missing_tail(),
        notes: recording.notes(),
        damage,
        summary,
    })
}

/// The statistics of one thread.
#[derive(Debug)]
pub(crate) struct ThreadReport {
    pub(crate) tid: u32,
    pub(crate) pid: u32,
    pub(crate) comm: String,
    pub(crate) report: Report,
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) name: String,
    /// The architecture's number for the syscall (rt_sigreturn's, not the -1 it is recorded
    /// with), or the recorded number when the table has none.
    pub(crate) nr: u32,
    pub(crate) counts: Counts,
}

/// The statistics as shown: named, sorted rows and a total.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) rows: Vec<Row>,
    /// By signal number, the signals that were sent or delivered.
    pub(crate) signals: Vec<(u32, SignalCounts)>,
    pub(crate) total: Counts,
    pub(crate) lost: u64,
    /// Runs of the recorder's programs the kernel skipped (the summary's `skipped_runs`).
    pub(crate) skipped_runs: u64,
    /// How the recorder published records (the header's `ring_publish`; empty in older files).
    pub(crate) ring_publish: String,
    /// Which argv exec records hold (the header's `exec_argv`; empty in older files).
    pub(crate) exec_argv: String,
    pub(crate) complete: bool,
    /// With `--threads`: one report per thread, by thread id.
    pub(crate) threads: Vec<ThreadReport>,
    /// Why the recording is incomplete, when the reader knows better than "no end chunk".
    pub(crate) missing_tail: Option<String>,
    /// Whether there are times to show.
    pub(crate) timed: bool,
}

impl Report {
    /// Names the syscalls with `arch`'s table and sorts them: by `sort`, or by time when the
    /// recording has times and by calls when not.
    pub(crate) fn new(
        stats: &SyscallStats,
        arch: Arch,
        complete: bool,
        sort: Option<SortKey>,
    ) -> Report {
        let timed = stats.has_times();
        let mut rows = named_rows(stats, arch);
        sort_rows(
            &mut rows,
            sort.unwrap_or(if timed { SortKey::Time } else { SortKey::Calls }),
        );
        let mut total = Counts::default();
        for row in &rows {
            total.merge(&row.counts);
        }
        Report {
            rows,
            signals: stats
                .signals
                .iter()
                .map(|(&signo, counts)| (signo, counts.clone()))
                .collect(),
            total,
            lost: stats.lost(),
            skipped_runs: 0,
            ring_publish: String::new(),
            exec_argv: String::new(),
            complete,
            threads: stats
                .threads
                .iter()
                .flatten()
                .map(|(&tid, thread)| ThreadReport {
                    tid,
                    pid: thread.pid,
                    comm: String::from_utf8_lossy(&thread.comm).into_owned(),
                    report: Report::new(&thread.stats, arch, complete, sort),
                })
                .collect(),
            missing_tail: None,
            timed,
        }
    }
}

/// One row per syscall name. Numbers that name the same syscall (rt_sigreturn's -1 and its
/// table number) are merged.
fn named_rows(stats: &SyscallStats, arch: Arch) -> Vec<Row> {
    let decoder = Decoder::new(arch).expect("the built-in handlers are consistent");
    let table = SyscallTable::of(arch);
    let mut by_name: BTreeMap<String, Row> = BTreeMap::new();
    for (&nr, counts) in &stats.by_nr {
        let name = decoder.name(nr);
        let row = by_name.entry(name.clone()).or_insert_with(|| Row {
            nr: table.number(&name).unwrap_or(nr),
            name,
            counts: Counts::default(),
        });
        row.counts.merge(counts);
    }
    by_name.into_values().collect()
}

fn sort_rows(rows: &mut [Row], key: SortKey) {
    rows.sort_by(|a, b| {
        let (a_counts, b_counts) = (&a.counts, &b.counts);
        let most_calls = b_counts.calls.cmp(&a_counts.calls);
        let primary = match key {
            SortKey::Time => b_counts.time_ns.cmp(&a_counts.time_ns).then(most_calls),
            SortKey::Calls => most_calls,
            SortKey::Errors => b_counts.errors.cmp(&a_counts.errors).then(most_calls),
            SortKey::Name => Ordering::Equal,
        };
        primary.then_with(|| a.name.cmp(&b.name))
    });
}

/// "ENOENT", or "errno 600" for a number without a name.
fn signal_label(signo: u32) -> String {
    syscord_handlers::values::signal_name(u64::from(signo)).unwrap_or_else(|| signo.to_string())
}

fn errno_label(errno: i64) -> String {
    errno_name(errno).map_or_else(|| format!("errno {errno}"), str::to_owned)
}

const TIME_COLUMNS: &str = "% time     seconds  usecs/call ";
const TIME_RULE: &str = "------ ----------- ----------- ";
const COUNT_COLUMNS: &str = "    calls    errors syscall";
const COUNT_RULE: &str = "--------- --------- ----------------";

impl Report {
    /// The strace -c table; `by_errno` adds a table of the failures per syscall and errno.
    /// The notes that qualify it are not part of it (see [`Report::notes`]): they go to
    /// stderr, as `dump`'s do, so the table can be redirected or parsed alone.
    pub(crate) fn text(&self, by_errno: bool, out: &mut String) {
        let rule = if self.timed {
            format!("{TIME_RULE}{COUNT_RULE}")
        } else {
            COUNT_RULE.to_owned()
        };
        if self.timed {
            out.push_str(TIME_COLUMNS);
        }
        out.push_str(COUNT_COLUMNS);
        out.push('\n');
        let _ = writeln!(out, "{rule}");
        for row in &self.rows {
            self.text_line(&row.counts, &row.name, out);
        }
        let _ = writeln!(out, "{rule}");
        self.text_line(&self.total, "total", out);
        if by_errno {
            self.errno_table(out);
        }
        if !self.signals.is_empty() {
            self.signal_table(out);
        }
        for thread in &self.threads {
            let _ = writeln!(
                out,
                "\n{} ({}/{}): {} syscalls",
                thread.comm, thread.pid, thread.tid, thread.report.total.calls
            );
            thread.report.text(by_errno, out);
        }
    }

    fn text_line(&self, counts: &Counts, name: &str, out: &mut String) {
        if self.timed {
            let _ = write!(
                out,
                "{:>6.2} {:>11.6} {:>11} ",
                counts.percent_of(self.total.time_ns),
                counts.seconds(),
                // Whole microseconds, as strace -c shows them.
                counts.usecs_per_call() as u64,
            );
        }
        // strace leaves the errors column empty rather than showing 0.
        let errors = match counts.errors {
            0 => String::new(),
            n => n.to_string(),
        };
        let _ = writeln!(out, "{:>9} {:>9} {name}", counts.calls, errors);
    }

    fn errno_table(&self, out: &mut String) {
        let _ = writeln!(out, "\n   errors errno            syscall");
        let _ = writeln!(out, "--------- ---------------- ----------------");
        for row in &self.rows {
            let mut failures: Vec<(i64, u64)> = row
                .counts
                .errors_by_errno
                .iter()
                .map(|(&e, &n)| (e, n))
                .collect();
            failures.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            for (errno, n) in failures {
                let _ = writeln!(out, "{n:>9} {:<16} {}", errno_label(errno), row.name);
            }
        }
    }

    /// Per signal: sent, dropped, and delivered by what ran.
    fn signal_table(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n     sent   dropped   handled   default   ignored signal"
        );
        let _ = writeln!(
            out,
            "--------- --------- --------- --------- --------- ----------------"
        );
        let blank = |n: u64| if n == 0 { String::new() } else { n.to_string() };
        for (signo, c) in &self.signals {
            let _ = writeln!(
                out,
                "{:>9} {:>9} {:>9} {:>9} {:>9} {}",
                blank(c.sent),
                blank(c.dropped),
                blank(c.handled),
                blank(c.default),
                blank(c.ignored),
                signal_label(*signo)
            );
        }
    }

    /// What the reader of the statistics must know: no times, losses, a missing tail. The
    /// wording follows `dump`'s messages for the same facts.
    pub(crate) fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.timed {
            notes.push(
                "no syscall times in this recording (`syscord record -T` measures them)".into(),
            );
        }
        if self.lost > 0 {
            notes.push(format!(
                "{} records were lost while recording: the statistics undercount",
                self.lost
            ));
        }
        if self.skipped_runs > 0 {
            notes.push(format!(
                "the kernel skipped the recorder's programs {} times while one was preempted: \
                 syscalls of any process, recorded ones among them, may be missing",
                self.skipped_runs
            ));
        }
        if let Some(missing) = &self.missing_tail {
            notes.push(format!("{missing}: the statistics cover what it holds"));
        } else if !self.complete {
            notes.push(
                "the recording has no end chunk (the recorder was killed or its disk filled): the statistics cover what it holds"
                    .into(),
            );
        }
        notes
    }

    /// One object: `syscalls`, `total`, `lost`, `complete`.
    pub(crate) fn json(&self) -> Value {
        let syscalls: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut object = Map::new();
                object.insert("syscall".into(), json!(row.name));
                object.insert("nr".into(), json!(row.nr));
                self.json_counts(&row.counts, &mut object);
                Value::Object(object)
            })
            .collect();
        let mut total = Map::new();
        self.json_counts(&self.total, &mut total);
        let signals: Vec<Value> = self
            .signals
            .iter()
            .map(|(signo, c)| {
                json!({
                    "signal": signal_label(*signo),
                    "signo": signo,
                    "sent": c.sent,
                    "dropped": c.dropped,
                    "handled": c.handled,
                    "default": c.default,
                    "ignored": c.ignored,
                })
            })
            .collect();
        let mut object = json!({
            "syscalls": syscalls,
            "signals": signals,
            "total": total,
            "lost": self.lost,
            "skipped_runs": self.skipped_runs,
            "ring_publish": (!self.ring_publish.is_empty()).then_some(&self.ring_publish),
            "exec_argv": (!self.exec_argv.is_empty()).then_some(&self.exec_argv),
            "complete": self.complete,
        });
        if !self.threads.is_empty() {
            object["threads"] = self
                .threads
                .iter()
                .map(|thread| {
                    let report = thread.report.json();
                    json!({
                        "tid": thread.tid,
                        "pid": thread.pid,
                        "comm": thread.comm,
                        "syscalls": report["syscalls"],
                        "total": report["total"],
                    })
                })
                .collect();
        }
        object
    }

    fn json_counts(&self, counts: &Counts, object: &mut Map<String, Value>) {
        let by_name: Map<String, Value> = counts
            .errors_by_errno
            .iter()
            .map(|(&errno, &n)| (errno_label(errno), json!(n)))
            .collect();
        object.insert("calls".into(), json!(counts.calls));
        object.insert("errors".into(), json!(counts.errors));
        object.insert("errors_by_name".into(), Value::Object(by_name));
        if self.timed {
            object.insert("seconds".into(), json!(counts.seconds()));
            object.insert("usecs_per_call".into(), json!(counts.usecs_per_call()));
            object.insert(
                "percent_time".into(),
                json!(counts.percent_of(self.total.time_ns)),
            );
        }
    }
}

/// What `syscord stats` needs to know besides the file.
#[derive(Debug, Clone, Copy)]
pub struct StatsOptions {
    pub format: StatsFormat,
    pub sort: Option<SortKey>,
    pub by_errno: bool,
    /// Also per thread.
    pub threads: bool,
}

/// How the statistics went, for the messages after them.
#[derive(Debug)]
pub struct StatsOutcome {
    /// One line each, for stderr: what qualifies the statistics (see [`Report::notes`]).
    pub notes: Vec<String>,
}

/// Reads the recording at `path` and writes its statistics to `out`. Damage after the header
/// is returned as an error after the statistics of what precedes it are written, as `dump`
/// shows the records before the damage.
pub fn stats<W: Write>(
    path: &Path,
    options: StatsOptions,
    out: &mut W,
) -> Result<StatsOutcome, ReadError> {
    let mut stats = if options.threads {
        SyscallStats::per_thread()
    } else {
        SyscallStats::default()
    };
    let end = read_records(path, |record| stats.add(record))?;
    let mut report = Report::new(&stats, end.header.arch, end.complete, options.sort);
    report.missing_tail = end.missing_tail;
    report.ring_publish = end.header.ring_publish.clone();
    report.exec_argv = end.header.exec_argv.clone();
    if let Some(summary) = &end.summary {
        // Lost without a sequence number, so no loss record counted them.
        report.lost += summary.busy_lost;
        report.skipped_runs = summary.skipped_runs;
    }
    let mut text = String::new();
    match options.format {
        StatsFormat::Text => report.text(options.by_errno, &mut text),
        StatsFormat::Json => {
            let _ = writeln!(text, "{}", report.json());
        }
    }
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(ReadError::Output)?;
    match end.damage {
        Some(damage) => Err(damage.into()),
        None => Ok(StatsOutcome {
            notes: end.notes.into_iter().chain(report.notes()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Writer, kernel_records};

    const OPENAT: u32 = 257;
    const READ: u32 = 0;
    const EXIT_GROUP: u32 = 231;
    const ENOENT: i64 = 2;
    const EACCES: i64 = 13;

    fn call(nr: u32, ret: i64, duration_ns: Option<u64>) -> Record {
        Record::Syscall(SyscallEvent {
            returned: true,
            rule_flags: 0,
            cpu: 0,
            seq: 1,
            ts_ns: 1_000,
            pid: 10,
            tid: 10,
            nr,
            ret,
            ret_addr: 0,
            args: [0; 6],
            comm: b"t".to_vec(),
            captures: vec![],
            duration_ns,
        })
    }

    fn no_return(nr: u32, ret: i64) -> Record {
        match call(nr, ret, None) {
            // After `call`'s record, in its CPU's numbers.
            Record::Syscall(e) => Record::Syscall(SyscallEvent {
                returned: false,
                seq: 2,
                ts_ns: 1_100,
                ..e
            }),
            _ => unreachable!(),
        }
    }

    fn lost(count: u64) -> Record {
        Record::Lost {
            cpu: 1,
            first_seq: 5,
            count,
            ts_ns: 2_000,
        }
    }

    fn fed(records: &[Record]) -> SyscallStats {
        let mut stats = SyscallStats::default();
        records.iter().for_each(|r| stats.add(r));
        stats
    }

    fn row<'r>(report: &'r Report, name: &str) -> &'r Row {
        report
            .rows
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no row {name} in {:?}", report.rows))
    }

    #[test]
    fn calls_and_errors_per_errno() {
        let stats = fed(&[
            call(OPENAT, 3, None),
            call(OPENAT, -ENOENT, None),
            call(OPENAT, -ENOENT, None),
            call(OPENAT, -EACCES, None),
            call(READ, 4096, None),
            // Not errors: -4096 is outside the errno range, and so are large "negative"
            // values such as addresses.
            call(READ, -4096, None),
            call(READ, i64::MIN, None),
            call(READ, -4095, None),
        ]);
        let openat = stats.counts(OPENAT).unwrap();
        assert_eq!((openat.calls, openat.errors), (4, 3));
        assert_eq!(
            openat.errors_by_errno,
            BTreeMap::from([(ENOENT, 2), (EACCES, 1)])
        );
        let read = stats.counts(READ).unwrap();
        assert_eq!((read.calls, read.errors), (4, 1));
        assert_eq!(read.errors_by_errno, BTreeMap::from([(4095, 1)]));
        assert!(!stats.has_times());
        assert_eq!(stats.lost(), 0);
    }

    #[test]
    fn calls_that_never_return_are_calls_without_errors() {
        // The return value of a call that never returned is meaningless, whatever it holds.
        let stats = fed(&[no_return(EXIT_GROUP, -1), no_return(EXIT_GROUP, 0)]);
        let exit = stats.counts(EXIT_GROUP).unwrap();
        assert_eq!((exit.calls, exit.errors, exit.timed_calls), (2, 0, 0));
    }

    #[test]
    fn rt_sigreturn_is_named_merged_and_never_an_error() {
        let stats = fed(&[call(NO_SYSCALL, -4, None), call(15, 0, None)]);
        let report = Report::new(&stats, Arch::X86_64, true, None);
        let row = row(&report, "rt_sigreturn");
        assert_eq!(row.nr, 15);
        assert_eq!((row.counts.calls, row.counts.errors), (2, 0));
        assert_eq!(report.rows.len(), 1);
    }

    #[test]
    fn durations_add_up_and_untimed_calls_do_not_dilute_them() {
        let stats = fed(&[
            call(READ, 1, Some(3_000)),
            call(READ, 1, Some(5_000)),
            call(OPENAT, 3, Some(2_000)),
            no_return(EXIT_GROUP, 0),
        ]);
        assert!(stats.has_times());
        let report = Report::new(&stats, Arch::X86_64, true, None);
        // by time by default when timed
        let names: Vec<&str> = report.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["read", "openat", "exit_group"]);
        let read = row(&report, "read");
        assert_eq!(read.counts.time_ns, 8_000);
        assert_eq!(read.counts.usecs_per_call(), 4.0);
        assert_eq!(read.counts.percent_of(report.total.time_ns), 80.0);
        assert_eq!(row(&report, "exit_group").counts.usecs_per_call(), 0.0);
        assert_eq!(report.total.calls, 4);
        assert_eq!(report.total.timed_calls, 3);
        assert_eq!(report.total.time_ns, 10_000);
    }

    #[test]
    fn loss_markers_are_counted_and_task_events_ignored() {
        let mut stats = fed(&[lost(3), call(READ, 1, None), lost(4)]);
        stats.add(&Record::Task(crate::format::TaskEvent {
            cpu: 0,
            seq: 9,
            ts_ns: 3_000,
            pid: 10,
            tid: 10,
            kind: crate::format::TaskEventKind::Exit { code: 0 },
        }));
        assert_eq!(stats.lost(), 7);
        assert_eq!(stats.counts(READ).unwrap().calls, 1);
        assert_eq!(stats.by_nr.len(), 1);
    }

    #[test]
    fn sort_orders() {
        let stats = fed(&[
            call(READ, 1, None),
            call(READ, 1, None),
            call(READ, 1, None),
            call(OPENAT, -ENOENT, None),
            call(OPENAT, -ENOENT, None),
            call(39, 7, None), // getpid
        ]);
        let order = |sort| {
            Report::new(&stats, Arch::X86_64, true, sort)
                .rows
                .iter()
                .map(|r| r.name.clone())
                .collect::<Vec<_>>()
        };
        // untimed: by calls
        assert_eq!(order(None), ["read", "openat", "getpid"]);
        assert_eq!(order(Some(SortKey::Errors)), ["openat", "read", "getpid"]);
        assert_eq!(order(Some(SortKey::Name)), ["getpid", "openat", "read"]);
        // no times: sorting by time falls back on calls
        assert_eq!(order(Some(SortKey::Time)), order(Some(SortKey::Calls)));
    }

    #[test]
    fn text_without_times_has_counts_total_and_notes() {
        let stats = fed(&[call(OPENAT, 3, None), call(OPENAT, -ENOENT, None), lost(2)]);
        let mut text = String::new();
        Report::new(&stats, Arch::X86_64, false, None).text(true, &mut text);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "    calls    errors syscall");
        assert_eq!(lines[2], "        2         1 openat");
        assert_eq!(lines[4], "        2         1 total");
        assert!(
            text.contains("        1 ENOENT           openat\n"),
            "{text}"
        );
        assert!(!text.contains("% time"), "{text}");
        // The notes are apart from the table, for stderr.
        assert_eq!(lines.len(), 9, "{text}");
        let report = Report::new(&stats, Arch::X86_64, false, None);
        let notes = report.notes();
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("record -T"), "{notes:?}");
        assert_eq!(
            notes[1],
            "2 records were lost while recording: the statistics undercount"
        );
        assert!(notes[2].contains("no end chunk"), "{notes:?}");
    }

    #[test]
    fn text_with_times_has_strace_columns() {
        let stats = fed(&[
            call(READ, 1, Some(1_500_000)),
            call(OPENAT, 3, Some(500_000)),
        ]);
        let mut text = String::new();
        Report::new(&stats, Arch::X86_64, true, None).text(false, &mut text);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "% time     seconds  usecs/call     calls    errors syscall"
        );
        assert_eq!(
            lines[2],
            " 75.00    0.001500        1500         1           read"
        );
        assert_eq!(
            lines[5],
            "100.00    0.002000        1000         2           total"
        );
        assert_eq!(lines.len(), 6, "{text}");
        let report = Report::new(&stats, Arch::X86_64, true, None);
        assert!(
            report.notes().is_empty(),
            "no notes for a complete timed recording"
        );
    }

    #[test]
    fn json_has_errors_by_name_and_times_only_when_measured() {
        let stats = fed(&[call(OPENAT, -ENOENT, None), call(OPENAT, 3, None), lost(1)]);
        let json = Report::new(&stats, Arch::X86_64, true, None).json();
        let openat = &json["syscalls"][0];
        assert_eq!(openat["syscall"], "openat");
        assert_eq!(openat["nr"], OPENAT);
        assert_eq!(openat["calls"], 2);
        assert_eq!(openat["errors"], 1);
        assert_eq!(openat["errors_by_name"], json!({"ENOENT": 1}));
        assert!(openat.get("seconds").is_none());
        assert_eq!(json["total"]["calls"], 2);
        assert_eq!(json["lost"], 1);
        assert_eq!(json["complete"], true);

        let timed = fed(&[call(READ, 1, Some(2_000))]);
        let json = Report::new(&timed, Arch::X86_64, false, None).json();
        assert_eq!(json["syscalls"][0]["seconds"], 2e-6);
        assert_eq!(json["syscalls"][0]["usecs_per_call"], 2.0);
        assert_eq!(json["total"]["percent_time"], 100.0);
        assert_eq!(json["complete"], false);
    }

    #[test]
    fn names_follow_the_recorded_architecture() {
        // 56 is openat on aarch64 and clone on x86_64.
        let stats = fed(&[call(56, 3, None)]);
        let aarch64 = Report::new(&stats, Arch::Aarch64, true, None);
        assert_eq!(aarch64.rows[0].name, "openat");
        let x86 = Report::new(&stats, Arch::X86_64, true, None);
        assert_eq!(x86.rows[0].name, "clone");
    }

    fn header() -> Header {
        Header {
            arch: Arch::X86_64,
            kernel_release: "6.1.0-test".into(),
            hostname: "h".into(),
            start_wall_ns: 0,
            start_boot_ns: 0,
            snap_len: 256,
            command: vec![],
            target: "command".into(),
            filter: None,
            syscord_version: "0".into(),
            cpus: 1,
            part: 0,
            captures: Default::default(),
            ring_publish: String::new(),
            exec_argv: String::new(),
        }
    }

    /// A recording of `records`, ended by `summary` (or cut short before its end chunk).
    fn write_file(name: &str, records: &[Record], summary: Option<&Summary>) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "syscord-stats-unit-{name}-{}.rec",
            std::process::id()
        ));
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = Writer::new(file, &header()).unwrap();
        writer
            .write_kernel(&kernel_records::chunk_of(records))
            .unwrap();
        if let Some(summary) = summary {
            writer.finish(summary).unwrap();
        }
        path
    }

    #[test]
    fn losses_without_sequence_numbers_and_skipped_runs_come_from_the_summary() {
        let summary = Summary {
            busy_lost: 2,
            skipped_runs: 5,
            ..Default::default()
        };
        let path = write_file("preempted", &[call(OPENAT, 3, None)], Some(&summary));
        let options = StatsOptions {
            format: StatsFormat::Json,
            sort: None,
            by_errno: false,
            threads: false,
        };
        let mut out = Vec::new();
        let outcome = stats(&path, options, &mut out).unwrap();
        let json: Value = serde_json::from_slice(&out).unwrap();
        // No gap: the 2 a held ring dropped are the summary's.
        assert_eq!(json["lost"], 2);
        assert_eq!(json["skipped_runs"], 5);
        assert!(
            outcome
                .notes
                .iter()
                .any(|n| n.contains("skipped the recorder's programs 5 times")),
            "{:?}",
            outcome.notes
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_file_is_read_whole_and_a_cut_one_up_to_its_damage() {
        let records = [call(OPENAT, -ENOENT, None), no_return(EXIT_GROUP, 0)];
        let options = StatsOptions {
            format: StatsFormat::Json,
            sort: None,
            by_errno: false,
            threads: true,
        };
        let whole = write_file("whole", &records, Some(&Summary::default()));
        let mut out = Vec::new();
        let outcome = stats(&whole, options, &mut out).unwrap();
        assert!(
            !outcome.notes.iter().any(|n| n.contains("no end chunk")),
            "{:?}",
            outcome.notes
        );
        let json: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json["total"]["calls"], 2);
        assert_eq!(json["complete"], true);
        // Per thread: the one thread made both calls.
        assert_eq!(json["threads"][0]["tid"], 10);
        assert_eq!(json["threads"][0]["total"]["calls"], 2);
        assert_eq!(json["threads"].as_array().unwrap().len(), 1);

        // Without its end chunk: statistics, and the caller is told the tail is missing.
        let unfinished = write_file("unfinished", &records, None);
        let mut out = Vec::new();
        let outcome = stats(&unfinished, options, &mut out).unwrap();
        assert!(
            outcome.notes.iter().any(|n| n.contains("no end chunk")),
            "{:?}",
            outcome.notes
        );
        let json: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json["total"]["calls"], 2);
        assert_eq!(json["complete"], false);

        // Cut inside the end chunk: the statistics are written, then the damage reported.
        let bytes = std::fs::read(&whole).unwrap();
        std::fs::write(&whole, &bytes[..bytes.len() - 3]).unwrap();
        let mut out = Vec::new();
        let err = stats(&whole, options, &mut out).unwrap_err();
        assert!(matches!(err, ReadError::Format(FormatError::Truncated(_))));
        let json: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json["total"]["calls"], 2);

        // Not a recording at all: an error and nothing written.
        std::fs::write(&whole, b"#!/bin/sh\necho hello\n").unwrap();
        let mut out = Vec::new();
        let err = stats(&whole, options, &mut out).unwrap_err();
        assert!(matches!(err, ReadError::Format(FormatError::NotARecording)));
        assert!(out.is_empty());

        let _ = std::fs::remove_file(&whole);
        let _ = std::fs::remove_file(&unfinished);
    }
}
