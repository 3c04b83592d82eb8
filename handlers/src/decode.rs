//! Showing a recorded syscall to people, in the spirit of strace: names for flags and
//! constants, quoted strings that never break a line, decoded structs.

use std::fmt::Write as _;

use syscord_arch::{
    Arch, SyscallTable,
    abi::{Layout, Struct},
    errno_description, errno_name, is_restart,
};

use crate::{
    Capture, Handler, Ptr, Registry, RegistryError, Request, Show,
    values::{self, Value, flags_text, name_of},
};

/// A capture as read back from a recording.
#[derive(Debug, Clone, Copy)]
pub struct Captured<'a> {
    /// Which of the handler's captures this is: its index in `Handler::captures`.
    pub id: u8,
    /// Length of the original memory.
    pub len: u64,
    pub truncated: bool,
    pub bytes: &'a [u8],
}

/// A recorded syscall.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub nr: u32,
    pub args: [u64; 6],
    /// None when the syscall never returned (exit, exit_group).
    pub ret: Option<i64>,
    pub captures: &'a [Captured<'a>],
}

/// Decodes the syscalls of one architecture.
pub struct Decoder {
    arch: Arch,
    table: &'static SyscallTable,
    registry: Registry,
}

impl Decoder {
    pub fn new(arch: Arch) -> Result<Decoder, RegistryError> {
        Ok(Decoder {
            arch,
            table: SyscallTable::of(arch),
            registry: Registry::new(arch)?,
        })
    }

    pub fn arch(&self) -> Arch {
        self.arch
    }

    pub fn handler(&self, nr: u32) -> Option<&'static Handler> {
        self.registry.get(self.resolve(nr))
    }

    /// The captures of syscall `nr` in the order of their ids (its handler's, then its
    /// requests').
    pub fn captures(&self, nr: u32) -> Vec<crate::CaptureOf> {
        self.registry.captures(self.resolve(nr))
    }

    /// The syscall's name, or `syscall_N` for a number the table does not have.
    pub fn name(&self, nr: u32) -> String {
        self.table
            .name(self.resolve(nr))
            .map_or_else(|| format!("syscall_{nr}"), str::to_owned)
    }

    /// The syscall a recorded number stands for: sys_exit sees rt_sigreturn as -1, the
    /// kernel having forgotten the number so the restored registers are not restarted.
    fn resolve(&self, nr: u32) -> u32 {
        match nr {
            syscord_common::NO_SYSCALL => self.table.number("rt_sigreturn").unwrap_or(nr),
            _ => nr,
        }
    }

    /// `name(arg, ...) = result`.
    pub fn format(&self, call: &Call<'_>, out: &mut String) {
        out.push_str(&self.name(call.nr));
        out.push('(');
        match self.handler(call.nr) {
            Some(handler) => {
                let request = self.registry.request(self.resolve(call.nr), &call.args);
                for (i, a) in handler.args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if let Some((capture, got)) = self.request_capture(call, request, i) {
                        self.data(capture.show, got, out);
                    } else if a.value == Value::Request {
                        match request {
                            Some(r) => out.push_str(r.name),
                            None => {
                                let _ = write!(out, "{:#x}", call.args[i]);
                            }
                        }
                    } else {
                        self.value(handler, call, a.value, call.args[i], out);
                    }
                }
            }
            None => {
                for (i, &a) in call.args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{a:#x}");
                }
            }
        }
        out.push_str(") = ");
        self.result(call, out);
    }

    /// The return value: `3`, `-1 ENOENT (No such file or directory)`, `?`,
    /// `? ERESTARTSYS (To be restarted if SA_RESTART is set)`.
    pub fn result(&self, call: &Call<'_>, out: &mut String) {
        let Some(ret) = call.ret else {
            out.push('?');
            return;
        };
        if (-4095..0).contains(&ret) {
            let errno = -ret;
            // A call a signal interrupted, to be restarted or to fail with EINTR once the
            // signal is handled: the program never sees this value, as strace's `?` says.
            let shown = if is_restart(errno) { "?" } else { "-1" };
            let _ = match (errno_name(errno), errno_description(errno)) {
                (Some(name), Some(desc)) => write!(out, "{shown} {name} ({desc})"),
                (Some(name), None) => write!(out, "{shown} {name}"),
                _ => write!(out, "{shown} errno {errno}"),
            };
            return;
        }
        let shown = self.handler(call.nr).map_or(Value::Long, |h| h.ret);
        match shown {
            Value::Data(_) => {
                let _ = write!(out, "{ret}");
            }
            other => self.scalar(other, ret as u64, out),
        }
    }

    /// What `request` captured of argument `arg`, if it captures it and the call has it.
    fn request_capture<'c>(
        &self,
        call: &'c Call<'c>,
        request: Option<&'static Request>,
        arg: usize,
    ) -> Option<(&'static Capture, &'c Captured<'c>)> {
        let request = request?;
        let (id, of) = self
            .registry
            .captures(self.resolve(call.nr))
            .into_iter()
            .enumerate()
            .find(|(_, c)| {
                c.request.is_some_and(|r| std::ptr::eq(r, request))
                    && c.capture.ptr == Ptr::Arg(arg as u8)
            })?;
        let got = call.captures.iter().find(|got| usize::from(got.id) == id)?;
        Some((of.capture, got))
    }

    fn value(&self, handler: &Handler, call: &Call<'_>, value: Value, raw: u64, out: &mut String) {
        match value {
            Value::Data(n) => {
                let capture = handler.captures.get(n as usize).and_then(|c| {
                    call.captures
                        .iter()
                        .find(|got| got.id == n)
                        .map(|got| (c, got))
                });
                match capture {
                    Some((spec, got)) => self.data(spec.show, got, out),
                    None => pointer(raw, out),
                }
            }
            other => self.scalar(other, raw, out),
        }
    }

    fn scalar(&self, value: Value, raw: u64, out: &mut String) {
        let _ = match value {
            Value::Int => write!(out, "{}", raw as u32 as i32),
            Value::UInt => write!(out, "{}", raw as u32),
            Value::Long => write!(out, "{}", raw as i64),
            Value::ULong => write!(out, "{raw}"),
            Value::Hex => write!(out, "{raw:#x}"),
            Value::Ptr | Value::Data(_) => {
                pointer(raw, out);
                Ok(())
            }
            Value::Request => write!(out, "{raw:#x}"),
            Value::Fd => write!(out, "{}", raw as u32 as i32),
            Value::DirFd => {
                let fd = raw as u32 as i32;
                if i64::from(fd) == values::AT_FDCWD {
                    write!(out, "AT_FDCWD")
                } else {
                    write!(out, "{fd}")
                }
            }
            Value::Mode if raw as u32 == 0 => write!(out, "0"),
            Value::Mode => write!(out, "0{:o}", raw as u32),
            Value::Flags(names) => write!(out, "{}", flags_text(names, raw)),
            Value::Enum(names) => match name_of(names, raw) {
                Some(name) => write!(out, "{name}"),
                None => write!(out, "{}", raw as i64),
            },
            Value::OpenFlags => write!(out, "{}", self.open_flags(raw as u32)),
            Value::Op {
                commands,
                mask,
                flags,
            } => {
                let command = name_of(commands, raw & mask)
                    .map_or_else(|| (raw & mask).to_string(), str::to_owned);
                let rest = raw & !mask & 0xffff_ffff;
                if rest == 0 {
                    write!(out, "{command}")
                } else {
                    write!(out, "{command}|{}", flags_text(flags, rest))
                }
            }
            Value::Signal => match values::signal_name(raw & 0xffff_ffff) {
                Some(name) => write!(out, "{name}"),
                None if raw == 0 => write!(out, "0"),
                None => write!(out, "{}", raw as u32 as i32),
            },
        };
    }

    /// `O_RDONLY|O_CLOEXEC`.
    pub fn open_flags(&self, flags: u32) -> String {
        let mode = match flags & 3 {
            0 => "O_RDONLY",
            1 => "O_WRONLY",
            2 => "O_RDWR",
            _ => "O_ACCMODE",
        };
        let mut names: Vec<(u64, &'static str)> = values::OPEN_FLAGS_COMMON.to_vec();
        names.extend_from_slice(self.arch.open_flags_specific());
        let rest = u64::from(flags & !3);
        if rest == 0 {
            mode.to_owned()
        } else {
            format!("{mode}|{}", flags_text(&names, rest))
        }
    }

    fn data(&self, show: Show, got: &Captured<'_>, out: &mut String) {
        match show {
            Show::Text => {
                quote(got.bytes, out);
                if got.truncated {
                    out.push_str("...");
                }
            }
            Show::Str => {
                let end = got
                    .bytes
                    .iter()
                    .position(|&b| b == 0)
                    .unwrap_or(got.bytes.len());
                quote(&got.bytes[..end], out);
                if got.truncated {
                    out.push_str("...");
                }
            }
            Show::StrList => {
                out.push('[');
                let mut first = true;
                for s in nul_separated(got.bytes) {
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    quote(s, out);
                }
                if got.truncated {
                    out.push_str(", ...");
                }
                out.push(']');
            }
            Show::Hex => {
                quote_hex(got.bytes, out);
                if got.truncated {
                    out.push_str("...");
                }
            }
            Show::Sockaddr => sockaddr(got.bytes, out),
            Show::Struct(s) => self.structs(s, got, out),
        }
    }

    /// One struct, or an array of them when the capture holds several.
    fn structs(&self, s: Struct, got: &Captured<'_>, out: &mut String) {
        let size = s.size(self.arch) as usize;
        let count = got.bytes.len() / size.max(1);
        if size == 0 || count == 0 {
            out.push_str("{...}");
            return;
        }
        let array = got.len as usize > size || count > 1;
        if array {
            out.push('[');
        }
        for i in 0..count {
            if i > 0 {
                out.push_str(", ");
            }
            self.one_struct(s, &got.bytes[i * size..(i + 1) * size], out);
        }
        if array {
            if got.truncated {
                out.push_str(", ...");
            }
            out.push(']');
        }
    }

    fn one_struct(&self, s: Struct, b: &[u8], out: &mut String) {
        let f = Fields {
            bytes: b,
            layout: s.layout(self.arch),
        };
        let ts = |sec: &str, frac: &str| timespec(f.int(sec), f.int(frac));
        let tv =
            |sec: &str, usec: &str| format!("{{tv_sec={}, tv_usec={}}}", f.int(sec), f.int(usec));
        let _ = match s {
            Struct::Stat => write!(
                out,
                "{{st_dev={}, st_ino={}, st_mode={}, st_nlink={}, st_uid={}, st_gid={}, \
                 st_size={}, st_blocks={}, st_mtime={}}}",
                f.uint("st_dev"),
                f.uint("st_ino"),
                file_mode(f.uint("st_mode") as u32),
                f.uint("st_nlink"),
                f.uint("st_uid"),
                f.uint("st_gid"),
                f.int("st_size"),
                f.int("st_blocks"),
                ts("st_mtime", "st_mtime_nsec"),
            ),
            Struct::Statx => write!(
                out,
                "{{stx_mask={:#x}, stx_blksize={}, stx_nlink={}, stx_uid={}, stx_gid={}, \
                 stx_mode={}, stx_ino={}, stx_size={}, stx_blocks={}, stx_mtime={}}}",
                f.uint("stx_mask"),
                f.uint("stx_blksize"),
                f.uint("stx_nlink"),
                f.uint("stx_uid"),
                f.uint("stx_gid"),
                file_mode(f.uint("stx_mode") as u32),
                f.uint("stx_ino"),
                f.uint("stx_size"),
                f.uint("stx_blocks"),
                timespec(
                    f.int("stx_mtime.tv_sec"),
                    f.uint("stx_mtime.tv_nsec") as i64
                ),
            ),
            Struct::Statfs => write!(
                out,
                "{{f_type={:#x}, f_bsize={}, f_blocks={}, f_bfree={}, f_bavail={}, f_files={}, \
                 f_ffree={}, f_namelen={}}}",
                f.uint("f_type"),
                f.int("f_bsize"),
                f.uint("f_blocks"),
                f.uint("f_bfree"),
                f.uint("f_bavail"),
                f.uint("f_files"),
                f.uint("f_ffree"),
                f.int("f_namelen"),
            ),
            Struct::Timespec => write!(out, "{}", ts("tv_sec", "tv_nsec")),
            Struct::Timeval => write!(out, "{}", tv("tv_sec", "tv_usec")),
            Struct::Timezone => write!(
                out,
                "{{tz_minuteswest={}, tz_dsttime={}}}",
                f.int("tz_minuteswest"),
                f.int("tz_dsttime")
            ),
            Struct::Itimerspec => write!(
                out,
                "{{it_interval={}, it_value={}}}",
                ts("it_interval.tv_sec", "it_interval.tv_nsec"),
                ts("it_value.tv_sec", "it_value.tv_nsec")
            ),
            Struct::Itimerval => write!(
                out,
                "{{it_interval={}, it_value={}}}",
                tv("it_interval.tv_sec", "it_interval.tv_usec"),
                tv("it_value.tv_sec", "it_value.tv_usec")
            ),
            Struct::Utsname => {
                let field = |name: &str| {
                    let s = f.bytes_of(name);
                    let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
                    let mut q = String::new();
                    quote(&s[..end], &mut q);
                    q
                };
                write!(
                    out,
                    "{{sysname={}, nodename={}, release={}, version={}, machine={}}}",
                    field("sysname"),
                    field("nodename"),
                    field("release"),
                    field("version"),
                    field("machine")
                )
            }
            Struct::Rlimit => write!(
                out,
                "{{rlim_cur={}, rlim_max={}}}",
                rlim(f.uint("rlim_cur")),
                rlim(f.uint("rlim_max"))
            ),
            Struct::Rusage => write!(
                out,
                "{{ru_utime={}, ru_stime={}, ru_maxrss={}, ru_minflt={}, ru_majflt={}, \
                 ru_nvcsw={}, ru_nivcsw={}}}",
                tv("ru_utime.tv_sec", "ru_utime.tv_usec"),
                tv("ru_stime.tv_sec", "ru_stime.tv_usec"),
                f.int("ru_maxrss"),
                f.int("ru_minflt"),
                f.int("ru_majflt"),
                f.int("ru_nvcsw"),
                f.int("ru_nivcsw"),
            ),
            Struct::Sysinfo => write!(
                out,
                "{{uptime={}, loads=[{}, {}, {}], totalram={}, freeram={}, procs={}, \
                 mem_unit={}}}",
                f.int("uptime"),
                f.uint("loads[0]"),
                f.uint("loads[1]"),
                f.uint("loads[2]"),
                f.uint("totalram"),
                f.uint("freeram"),
                f.uint("procs"),
                f.uint("mem_unit"),
            ),
            Struct::Tms => write!(
                out,
                "{{tms_utime={}, tms_stime={}, tms_cutime={}, tms_cstime={}}}",
                f.int("tms_utime"),
                f.int("tms_stime"),
                f.int("tms_cutime"),
                f.int("tms_cstime")
            ),
            Struct::EpollEvent => write!(
                out,
                "{{events={}, data={:#x}}}",
                flags_text(values::EPOLL_EVENTS, f.uint("events")),
                f.uint("data")
            ),
            Struct::Pollfd => write!(
                out,
                "{{fd={}, events={}, revents={}}}",
                f.int("fd"),
                flags_text(values::POLL_EVENTS, f.uint("events")),
                flags_text(values::POLL_EVENTS, f.uint("revents"))
            ),
            Struct::Sigset => write!(out, "{}", sigset(f.whole())),
            Struct::Siginfo => write!(out, "{}", crate::siginfo::text(self.arch, b)),
            Struct::Sigaction => {
                let handler = match f.uint("sa_handler") {
                    0 => "SIG_DFL".to_owned(),
                    1 => "SIG_IGN".to_owned(),
                    h => format!("{h:#x}"),
                };
                write!(
                    out,
                    "{{sa_handler={handler}, sa_mask={}, sa_flags={:#x}}}",
                    sigset(f.uint("sa_mask")),
                    f.uint("sa_flags")
                )
            }
            Struct::Stack => write!(
                out,
                "{{ss_sp={:#x}, ss_flags={}, ss_size={}}}",
                f.uint("ss_sp"),
                f.int("ss_flags"),
                f.uint("ss_size")
            ),
            Struct::SchedParam => write!(out, "{{sched_priority={}}}", f.int("sched_priority")),
            Struct::Int => write!(out, "[{}]", f.whole() as i32),
            Struct::IntPair => write!(
                out,
                "[{}, {}]",
                f.whole() as u32 as i32,
                (f.whole() >> 32) as u32 as i32
            ),
            Struct::Long => write!(out, "[{}]", f.whole() as i64),
            Struct::OpenHow => write!(
                out,
                "{{flags={}, mode=0{:o}, resolve={:#x}}}",
                self.open_flags(f.uint("flags") as u32),
                f.uint("mode"),
                f.uint("resolve")
            ),
            Struct::CloneArgs => write!(
                out,
                "{{flags={}, exit_signal={}, stack={:#x}, stack_size={:#x}, tls={:#x}}}",
                flags_text(values::CLONE_FLAGS, f.uint("flags")),
                name_of(values::SIGNALS, f.uint("exit_signal")).unwrap_or("0"),
                f.uint("stack"),
                f.uint("stack_size"),
                f.uint("tls")
            ),
            Struct::CapData => {
                let both = |set: &str| {
                    f.uint(&format!("d[0].{set}")) | (f.uint(&format!("d[1].{set}")) << 32)
                };
                write!(
                    out,
                    "{{effective={:#x}, permitted={:#x}, inheritable={:#x}}}",
                    both("effective"),
                    both("permitted"),
                    both("inheritable")
                )
            }
            Struct::MqAttr => write!(
                out,
                "{{mq_flags={}, mq_maxmsg={}, mq_msgsize={}, mq_curmsgs={}}}",
                f.int("mq_flags"),
                f.int("mq_maxmsg"),
                f.int("mq_msgsize"),
                f.int("mq_curmsgs")
            ),
            Struct::IoEvent => write!(
                out,
                "{{data={:#x}, obj={:#x}, res={}, res2={}}}",
                f.uint("data"),
                f.uint("obj"),
                f.int("res"),
                f.int("res2")
            ),
            Struct::Cachestat => write!(
                out,
                "{{nr_cache={}, nr_dirty={}, nr_writeback={}, nr_evicted={}, \
                 nr_recently_evicted={}}}",
                f.uint("nr_cache"),
                f.uint("nr_dirty"),
                f.uint("nr_writeback"),
                f.uint("nr_evicted"),
                f.uint("nr_recently_evicted")
            ),
            Struct::Termios => {
                let _ = write!(
                    out,
                    "{{c_iflag={:#x}, c_oflag={:#x}, c_cflag={:#x}, c_lflag={:#x}, c_line={}, c_cc=",
                    f.uint("c_iflag"),
                    f.uint("c_oflag"),
                    f.uint("c_cflag"),
                    f.uint("c_lflag"),
                    f.uint("c_line"),
                );
                // Control characters: bytes, shown as strace -xx shows binary data.
                quote_hex(f.bytes_of("c_cc"), out);
                out.push('}');
                Ok(())
            }
            Struct::Winsize => write!(
                out,
                "{{ws_row={}, ws_col={}, ws_xpixel={}, ws_ypixel={}}}",
                f.uint("ws_row"),
                f.uint("ws_col"),
                f.uint("ws_xpixel"),
                f.uint("ws_ypixel")
            ),
            Struct::Flock => write!(
                out,
                "{{l_type={}, l_whence={}, l_start={}, l_len={}, l_pid={}}}",
                f.named("l_type", values::LOCK_TYPES),
                f.named("l_whence", values::SEEK_WHENCE),
                f.int("l_start"),
                f.int("l_len"),
                f.int("l_pid")
            ),
            Struct::FOwnerEx => write!(
                out,
                "{{type={}, pid={}}}",
                f.named("type", values::OWNER_TYPES),
                f.int("pid")
            ),
            Struct::Ifreq | Struct::IfreqFlags | Struct::IfreqMtu => {
                out.push_str("{ifr_name=");
                let name = f.bytes_of("ifr_name");
                let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                quote(&name[..end], out);
                let _ = match s {
                    Struct::IfreqFlags => write!(
                        out,
                        ", ifr_flags={}",
                        flags_text(values::IFF_FLAGS, f.uint("ifr_flags"))
                    ),
                    Struct::IfreqMtu => write!(out, ", ifr_mtu={}", f.int("ifr_mtu")),
                    _ => write!(out, ", ifr_ifindex={}", f.int("ifr_ifindex")),
                };
                out.push('}');
                Ok(())
            }
            Struct::SockaddrStorage => {
                sockaddr(b, out);
                Ok(())
            }
            // Limits, counts, times, bit masks and key serials: every field as a number,
            // as strace.
            Struct::IfDqblk | Struct::IfNextdqblk | Struct::IfDqinfo | Struct::KeyctlDhParams => {
                out.push('{');
                for (i, field) in f.layout.fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{}={}", field.name, f.uint(field.name));
                }
                out.push('}');
                Ok(())
            }
            _ => {
                out.push_str("0x");
                for byte in b {
                    let _ = write!(out, "{byte:02x}");
                }
                Ok(())
            }
        };
    }
}

/// The strings of a NUL-separated list (an argv or environment block), the last NUL
/// optional; none for an empty block.
pub fn nul_separated(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    body.split(|&b| b == 0).filter(move |_| !body.is_empty())
}

/// The fields of a captured struct, by the names its layout table gives them;
/// little-endian, missing bytes read as 0.
struct Fields<'a> {
    bytes: &'a [u8],
    layout: &'static Layout,
}

impl Fields<'_> {
    /// The field's bytes (empty if the table has no such field: a decoder bug, which the
    /// unit test that decodes every struct on every architecture catches).
    fn bytes_of(&self, name: &str) -> &[u8] {
        let field = self.layout.field(name);
        assert!(
            !cfg!(test) || field.is_some(),
            "no field {name} in the struct's table"
        );
        field
            .and_then(|f| {
                let at = f.offset as usize;
                self.bytes
                    .get(at..at + f.width as usize)
                    .or(self.bytes.get(at..))
            })
            .unwrap_or_default()
    }

    fn uint(&self, name: &str) -> u64 {
        let field = self.bytes_of(name);
        let mut v = [0u8; 8];
        let n = field.len().min(8);
        v[..n].copy_from_slice(&field[..n]);
        u64::from_le_bytes(v)
    }

    fn int(&self, name: &str) -> i64 {
        let width = self.layout.field(name).map_or(8, |f| f.width.clamp(1, 8));
        let shift = 64 - 8 * width;
        ((self.uint(name) << shift) as i64) >> shift
    }

    /// The field's name in `names`, or its number.
    fn named(&self, name: &str, names: values::Names) -> String {
        name_of(names, self.uint(name)).map_or_else(|| self.int(name).to_string(), str::to_owned)
    }

    /// A struct without fields (a sigset, an int), read as one number.
    fn whole(&self) -> u64 {
        let mut v = [0u8; 8];
        let n = self.bytes.len().min(8);
        v[..n].copy_from_slice(&self.bytes[..n]);
        u64::from_le_bytes(v)
    }
}

fn pointer(raw: u64, out: &mut String) {
    if raw == 0 {
        out.push_str("NULL");
    } else {
        let _ = write!(out, "{raw:#x}");
    }
}

fn timespec(sec: i64, nsec: i64) -> String {
    format!("{{tv_sec={sec}, tv_nsec={nsec}}}")
}

fn rlim(v: u64) -> String {
    if v == u64::MAX {
        "RLIM_INFINITY".to_owned()
    } else {
        v.to_string()
    }
}

/// `S_IFREG|0644`.
pub fn file_mode(mode: u32) -> String {
    let kind = name_of(values::FILE_TYPES, u64::from(mode & 0o170000));
    match kind {
        Some(kind) => format!("{kind}|0{:o}", mode & 0o7777),
        None => format!("0{:o}", mode),
    }
}

/// `[INT TERM]`, `~[]` for all signals blocked.
fn sigset(bits: u64) -> String {
    if bits == u64::MAX {
        return "~[]".to_owned();
    }
    let names: Vec<String> = (1..=64)
        .filter(|s| bits & (1u64 << (s - 1)) != 0)
        .map(|s| {
            name_of(values::SIGNALS, s).map_or_else(
                || format!("RT_{}", s.saturating_sub(32)),
                |n| n.trim_start_matches("SIG").to_owned(),
            )
        })
        .collect();
    format!("[{}]", names.join(" "))
}

/// Binary data: every byte as \xNN in quotes, like strace -xx.
fn quote_hex(bytes: &[u8], out: &mut String) {
    out.push('"');
    for b in bytes {
        let _ = write!(out, "\\x{b:02x}");
    }
    out.push('"');
}

/// A socket address: `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}`.
fn sockaddr(b: &[u8], out: &mut String) {
    let family = b
        .get(..2)
        .map_or(0, |f| u64::from(u16::from_le_bytes([f[0], f[1]])));
    let _ = match family {
        2 if b.len() >= 8 => write!(
            out,
            "{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(\"{}.{}.{}.{}\")}}",
            u16::from_be_bytes([b[2], b[3]]),
            b[4],
            b[5],
            b[6],
            b[7]
        ),
        10 if b.len() >= 24 => {
            let addr = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&b[8..24]).expect("16"));
            write!(
                out,
                "{{sa_family=AF_INET6, sin6_port=htons({}), sin6_addr=\"{addr}\"}}",
                u16::from_be_bytes([b[2], b[3]])
            )
        }
        1 => {
            let path = &b[2.min(b.len())..];
            let mut q = String::new();
            if path.first() == Some(&0) && path.len() > 1 {
                // abstract socket
                q.push('@');
                quote(&path[1..], &mut q);
            } else {
                let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
                quote(&path[..end], &mut q);
            }
            write!(out, "{{sa_family=AF_UNIX, sun_path={q}}}")
        }
        other => write!(
            out,
            "{{sa_family={}, ...}}",
            name_of(values::ADDRESS_FAMILIES, other)
                .map_or_else(|| other.to_string(), str::to_owned)
        ),
    };
}

/// A C string literal for `bytes`: printable ASCII as is, everything else escaped, so no
/// byte can break a line of output.
pub fn quote(bytes: &[u8], out: &mut String) {
    out.push('"');
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut s = String::new();
        quote(b"a\nb\0\"", &mut s);
        assert_eq!(s, "\"a\\nb\\x00\\\"\"");
    }

    #[test]
    fn commands_with_flags() {
        let x86 = Decoder::new(Arch::X86_64).unwrap();
        let mut s = String::new();
        x86.scalar(values::SOCKET_TYPE, 0o2000001, &mut s);
        s.push(' ');
        x86.scalar(values::FUTEX_OP, 128, &mut s);
        s.push(' ');
        x86.scalar(values::SOCKET_TYPE, 3, &mut s);
        assert_eq!(
            s,
            "SOCK_STREAM|SOCK_CLOEXEC FUTEX_WAIT|FUTEX_PRIVATE_FLAG SOCK_RAW"
        );
    }

    /// Every decoder reads only fields its struct's table lists, on every architecture (a
    /// name missing from a table trips the debug assertion in `Fields`).
    #[test]
    fn every_struct_decodes_on_every_architecture() {
        for arch in Arch::ALL {
            let decoder = Decoder::new(arch).unwrap();
            for &s in Struct::ALL {
                let mut bytes = vec![0u8; s.size(arch) as usize];
                bytes[0] = 1;
                let mut out = String::new();
                decoder.one_struct(s, &bytes, &mut out);
                assert!(!out.is_empty(), "{s:?} on {arch}");
            }
        }
    }

    /// The same bytes decode by the recording's architecture: arm64's stat has st_mode
    /// where x86_64's has st_nlink.
    #[test]
    fn structs_decode_by_the_recordings_architecture() {
        let mut stat = [0u8; 144];
        stat[16..20].copy_from_slice(&0o100644u32.to_le_bytes());
        stat[24..28].copy_from_slice(&0o40755u32.to_le_bytes());
        let text = |arch| {
            let mut out = String::new();
            let size = Struct::Stat.size(arch) as usize;
            Decoder::new(arch)
                .unwrap()
                .one_struct(Struct::Stat, &stat[..size], &mut out);
            out
        };
        assert!(text(Arch::X86_64).contains("st_mode=S_IFDIR|0755, st_nlink=33188"));
        assert!(text(Arch::Aarch64).contains("st_mode=S_IFREG|0644, st_nlink=0"));
        let mut event = [0u8; 16];
        event[0] = 1;
        event[4] = 0x11;
        event[8] = 0x22;
        let epoll = |arch| {
            let mut out = String::new();
            let size = Struct::EpollEvent.size(arch) as usize;
            Decoder::new(arch)
                .unwrap()
                .one_struct(Struct::EpollEvent, &event[..size], &mut out);
            out
        };
        assert_eq!(epoll(Arch::X86_64), "{events=EPOLLIN, data=0x2200000011}");
        assert_eq!(epoll(Arch::Riscv64), "{events=EPOLLIN, data=0x22}");
    }

    #[test]
    fn modes_and_sets() {
        assert_eq!(file_mode(0o100644), "S_IFREG|0644");
        assert_eq!(file_mode(0o40755), "S_IFDIR|0755");
        assert_eq!(sigset((1 << 1) | (1 << 14)), "[INT TERM]");
    }

    #[test]
    fn open_flags_differ_on_arm64() {
        let x86 = Decoder::new(Arch::X86_64).unwrap();
        let arm = Decoder::new(Arch::Aarch64).unwrap();
        assert_eq!(x86.open_flags(0o2200000), "O_RDONLY|O_DIRECTORY|O_CLOEXEC");
        assert_eq!(arm.open_flags(0o2040000), "O_RDONLY|O_DIRECTORY|O_CLOEXEC");
        assert_eq!(x86.open_flags(0o101), "O_WRONLY|O_CREAT");
    }

    #[test]
    fn socket_addresses() {
        let mut s = String::new();
        sockaddr(&[2, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], &mut s);
        assert_eq!(
            s,
            "{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}"
        );
    }
}
