//! `struct pt_regs` layouts of the user registers the kernel saved at syscall entry.
//!
//! At `sys_exit` the saved registers still hold the user PC the syscall returns to and, on all
//! three architectures, every argument: x86_64 never writes its argument registers back, and
//! arm64 / riscv64 keep the first argument (overwritten by the return value in x0 / a0) in
//! `orig_x0` / `orig_a0`. So arguments are read once, at exit, with no state kept from entry.

/// Byte offsets into `struct pt_regs` of the registers syscord reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PtRegsLayout {
    /// Offsets of the six syscall arguments as saved at entry.
    pub args: [usize; 6],
    /// Offset of the syscall number.
    pub nr: usize,
    /// Width in bytes of the syscall number field (arm64 keeps it in an `s32`).
    pub nr_width: usize,
    /// Offset of the return value register.
    pub ret: usize,
    /// Offset of the user program counter the syscall returns to.
    pub pc: usize,
    /// Offset of the user stack pointer.
    pub sp: usize,
    /// Bytes from the start of `pt_regs` that cover every field above.
    pub span: usize,
}

/// x86_64: r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss,
/// 8 bytes each. Arguments in di si dx r10 r8 r9, number in orig_ax, return value in ax.
pub const X86_64: PtRegsLayout = PtRegsLayout {
    args: [14 * 8, 13 * 8, 12 * 8, 7 * 8, 9 * 8, 8 * 8],
    nr: 15 * 8,
    nr_width: 8,
    ret: 10 * 8,
    pc: 16 * 8,
    sp: 19 * 8,
    span: 21 * 8,
};

/// arm64: regs[31] sp pc pstate orig_x0 syscallno(s32) ... Arguments in x0..x5 with x0 saved
/// as orig_x0, number in w8 saved as syscallno, return value in x0.
pub const AARCH64: PtRegsLayout = PtRegsLayout {
    args: [34 * 8, 8, 2 * 8, 3 * 8, 4 * 8, 5 * 8],
    nr: 35 * 8,
    nr_width: 4,
    ret: 0,
    pc: 32 * 8,
    sp: 31 * 8,
    span: 36 * 8,
};

/// riscv64: epc ra sp gp tp t0 t1 t2 s0 s1 a0..a7 s2..s11 t3..t6 status badaddr cause orig_a0.
/// Arguments in a0..a5 with a0 saved as orig_a0, number in a7, return value in a0. The kernel
/// advances epc past the ecall before running the syscall, so epc is the return address.
pub const RISCV64: PtRegsLayout = PtRegsLayout {
    args: [35 * 8, 11 * 8, 12 * 8, 13 * 8, 14 * 8, 15 * 8],
    nr: 17 * 8,
    nr_width: 8,
    ret: 10 * 8,
    pc: 0,
    sp: 2 * 8,
    span: 36 * 8,
};
