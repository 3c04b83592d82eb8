//! Syscall handler descriptors.
