//! A siginfo_t's fields, those its si_signo and si_code say are set, in strace's order: for
//! `--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x8} ---` lines, for JSON,
//! and for the siginfo structs syscalls pass (waitid, rt_sigqueueinfo).

use std::fmt::Write as _;

use syscord_arch::{
    Arch,
    abi::{Layout, Struct},
    errno_name,
};

use crate::values::{si_code_name, signal_name};

/// One field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiValue {
    /// A signed number (si_pid, si_status, si_fd, ...).
    Int(i64),
    /// An address (si_addr, si_ptr, si_call_addr).
    Ptr(u64),
    /// A name (si_signo, si_code, si_errno; si_status of a child killed by a signal), with
    /// its number.
    Name(String, i64),
}

impl SiValue {
    fn write(&self, out: &mut String) {
        let _ = match self {
            SiValue::Int(n) => write!(out, "{n}"),
            SiValue::Ptr(0) => write!(out, "NULL"),
            SiValue::Ptr(p) => write!(out, "{p:#x}"),
            SiValue::Name(name, _) => write!(out, "{name}"),
        };
    }
}

// si_code values that choose fields.
const SI_USER: i64 = 0;
const SI_TIMER: i64 = -2;
const SI_SIGIO: i64 = -5;
const SI_TKILL: i64 = -6;
const CLD_EXITED: i64 = 1;
const SEGV_BNDERR: i64 = 3;
const SEGV_PKUERR: i64 = 4;
const BUS_MCEERR_AR: i64 = 4;
const BUS_MCEERR_AO: i64 = 5;
const POLL_IN: i64 = 1;
const POLL_MSG: i64 = 3;

const SIGILL: u64 = 4;
const SIGTRAP: u64 = 5;
const SIGBUS: u64 = 7;
const SIGFPE: u64 = 8;
const SIGSEGV: u64 = 11;
const SIGCHLD: u64 = 17;
const SIGIO: u64 = 29;
const SIGSYS: u64 = 31;

struct Reader<'a> {
    bytes: &'a [u8],
    layout: &'static Layout,
}

impl Reader<'_> {
    fn uint(&self, name: &str) -> u64 {
        let Some(f) = self.layout.field(name) else {
            debug_assert!(false, "no field {name} in siginfo_t's table");
            return 0;
        };
        let at = f.offset as usize;
        let mut v = [0u8; 8];
        if let Some(b) = self.bytes.get(at..at + f.width as usize) {
            v[..b.len()].copy_from_slice(b);
        }
        u64::from_le_bytes(v)
    }

    fn int(&self, name: &str) -> i64 {
        let width = self.layout.field(name).map_or(8, |f| f.width.clamp(1, 8));
        let shift = 64 - 8 * width;
        ((self.uint(name) << shift) as i64) >> shift
    }
}

fn name_or_number(name: Option<String>, n: i64) -> SiValue {
    match name {
        Some(name) => SiValue::Name(name, n),
        None => SiValue::Int(n),
    }
}

/// The fields of the siginfo_t in `bytes` (at least its first 48 bytes; missing bytes read
/// as zero) on `arch`.
pub fn fields(arch: Arch, bytes: &[u8]) -> Vec<(&'static str, SiValue)> {
    let r = Reader {
        bytes,
        layout: Struct::Siginfo.layout(arch),
    };
    let signo = r.uint("si_signo");
    let mut out = Vec::new();
    if signo == 0 {
        return out;
    }
    let code = r.int("si_code");
    out.push(("si_signo", name_or_number(signal_name(signo), signo as i64)));
    out.push((
        "si_code",
        name_or_number(si_code_name(signo, code).map(str::to_owned), code),
    ));
    let errno = r.int("si_errno");
    if errno != 0 {
        out.push((
            "si_errno",
            name_or_number(errno_name(errno).map(str::to_owned), errno),
        ));
    }
    let mut push = |name: &'static str, value: SiValue| out.push((name, value));
    let source = |push: &mut dyn FnMut(&'static str, SiValue)| {
        push("si_pid", SiValue::Int(r.int("si_pid")));
        push("si_uid", SiValue::Int(r.uint("si_uid") as i64));
    };
    let value = |push: &mut dyn FnMut(&'static str, SiValue)| {
        push("si_int", SiValue::Int(r.int("si_int")));
        push("si_ptr", SiValue::Ptr(r.uint("si_ptr")));
    };
    if code <= 0 {
        // Sent by a process (kill, sigqueue, tgkill, timers, ...).
        match code {
            SI_USER | SI_TKILL => source(&mut push),
            SI_TIMER => {
                // The UAPI header names it si_tid; strace and glibc, si_timerid.
                push("si_timerid", SiValue::Int(r.int("si_tid")));
                push("si_overrun", SiValue::Int(r.int("si_overrun")));
                value(&mut push);
            }
            SI_SIGIO => {
                push("si_band", SiValue::Int(r.int("si_band")));
                push("si_fd", SiValue::Int(r.int("si_fd")));
            }
            _ => {
                source(&mut push);
                if r.uint("si_ptr") != 0 {
                    value(&mut push);
                }
            }
        }
        return out;
    }
    match signo {
        SIGCHLD => {
            source(&mut push);
            let status = r.int("si_status");
            push(
                "si_status",
                if code == CLD_EXITED {
                    SiValue::Int(status)
                } else {
                    name_or_number(signal_name(status as u64), status)
                },
            );
            push("si_utime", SiValue::Int(r.int("si_utime")));
            push("si_stime", SiValue::Int(r.int("si_stime")));
        }
        SIGILL | SIGFPE | SIGTRAP => push("si_addr", SiValue::Ptr(r.uint("si_addr"))),
        SIGBUS => {
            push("si_addr", SiValue::Ptr(r.uint("si_addr")));
            if matches!(code, BUS_MCEERR_AR | BUS_MCEERR_AO) {
                push("si_addr_lsb", SiValue::Int(r.int("si_addr_lsb")));
            }
        }
        SIGSEGV => {
            push("si_addr", SiValue::Ptr(r.uint("si_addr")));
            match code {
                SEGV_BNDERR => {
                    push("si_lower", SiValue::Ptr(r.uint("si_lower")));
                    push("si_upper", SiValue::Ptr(r.uint("si_upper")));
                }
                SEGV_PKUERR => push("si_pkey", SiValue::Int(r.uint("si_pkey") as i64)),
                _ => {}
            }
        }
        SIGIO if (POLL_IN..=POLL_MSG).contains(&code) => {
            push("si_band", SiValue::Int(r.int("si_band")));
            push("si_fd", SiValue::Int(r.int("si_fd")));
        }
        SIGSYS => {
            push("si_call_addr", SiValue::Ptr(r.uint("si_call_addr")));
            push("si_syscall", SiValue::Int(r.int("si_syscall")));
            push("si_arch", SiValue::Int(r.uint("si_arch") as i64));
        }
        _ => {
            if r.uint("si_pid") != 0 || r.uint("si_uid") != 0 {
                source(&mut push);
            }
            if r.uint("si_ptr") != 0 {
                value(&mut push);
            }
        }
    }
    out
}

/// `{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x8}`; `{}` for a zero siginfo.
pub fn text(arch: Arch, bytes: &[u8]) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in fields(arch, bytes).iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push('=');
        value.write(&mut out);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(words: &[(usize, u64, usize)]) -> Vec<u8> {
        let mut b = vec![0u8; 48];
        for &(at, v, width) in words {
            b[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
        }
        b
    }

    #[test]
    fn strace_shows_these() {
        for arch in Arch::ALL {
            let segv = info(&[(0, 11, 4), (8, 1, 4), (16, 8, 8)]);
            assert_eq!(
                text(arch, &segv),
                "{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x8}"
            );
            let user = info(&[(0, 10, 4), (16, 1234, 4), (20, 1000, 4)]);
            assert_eq!(
                text(arch, &user),
                "{si_signo=SIGUSR1, si_code=SI_USER, si_pid=1234, si_uid=1000}"
            );
            let queued = info(&[(0, 34, 4), (8, -1i64 as u64, 4), (16, 7, 4), (24, 42, 8)]);
            assert_eq!(
                text(arch, &queued),
                "{si_signo=SIGRT_2, si_code=SI_QUEUE, si_pid=7, si_uid=0, si_int=42, si_ptr=0x2a}"
            );
            let killed = info(&[(0, 17, 4), (8, 2, 4), (16, 9, 4), (24, 9, 4), (32, 3, 8)]);
            assert_eq!(
                text(arch, &killed),
                "{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=9, si_uid=0, si_status=SIGKILL, \
                 si_utime=3, si_stime=0}"
            );
            let alarm = info(&[(0, 14, 4), (8, 0x80, 4)]);
            assert_eq!(text(arch, &alarm), "{si_signo=SIGALRM, si_code=SI_KERNEL}");
            let gp = info(&[(0, 11, 4), (8, 0x80, 4)]);
            assert_eq!(
                text(arch, &gp),
                "{si_signo=SIGSEGV, si_code=SI_KERNEL, si_addr=NULL}"
            );
            assert_eq!(text(arch, &[0; 48]), "{}");
        }
    }
}
