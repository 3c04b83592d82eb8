//! Per-syscall knowledge: what each syscall does to the process (its class), what memory to
//! capture, and how to show it to people.
//!
//! Each syscall has one static [`Handler`], registered with `inventory::submit!` in the
//! module of its family (`fs`, `io`, `net`, ...). The recorder turns the handlers of the
//! target architecture into capture rules the eBPF program interprets ([`Registry::rules`]);
//! the decoder uses them to print arguments, results and captured memory
//! ([`decode`]). Adding a syscall is adding one `submit!` (see CONTRIBUTING.md).

pub mod decode;
pub mod registry;
pub mod siginfo;
pub mod values;

mod families;

pub use registry::{CaptureOf, Policy, Registry, RegistryError, Rules, check_all};
use syscord_arch::abi::Struct;
pub use values::Value;

/// The effect of a syscall on the process, after the thesis (section 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Reads status: the result is in registers or in small structs the kernel writes
    /// (getpid, fstat, getrandom). Recorded with those effects.
    RS,
    /// Writes status: changes the system, not the process's memory (close, epoll_ctl).
    /// Recorded as registers; its inputs are captured when it fails.
    WS,
    /// Reads content: brings outside data into the process (read, recvfrom). Recorded with
    /// the content, truncated to the snap length.
    RC,
    /// Writes content: sends the process's data out (write). The content is already in the
    /// process, so it is captured only on request (`--capture-writes`).
    WC,
}

impl Class {
    pub const fn name(self) -> &'static str {
        match self {
            Class::RS => "RS",
            Class::WS => "WS",
            Class::RC => "RC",
            Class::WC => "WC",
        }
    }
}

/// One argument: its name and how to show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    pub name: &'static str,
    pub value: Value,
}

/// Shorthand for argument lists.
pub const fn arg(name: &'static str, value: Value) -> Arg {
    Arg { name, value }
}

/// Which memory a capture reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bytes at the pointer.
    Bytes,
    /// A NUL-terminated string (paths, names).
    CString,
    /// The buffers of an iovec array, concatenated up to the return value.
    Iovec,
}

/// Where the pointer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ptr {
    /// Argument n.
    Arg(u8),
    /// The pointer-sized field at `offset` in the struct argument `arg` points to.
    Field { arg: u8, offset: u16 },
}

/// A size in bytes, fixed or per architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Bytes(u32),
    Of(Struct),
    /// That many of the struct in a row.
    Array(Struct, u32),
}

impl Size {
    pub const fn bytes(self, arch: syscord_arch::Arch) -> u32 {
        match self {
            Size::Bytes(n) => n,
            Size::Of(s) => s.size(arch),
            Size::Array(s, n) => s.size(arch) * n,
        }
    }
}

/// How long the captured memory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    Fixed(Size),
    /// The return value (bytes read).
    Ret,
    /// Argument n (a buffer size, an iovec count).
    Arg(u8),
    /// A `u32` in user memory: at argument n, plus offset (a socklen_t the kernel updated).
    DerefU32 {
        arg: u8,
        offset: u16,
    },
    /// A `u64` in user memory: at argument n, plus offset (msg_iovlen).
    DerefU64 {
        arg: u8,
        offset: u16,
    },
    /// Return value times an element size (events the kernel filled in).
    RetTimes(Size),
    /// Argument n times an element size.
    ArgTimes(u8, Size),
    /// The return value plus a header's size (msgrcv: the mtype before the text).
    RetPlus(Size),
    /// Argument n plus a header's size (msgsnd).
    ArgPlus(u8, Size),
    /// The return value, at most argument n: the call copied at most n bytes but returned
    /// the size it had (KEYCTL_CAPABILITIES).
    RetAtMostArg(u8),
    /// The return value if it is at most argument n, else nothing: the call copied only
    /// into a buffer large enough and returned the size it needs (KEYCTL_READ).
    RetIfAtMostArg(u8),
}

/// What the memory is to the syscall; the [`Policy`] decides from this and the class when
/// to capture it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Written by the kernel: the syscall's effect. Captured on success.
    Output,
    /// Read by the kernel: an argument behind a pointer (a path, a requested struct).
    /// Captured always for RS and RC, on failure only for WS and WC.
    Input,
    /// The data a WC syscall sends out. Captured only with `--capture-writes`.
    Content,
    /// Supplied by the recorder from the new program image (execve's path and argv, gone
    /// from memory when execve returns); never read by a rule.
    Exec,
}

/// How to show a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// As a quoted, escaped string with "..." when truncated (file and socket content).
    Text,
    /// As a quoted string (a NUL-terminated path or name).
    Str,
    /// NUL-separated strings as a list (argv).
    StrList,
    /// As a decoded struct, or an array of them.
    Struct(Struct),
    /// Hex bytes.
    Hex,
    /// A socket address.
    Sockaddr,
}

/// One piece of memory to capture, and how to read and show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capture {
    pub name: &'static str,
    pub kind: Kind,
    pub ptr: Ptr,
    pub len: Len,
    pub role: Role,
    pub show: Show,
}

impl Capture {
    /// Bytes the kernel wrote at argument `ptr`, `len` long.
    pub const fn output(name: &'static str, ptr: u8, len: Len, show: Show) -> Capture {
        Capture {
            name,
            kind: Kind::Bytes,
            ptr: Ptr::Arg(ptr),
            len,
            role: Role::Output,
            show,
        }
    }

    /// A struct the kernel wrote at argument `ptr`.
    pub const fn output_struct(name: &'static str, ptr: u8, s: Struct) -> Capture {
        Capture::output(name, ptr, Len::Fixed(Size::Of(s)), Show::Struct(s))
    }

    /// A string argument the kernel reads (a path).
    pub const fn string(name: &'static str, ptr: u8) -> Capture {
        Capture {
            name,
            kind: Kind::CString,
            ptr: Ptr::Arg(ptr),
            len: Len::Fixed(Size::Bytes(0)),
            role: Role::Input,
            show: Show::Str,
        }
    }

    /// A struct argument the kernel reads.
    pub const fn input_struct(name: &'static str, ptr: u8, s: Struct) -> Capture {
        Capture {
            name,
            kind: Kind::Bytes,
            ptr: Ptr::Arg(ptr),
            len: Len::Fixed(Size::Of(s)),
            role: Role::Input,
            show: Show::Struct(s),
        }
    }

    /// Data a WC syscall sends (captured only with `--capture-writes`).
    pub const fn content(name: &'static str, ptr: u8, len: Len) -> Capture {
        Capture {
            name,
            kind: Kind::Bytes,
            ptr: Ptr::Arg(ptr),
            len,
            role: Role::Content,
            show: Show::Text,
        }
    }

    pub const fn with_role(mut self, role: Role) -> Capture {
        self.role = role;
        self
    }

    pub const fn with_kind(mut self, kind: Kind) -> Capture {
        self.kind = kind;
        self
    }

    pub const fn with_len(mut self, len: Len) -> Capture {
        self.len = len;
        self
    }

    pub const fn with_ptr(mut self, ptr: Ptr) -> Capture {
        self.ptr = ptr;
        self
    }
}

/// Everything syscord knows about one syscall.
#[derive(Debug)]
pub struct Handler {
    /// The name in the architectures' syscall tables.
    pub name: &'static str,
    pub class: Class,
    pub args: &'static [Arg],
    /// How to show the return value on success.
    pub ret: Value,
    pub captures: &'static [Capture],
    /// `syscord_common::rule_flags` bits the eBPF program needs (exec, no return, fork).
    pub flags: u32,
    /// The argument whose value selects a [`Request`] of this syscall, for the syscalls
    /// whose effect depends on one (ioctl's request, fcntl's cmd, prctl's option).
    pub request_arg: Option<u8>,
}

impl Handler {
    /// A handler with nothing to capture.
    pub const fn new(
        name: &'static str,
        class: Class,
        args: &'static [Arg],
        ret: Value,
    ) -> Handler {
        Handler {
            name,
            class,
            args,
            ret,
            captures: &[],
            flags: 0,
            request_arg: None,
        }
    }

    pub const fn captures(mut self, captures: &'static [Capture]) -> Handler {
        self.captures = captures;
        self
    }

    pub const fn flags(mut self, flags: u32) -> Handler {
        self.flags = flags;
        self
    }

    /// Argument `arg` selects the call's [`Request`].
    pub const fn by_request(mut self, arg: u8) -> Handler {
        self.request_arg = Some(arg);
        self
    }
}

inventory::collect!(Handler);

/// One request of a syscall whose effect depends on an argument (`Handler::by_request`): a
/// terminal ioctl, an fcntl command, a prctl option. Its own class and captures, decoded
/// in place of the syscall's; registered with `inventory::submit!` like a handler.
#[derive(Debug)]
pub struct Request {
    /// The syscall's name.
    pub syscall: &'static str,
    /// The request's name, as strace shows it (`TIOCGWINSZ`, `F_GETLK`, `PR_GET_NAME`).
    pub name: &'static str,
    /// Its value in the request argument: the same on every architecture syscord supports
    /// (they share the generic ioctl encoding and fcntl and prctl numbers).
    pub value: u64,
    pub class: Class,
    /// Memory to capture; each replaces the syscall's display of the argument its pointer
    /// is.
    pub captures: &'static [Capture],
}

impl Request {
    pub const fn new(
        syscall: &'static str,
        name: &'static str,
        value: u64,
        class: Class,
    ) -> Request {
        Request {
            syscall,
            name,
            value,
            class,
            captures: &[],
        }
    }

    pub const fn captures(mut self, captures: &'static [Capture]) -> Request {
        self.captures = captures;
        self
    }
}

inventory::collect!(Request);

/// Every registered request, in no particular order.
pub fn all_requests() -> impl Iterator<Item = &'static Request> {
    inventory::iter::<Request>.into_iter()
}

/// Every registered handler, in no particular order.
pub fn all() -> impl Iterator<Item = &'static Handler> {
    inventory::iter::<Handler>.into_iter()
}
