//! `syscord dump`: the recording as text (one strace-like line per syscall) or JSON lines.

use std::{
    fmt::Write as _,
    io::{self, Read, Write},
    path::Path,
};

use serde_json::json;
use syscord_handlers::{
    decode::{self, Call, Captured, Decoder},
    siginfo::{self, SiValue},
    values,
};

use crate::{
    format::{
        BuildId, Chunk, ExecImage, Header, Reader, Record, SignalAction, Summary, TaskEvent,
        TaskEventKind,
    },
    parts::{Chunks, ReadError, Recording},
    reorder::Reorder,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DumpFormat {
    Text,
    Json,
}

/// How the dump went, for the messages after it.
#[derive(Debug, Default)]
pub struct DumpReport {
    pub items: u64,
    pub summary: Option<Summary>,
    /// Why the recording is incomplete (its tail is missing), if it is.
    pub(crate) missing_tail: Option<String>,
    /// What the reader should know about the files read (parts removed by --keep).
    pub(crate) notes: Vec<String>,
}

impl DumpReport {
    /// What to tell besides the records: the notes, a missing tail, losses.
    pub fn messages(&self) -> Vec<String> {
        let mut messages: Vec<String> = self
            .notes
            .iter()
            .chain(&self.missing_tail)
            .cloned()
            .collect();
        if let Some(summary) = &self.summary
            && summary.lost_records() > 0
        {
            messages.push(format!(
                "{} records were lost while recording",
                summary.lost_records()
            ));
        }
        if let Some(summary) = &self.summary
            && summary.skipped_runs > 0
        {
            messages.push(format!(
                "the kernel skipped the recorder's programs {} times while one was preempted: \
                 syscalls of any process, recorded ones among them, may be missing",
                summary.skipped_runs
            ));
        }
        messages
    }
}

/// Streams the recording at `path` to `out`, one chunk in memory at a time.
pub fn dump<W: Write>(
    path: &Path,
    format: DumpFormat,
    out: &mut W,
) -> Result<DumpReport, ReadError> {
    let recording = Recording::open(path)?;
    let notes = recording.notes();
    let report = dump_chunks(recording, format, out)?;
    Ok(DumpReport { notes, ..report })
}

/// Streams a recording from any byte source to `out`, as [`dump`] does for a file: what
/// the fuzz target feeds arbitrary bytes to.
pub fn dump_from<R: Read, W: Write>(
    input: R,
    format: DumpFormat,
    out: &mut W,
) -> Result<DumpReport, ReadError> {
    dump_chunks(Reader::new(input)?, format, out)
}

/// Prints every record of an opened recording, then says how it ended.
fn dump_chunks<C: Chunks, W: Write>(
    mut reader: C,
    format: DumpFormat,
    out: &mut W,
) -> Result<DumpReport, ReadError> {
    let header = reader.header().clone();
    let mut sink = Sink {
        printer: Printer::new(&header, format),
        out,
        line: String::new(),
        items: 0,
        error: None,
    };
    let mut reorder = Reorder::default();
    let mut read_error = None;
    while sink.error.is_none() {
        match reader.next_chunk() {
            Ok(Some(Chunk::Records(records))) => {
                for record in records {
                    reorder.push(record, &mut |record| sink.emit(&record));
                }
            }
            Ok(Some(Chunk::End(_))) => {}
            Ok(None) => break,
            Err(e) => {
                // Show everything before the damage, then report it.
                read_error = Some(e);
                break;
            }
        }
    }
    reorder.finish(&mut |record| sink.emit(&record));
    if let Some(e) = sink.error {
        return Err(ReadError::Output(e));
    }
    sink.out.flush().map_err(ReadError::Output)?;
    if let Some(e) = read_error {
        return Err(e.into());
    }
    let mut report = DumpReport {
        items: sink.items,
        ..Default::default()
    };
    report.summary = reader.summary().cloned();
    report.missing_tail = reader.missing_tail();
    Ok(report)
}

/// Formats items and writes them, remembering the first write error.
struct Sink<'h, W: Write> {
    printer: Printer<'h>,
    out: &'h mut W,
    line: String,
    items: u64,
    error: Option<io::Error>,
}

impl<W: Write> Sink<'_, W> {
    fn emit(&mut self, item: &Record) {
        if self.error.is_some() {
            return;
        }
        self.line.clear();
        self.printer.format(item, &mut self.line);
        if self.line.is_empty() {
            return;
        }
        self.line.push('\n');
        if let Err(e) = self.out.write_all(self.line.as_bytes()) {
            self.error = Some(e);
        }
        self.items += 1;
    }
}

struct Printer<'h> {
    header: &'h Header,
    decoder: Decoder,
    format: DumpFormat,
}

impl<'h> Printer<'h> {
    fn new(header: &'h Header, format: DumpFormat) -> Self {
        Printer {
            header,
            decoder: Decoder::new(header.arch).expect("the built-in handlers are consistent"),
            format,
        }
    }

    fn name(&self, nr: u32) -> String {
        self.decoder.name(nr)
    }

    fn format(&self, item: &Record, out: &mut String) {
        match self.format {
            DumpFormat::Text => self.text(item, out),
            DumpFormat::Json => self.json(item, out),
        }
    }

    fn text(&self, item: &Record, out: &mut String) {
        let secs = |ts: u64| ts.saturating_sub(self.header.start_boot_ns) as f64 / 1e9;
        match item {
            Record::Lost {
                cpu,
                first_seq,
                count,
                ts_ns,
            } => {
                let _ = write!(
                    out,
                    "{:>12.6} --- {count} records lost on CPU {cpu} (sequence {first_seq}..{}) ---",
                    secs(*ts_ns),
                    first_seq + count - 1
                );
            }
            Record::Task(TaskEvent {
                ts_ns,
                pid,
                tid,
                kind: TaskEventKind::Exit { code },
                ..
            }) => {
                let _ = write!(
                    out,
                    "{:>12.6} {pid}/{tid} +++ {} +++",
                    secs(*ts_ns),
                    describe_wait_status(*code)
                );
            }
            Record::Task(TaskEvent {
                ts_ns,
                pid,
                tid,
                kind:
                    TaskEventKind::SignalDelivered {
                        signo,
                        group_exit: true,
                        ..
                    },
                ..
            }) => {
                let _ = write!(
                    out,
                    "{:>12.6} {pid}/{tid} --- {} --- the process exits",
                    secs(*ts_ns),
                    signal_text(*signo),
                );
            }
            Record::Task(TaskEvent {
                ts_ns,
                pid,
                tid,
                kind:
                    TaskEventKind::SignalDelivered {
                        signo,
                        siginfo,
                        action,
                        ..
                    },
                ..
            }) => {
                // strace's line, then what the thread does with it.
                let _ = write!(
                    out,
                    "{:>12.6} {pid}/{tid} --- {} {} --- ",
                    secs(*ts_ns),
                    signal_text(*signo),
                    siginfo::text(self.header.arch, siginfo),
                );
                let _ = match action {
                    SignalAction::Handler(address) => write!(out, "handler {address:#x}"),
                    SignalAction::Ignore => write!(out, "ignored"),
                    SignalAction::Default => {
                        write!(
                            out,
                            "default: {}",
                            values::default_action(u64::from(*signo))
                        )
                    }
                };
            }
            Record::Task(TaskEvent {
                ts_ns,
                pid,
                tid,
                kind:
                    TaskEventKind::SignalSent {
                        signo,
                        sender_pid,
                        sender_tid,
                        sender_comm,
                        to_process,
                        result,
                        ..
                    },
                ..
            }) => {
                let _ = write!(
                    out,
                    "{:>12.6} {pid}/{tid} --- {} sent by {sender_pid}/{sender_tid} {}{}: {} ---",
                    secs(*ts_ns),
                    signal_text(*signo),
                    escape(sender_comm),
                    if *to_process { " to the process" } else { "" },
                    result.name(),
                );
            }
            // Like strace, the text shows syscalls, signals and ends; the JSON shows
            // everything.
            Record::Task(_) => {}
            Record::Syscall(event) => {
                let _ = write!(
                    out,
                    "{:>12.6} {}/{} {} ",
                    secs(event.ts_ns),
                    event.pid,
                    event.tid,
                    escape(&event.comm),
                );
                let captures: Vec<Captured<'_>> = event
                    .captures
                    .iter()
                    .filter_map(|c| {
                        Some(Captured {
                            id: c.id?,
                            len: c.len,
                            truncated: c.truncated,
                            bytes: &c.bytes,
                        })
                    })
                    .collect();
                self.decoder.format(
                    &Call {
                        nr: event.nr,
                        args: event.args,
                        ret: event.returned.then_some(event.ret),
                        captures: &captures,
                    },
                    out,
                );
                // As strace -T: the time spent in the call, in seconds.
                if let Some(ns) = event.duration_ns {
                    let _ = write!(
                        out,
                        " <{}.{:06}>",
                        ns / 1_000_000_000,
                        ns % 1_000_000_000 / 1_000
                    );
                }
            }
        }
    }

    fn json(&self, item: &Record, out: &mut String) {
        let value = match item {
            Record::Task(e) => {
                let mut v = json!({
                    "event": match e.kind {
                        TaskEventKind::Exit { .. } => "exit",
                        TaskEventKind::Fork { .. } => "fork",
                        TaskEventKind::Exec { .. } => "exec",
                        TaskEventKind::ExecImage(_) => "exec_image",
                        TaskEventKind::Rename { .. } => "rename",
                        TaskEventKind::SignalDelivered { .. } => "signal",
                        TaskEventKind::SignalSent { .. } => "signal_sent",
                    },
                    "seq": e.seq,
                    "ts_ns": self.header.wall_ns(e.ts_ns),
                    "cpu": e.cpu,
                    "pid": e.pid,
                    "tid": e.tid,
                });
                match &e.kind {
                    TaskEventKind::Exit { code } => {
                        v["exit"] = json!(describe_wait_status(*code));
                        v["status"] = json!(code);
                    }
                    TaskEventKind::Fork {
                        child_tid,
                        child_pid,
                    } => {
                        v["child_tid"] = json!(child_tid);
                        v["child_pid"] = json!(child_pid);
                    }
                    TaskEventKind::Exec { old_tid } => v["old_tid"] = json!(old_tid),
                    TaskEventKind::ExecImage(image) => exec_image_json(&mut v, image),
                    TaskEventKind::Rename { comm } => {
                        v["comm"] = json!(String::from_utf8_lossy(comm))
                    }
                    TaskEventKind::SignalDelivered {
                        signo,
                        siginfo,
                        action,
                        sa_flags,
                        group_exit,
                    } => {
                        self.signal_json(&mut v, *signo, siginfo);
                        v["group_exit"] = json!(group_exit);
                        let (kind, handler) = match action {
                            SignalAction::Default => ("default", None),
                            SignalAction::Ignore => ("ignore", None),
                            SignalAction::Handler(address) => ("handler", Some(*address)),
                        };
                        v["action"] = json!(kind);
                        if let Some(address) = handler {
                            v["handler"] = json!(address);
                        }
                        if *action == SignalAction::Default {
                            v["default_action"] = json!(values::default_action(u64::from(*signo)));
                        }
                        v["sa_flags"] = json!(sa_flags);
                    }
                    TaskEventKind::SignalSent {
                        signo,
                        siginfo,
                        sender_pid,
                        sender_tid,
                        sender_comm,
                        to_process,
                        result,
                    } => {
                        self.signal_json(&mut v, *signo, siginfo);
                        v["sender_pid"] = json!(sender_pid);
                        v["sender_tid"] = json!(sender_tid);
                        v["sender_comm"] = json!(String::from_utf8_lossy(sender_comm));
                        v["to_process"] = json!(to_process);
                        v["result"] = json!(result.name());
                    }
                }
                v
            }
            Record::Lost {
                cpu,
                first_seq,
                count,
                ts_ns,
            } => json!({
                "event": "lost",
                "lost": count,
                "cpu": cpu,
                "first_seq": first_seq,
                "ts_ns": self.header.wall_ns(*ts_ns),
            }),
            Record::Syscall(event) => {
                let data: Vec<_> = event
                    .captures
                    .iter()
                    .map(|c| {
                        json!({
                            "name": c.name,
                            "len": c.len,
                            "truncated": c.truncated,
                            "hex": hex(&c.bytes),
                        })
                    })
                    .collect();
                let mut v = json!({
                    "seq": event.seq,
                    "ts_ns": self.header.wall_ns(event.ts_ns),
                    "cpu": event.cpu,
                    "pid": event.pid,
                    "tid": event.tid,
                    "comm": event.comm_lossy(),
                    "syscall": self.name(event.nr),
                    "nr": event.nr,
                    "args": event.args,
                    "ret": event.returned.then_some(event.ret),
                    "ret_addr": event.ret_addr,
                    "data": data,
                });
                if let Some(ns) = event.duration_ns {
                    v["duration_ns"] = json!(ns);
                }
                v
            }
        };
        let _ = write!(out, "{value}");
    }
}

impl Printer<'_> {
    /// A signal event's signal and siginfo, its fields by name and its bytes.
    fn signal_json(&self, v: &mut serde_json::Value, signo: u32, info: &[u8]) {
        v["signal"] = json!(signal_text(signo));
        v["signo"] = json!(signo);
        let mut fields = serde_json::Map::new();
        for (name, value) in siginfo::fields(self.header.arch, info) {
            fields.insert(
                name.to_owned(),
                match value {
                    SiValue::Int(n) => json!(n),
                    SiValue::Ptr(p) => json!(p),
                    SiValue::Name(name, _) => json!(name),
                },
            );
        }
        v["siginfo"] = serde_json::Value::Object(fields);
        v["siginfo_hex"] = json!(hex(info));
    }
}

/// `SIGSEGV`, `SIGRT_3`, or the number of a signal that has no name.
fn signal_text(signo: u32) -> String {
    values::signal_name(u64::from(signo)).unwrap_or_else(|| signo.to_string())
}

/// "exited with 3", "killed by SIGSEGV (core dumped)", like strace's last line.
fn describe_wait_status(status: u32) -> String {
    let signal = status & 0x7f;
    if signal == 0 {
        format!("exited with {}", (status >> 8) & 0xff)
    } else {
        let name = nix::sys::signal::Signal::try_from(signal as i32)
            .map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_owned());
        let core = if status & 0x80 != 0 {
            " (core dumped)"
        } else {
            ""
        };
        format!("killed by {name}{core}")
    }
}

/// Bytes as a printable string: C escapes for control characters, quotes and backslashes, so
/// no byte of a recording can break a line of the dump.
pub(crate) fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// An exec image's fields in its JSON event.
fn exec_image_json(v: &mut serde_json::Value, image: &ExecImage) {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    if let Some(e) = &image.executable {
        let mut executable = json!({
            "dev_major": e.id.dev_major(),
            "dev_minor": e.id.dev_minor(),
            "ino": e.id.ino,
            "size": e.id.size,
            "mode": format!("{:o}", e.mode),
            "mtime_sec": e.id.mtime_sec,
            "mtime_nsec": e.id.mtime_nsec,
        });
        match &image.build_id {
            BuildId::Found(id) => executable["build_id"] = json!(hex(id)),
            BuildId::NoNote => executable["build_id"] = json!(null),
            BuildId::Unknown(why) => {
                executable["build_id"] = json!(null);
                executable["build_id_unknown"] = json!(why);
            }
            BuildId::NotRecorded => {}
        }
        v["executable"] = executable;
    }
    v["auxv"] = image
        .auxv
        .iter()
        .map(|&(kind, value)| {
            json!({
                "type": values::name_of(values::AUXV_TYPES, kind)
                    .map_or_else(|| kind.to_string(), str::to_owned),
                "value": value,
            })
        })
        .collect();
    if let Some(random) = &image.random {
        v["random"] = json!(hex(random));
    }
    v["platform"] = json!(text(&image.platform));
    v["execfn"] = json!(text(&image.execfn));
    v["cwd"] = json!(text(&image.cwd));
    v["cwd_whole"] = json!(image.cwd_whole);
    if let Some((env, full_len)) = &image.env {
        let strings: Vec<String> = decode::nul_separated(env).map(text).collect();
        v["env"] = json!(strings);
        v["env_truncated"] = json!((env.len() as u64) < u64::from(*full_len));
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_one_line() {
        assert_eq!(escape(b"a\nb\0c\"\\"), "a\\nb\\x00c\\\"\\\\");
        assert_eq!(escape("é".as_bytes()), "\\xc3\\xa9");
    }

    #[test]
    fn wait_statuses() {
        assert_eq!(describe_wait_status(0), "exited with 0");
        assert_eq!(describe_wait_status(3 << 8), "exited with 3");
        assert_eq!(
            describe_wait_status(11 | 0x80),
            "killed by SIGSEGV (core dumped)"
        );
        assert_eq!(describe_wait_status(9), "killed by SIGKILL");
    }
}
