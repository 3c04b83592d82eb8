//! `syscord handlers`: every syscall of an architecture with its class and capture rules.

use std::io::{self, Write};

use serde_json::json;
use syscord_arch::{Arch, SyscallTable};
use syscord_handlers::{Capture, Class, Kind, Len, Policy, Ptr, Registry, Role, Size, registry};

use syscord_recording::dump::DumpFormat;

use crate::error::Error;

fn size_text(size: Size, arch: Arch) -> String {
    match size {
        Size::Bytes(n) => format!("{n} bytes"),
        Size::Of(s) => format!("sizeof({s:?}) = {}", s.size(arch)),
        Size::Array(s, n) => format!("{n} x sizeof({s:?}) = {}", size.bytes(arch)),
    }
}

fn kind_text(kind: Kind) -> &'static str {
    match kind {
        Kind::Bytes => "bytes",
        Kind::CString => "string",
        Kind::Iovec => "iovec",
    }
}

fn ptr_text(ptr: Ptr) -> String {
    match ptr {
        Ptr::Arg(a) => format!("arg{a}"),
        Ptr::Field { arg, offset } => format!("*(arg{arg} + {offset})"),
    }
}

fn len_text(len: Len, kind: Kind, arch: Arch) -> String {
    match (kind, len) {
        (Kind::CString, _) => "up to NUL".to_owned(),
        (_, Len::Fixed(size)) => size_text(size, arch),
        (_, Len::Ret) => "ret".to_owned(),
        (Kind::Iovec, Len::Arg(a)) => format!("arg{a} iovecs, ret bytes"),
        (_, Len::Arg(a)) => format!("arg{a}"),
        (Kind::Iovec, Len::DerefU64 { arg, offset }) => {
            format!("*(arg{arg} + {offset}) iovecs, ret bytes")
        }
        (_, Len::DerefU32 { arg, offset } | Len::DerefU64 { arg, offset }) => {
            format!("*(arg{arg} + {offset})")
        }
        (_, Len::RetTimes(size)) => format!("ret x {}", size_text(size, arch)),
        (_, Len::ArgTimes(a, size)) => format!("arg{a} x {}", size_text(size, arch)),
        (_, Len::RetPlus(size)) => format!("ret + {}", size_text(size, arch)),
        (_, Len::RetAtMostArg(a)) => format!("ret, at most arg{a}"),
        (_, Len::RetIfAtMostArg(a)) => format!("ret if at most arg{a}"),
        (_, Len::ArgPlus(a, size)) => format!("arg{a} + {}", size_text(size, arch)),
    }
}

fn role_text(role: Role) -> &'static str {
    match role {
        Role::Output => "output",
        Role::Input => "input",
        Role::Content => "content",
        Role::Exec => "exec image",
    }
}

fn when_text(bits: u8) -> &'static str {
    match bits {
        0 => "off (see --capture-writes, --capture-inputs)",
        1 => "on success",
        2 => "on failure",
        _ => "always",
    }
}

pub fn run(arch: Arch, format: DumpFormat) -> Result<(), Error> {
    let registry = Registry::new(arch).map_err(|e| Error::Handlers(e.to_string()))?;
    let policy = Policy::default();
    let stdout = io::stdout().lock();
    let mut out = io::BufWriter::new(stdout);
    let write = |out: &mut io::BufWriter<io::StdoutLock<'_>>, line: String| -> io::Result<()> {
        writeln!(out, "{line}")
    };
    let describe = |class: Class, c: &Capture| {
        (
            c.name,
            kind_text(c.kind),
            ptr_text(c.ptr),
            len_text(c.len, c.kind, arch),
            role_text(c.role),
            when_text(if c.role == Role::Exec {
                1
            } else {
                registry::capture_when(class, c.role, &policy)
            }),
        )
    };
    let captures_json = |class: Class, captures: &[Capture]| -> Vec<serde_json::Value> {
        captures
            .iter()
            .map(|c| {
                let (name, kind, ptr, len, role, when) = describe(class, c);
                json!({"name": name, "kind": kind, "from": ptr, "len": len, "role": role, "when": when})
            })
            .collect()
    };
    let captures_text = |class: Class, captures: &[Capture]| -> String {
        let texts: Vec<String> = captures
            .iter()
            .map(|c| {
                let (name, kind, ptr, len, role, when) = describe(class, c);
                format!("{name}: {kind} at {ptr}, {len}, {role}, {when}")
            })
            .collect();
        if texts.is_empty() {
            "-".to_owned()
        } else {
            texts.join("; ")
        }
    };
    let mut result = Ok(());
    for (nr, name) in SyscallTable::of(arch).iter() {
        let Some(h) = registry.get(nr) else {
            return Err(Error::Handlers(format!("{arch}: {name} has no handler")));
        };
        let requests = registry.requests(nr);
        let line = match format {
            DumpFormat::Json => {
                let args: Vec<_> = h.args.iter().map(|a| a.name).collect();
                let mut object = json!({
                    "syscall": name,
                    "nr": nr,
                    "class": h.class.name(),
                    "args": args,
                    "captures": captures_json(h.class, h.captures),
                });
                if let Some(arg) = h.request_arg {
                    object["request_arg"] = json!(arg);
                    object["requests"] = requests
                        .iter()
                        .map(|r| {
                            json!({
                                "name": r.name,
                                "value": r.value,
                                "class": r.class.name(),
                                "captures": captures_json(r.class, r.captures),
                            })
                        })
                        .collect();
                }
                object.to_string()
            }
            DumpFormat::Text => {
                let args: Vec<_> = h.args.iter().map(|a| a.name).collect();
                let mut text = format!(
                    "{nr:>4} {name}({}) {} {}",
                    args.join(", "),
                    h.class.name(),
                    captures_text(h.class, h.captures)
                );
                // Each request on a line of its own, under its syscall.
                for r in requests {
                    text.push_str(&format!(
                        "\n     {name} {} ({:#x}) {} {}",
                        r.name,
                        r.value,
                        r.class.name(),
                        captures_text(r.class, r.captures)
                    ));
                }
                text
            }
        };
        if let Err(e) = write(&mut out, line) {
            result = Err(e);
            break;
        }
    }
    if result.is_ok() && Arch::host() == Some(arch) {
        result = unknown_to_syscord(arch, format, &mut out);
    }
    match result.and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// The numbers the running kernel implements that syscord's table does not know. They are
/// recorded like any other call, as `syscall_NNN` with all six argument registers.
fn unknown_to_syscord(arch: Arch, format: DumpFormat, out: &mut impl Write) -> io::Result<()> {
    let table = SyscallTable::of(arch);
    let kernel = match crate::kernel_syscalls::read(arch) {
        Ok(kernel) => kernel,
        Err(why) => {
            eprintln!(
                "syscord handlers: the running kernel's syscall table is not readable ({why}); \
                 numbers it has and syscord does not know are recorded as syscall_NNN"
            );
            return Ok(());
        }
    };
    const REGISTERS: [&str; 6] = ["a0", "a1", "a2", "a3", "a4", "a5"];
    for k in kernel.iter().filter(|k| table.name(k.nr).is_none()) {
        let line = match format {
            DumpFormat::Json => json!({
                "syscall": format!("syscall_{}", k.nr),
                "nr": k.nr,
                "class": "unknown",
                "kernel_name": k.name,
                "args": REGISTERS,
                "captures": [],
            })
            .to_string(),
            DumpFormat::Text => format!(
                "{:>4} syscall_{}({}) unknown -  (the running kernel's {}: no handler in this \
                 syscord, recorded with its six registers)",
                k.nr,
                k.nr,
                REGISTERS.join(", "),
                k.name
            ),
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}
