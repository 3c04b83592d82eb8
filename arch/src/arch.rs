use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::regs::{self, PtRegsLayout};

/// An architecture syscord records on. The recording's header names it, so decoding never
/// depends on the machine that reads the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    #[serde(rename = "x86_64")]
    X86_64,
    Aarch64,
    Riscv64,
}

impl Arch {
    pub const ALL: [Arch; 3] = [Arch::X86_64, Arch::Aarch64, Arch::Riscv64];

    /// The architecture this binary was built for, if syscord supports it.
    pub const fn host() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else if cfg!(target_arch = "riscv64") {
            Some(Arch::Riscv64)
        } else {
            None
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::Riscv64 => "riscv64",
        }
    }

    /// The prefix of the kernel's syscall entry points, which take the saved `pt_regs`
    /// (`__x64_sys_execve`): the functions fentry programs attach to.
    pub const fn syscall_entry_prefix(self) -> &'static str {
        match self {
            Arch::X86_64 => "__x64_sys_",
            Arch::Aarch64 => "__arm64_sys_",
            Arch::Riscv64 => "__riscv_sys_",
        }
    }

    /// Where the kernel saved the user registers that syscord reads.
    pub const fn pt_regs(self) -> PtRegsLayout {
        match self {
            Arch::X86_64 => regs::X86_64,
            Arch::Aarch64 => regs::AARCH64,
            Arch::Riscv64 => regs::RISCV64,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An architecture name syscord does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownArch(pub String);

impl fmt::Display for UnknownArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown architecture '{}' (expected x86_64, aarch64 or riscv64)",
            self.0
        )
    }
}

impl std::error::Error for UnknownArch {}

impl FromStr for Arch {
    type Err = UnknownArch;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "x86_64" | "amd64" | "x86-64" => Ok(Arch::X86_64),
            "aarch64" | "arm64" => Ok(Arch::Aarch64),
            "riscv64" | "riscv64gc" => Ok(Arch::Riscv64),
            other => Err(UnknownArch(other.to_owned())),
        }
    }
}
