//! `struct pt_regs` layouts of the user registers the kernel saved at syscall entry.
//!
//! At `sys_exit` the saved registers still hold the user PC the syscall returns to and, on all
//! three architectures, every argument: x86_64 never writes its argument registers back, and
//! arm64 / riscv64 keep the first argument (overwritten by the return value in x0 / a0) in
//! `orig_x0` / `orig_a0`. So arguments are read once, at exit, with no state kept from entry.

/// One saved register: its member name in the kernel's `struct pt_regs` (as BTF names it)
/// and its byte offset there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reg {
    pub name: &'static str,
    pub offset: usize,
}

const fn reg(name: &'static str, index: usize) -> Reg {
    Reg {
        name,
        offset: index * 8,
    }
}

/// The registers of `struct pt_regs` that syscord reads. Userspace checks every one against
/// the running kernel's BTF before loading the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PtRegsLayout {
    /// The six syscall arguments as saved at entry.
    pub args: [Reg; 6],
    /// The syscall number.
    pub nr: Reg,
    /// Width in bytes of the syscall number field (arm64 keeps it in an `s32`).
    pub nr_width: usize,
    /// The user program counter the syscall returns to.
    pub pc: Reg,
    /// A register that holds u64::MAX when the saved registers are no syscall's: riscv64's
    /// `cause` after rt_sigreturn, which restores a7 (the number of the call the signal
    /// interrupted) where x86_64 and arm64 set the number itself to -1.
    pub not_a_syscall: Option<Reg>,
}

impl PtRegsLayout {
    /// Every register the layout names; the last is `not_a_syscall`, where there is one.
    pub const fn registers(&self) -> [Option<Reg>; 9] {
        let a = self.args;
        [
            Some(a[0]),
            Some(a[1]),
            Some(a[2]),
            Some(a[3]),
            Some(a[4]),
            Some(a[5]),
            Some(self.nr),
            Some(self.pc),
            self.not_a_syscall,
        ]
    }
}

/// x86_64: r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss,
/// 8 bytes each. Arguments in di si dx r10 r8 r9, number in orig_ax, return value in ax.
pub const X86_64: PtRegsLayout = PtRegsLayout {
    args: [
        reg("di", 14),
        reg("si", 13),
        reg("dx", 12),
        reg("r10", 7),
        reg("r8", 9),
        reg("r9", 8),
    ],
    nr: reg("orig_ax", 15),
    nr_width: 8,
    pc: reg("ip", 16),
    not_a_syscall: None,
};

/// arm64: regs[31] sp pc pstate orig_x0 syscallno(s32) ... Arguments in x0..x5 with x0 saved
/// as orig_x0, number in w8 saved as syscallno, return value in x0. BTF names x1..x5 as
/// elements of `regs`, which the check reads as `regs[1]` and so on.
pub const AARCH64: PtRegsLayout = PtRegsLayout {
    args: [
        reg("orig_x0", 34),
        reg("regs[1]", 1),
        reg("regs[2]", 2),
        reg("regs[3]", 3),
        reg("regs[4]", 4),
        reg("regs[5]", 5),
    ],
    nr: reg("syscallno", 35),
    nr_width: 4,
    pc: reg("pc", 32),
    not_a_syscall: None,
};

/// riscv64: epc ra sp gp tp t0 t1 t2 s0 s1 a0..a7 s2..s11 t3..t6 status badaddr cause orig_a0.
/// Arguments in a0..a5 with a0 saved as orig_a0, number in a7, return value in a0. The kernel
/// advances epc past the ecall before running the syscall, so epc is the return address.
pub const RISCV64: PtRegsLayout = PtRegsLayout {
    args: [
        reg("orig_a0", 35),
        reg("a1", 11),
        reg("a2", 12),
        reg("a3", 13),
        reg("a4", 14),
        reg("a5", 15),
    ],
    nr: reg("a7", 17),
    nr_width: 8,
    pc: reg("epc", 0),
    not_a_syscall: Some(reg("cause", 34)),
};
