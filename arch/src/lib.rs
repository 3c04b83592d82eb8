//! Per-architecture facts that syscord needs on both sides of the kernel boundary.
//!
//! The register layouts are `const` data usable from the eBPF program (which is built once per
//! target architecture); the syscall tables and errno names are userspace-only and cover all
//! three architectures at once, so that a recording made on one machine decodes on any other.
#![cfg_attr(not(feature = "tables"), no_std)]

pub mod regs;

#[cfg(feature = "tables")]
pub mod abi;
#[cfg(feature = "tables")]
mod arch;
#[cfg(feature = "tables")]
mod errno;
#[cfg(feature = "tables")]
mod table;

#[cfg(feature = "tables")]
pub use arch::{Arch, UnknownArch};
#[cfg(feature = "tables")]
pub use errno::{errno_description, errno_name, is_restart};
#[cfg(feature = "tables")]
pub use table::SyscallTable;
