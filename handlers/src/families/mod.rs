//! The handlers, one module per family of syscalls.

mod prelude {
    pub use inventory::submit;
    pub use syscord_arch::abi::Struct;
    pub use syscord_common::rule_flags;

    pub use crate::{
        Capture, Class::*, Handler, Kind, Len, Ptr, Request, Role, Show, Size, Value::*, arg,
        values::*,
    };
}

mod events;
mod fs;
mod io;
mod ioctl;
mod ipc;
mod memory;
mod mount;
mod net;
mod process;
mod sched;
mod security;
mod signal;
mod system;
mod time;
mod xattr;
