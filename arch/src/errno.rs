/// The symbolic name of errno `e` (positive), including the kernel-internal restart codes that
/// a syscall exit can show when a signal interrupted it.
pub fn errno_name(e: i64) -> Option<&'static str> {
    match e {
        512 => Some("ERESTARTSYS"),
        513 => Some("ERESTARTNOINTR"),
        514 => Some("ERESTARTNOHAND"),
        515 => Some("ENOIOCTLCMD"),
        516 => Some("ERESTART_RESTARTBLOCK"),
        517 => Some("EPROBE_DEFER"),
        518 => Some("EOPENSTALE"),
        1..=511 => syscalls::Errno::new(e as i32).name(),
        _ => None,
    }
}

/// Whether errno `e` is one of the kernel's restart codes (ERESTARTSYS, ERESTARTNOINTR,
/// ERESTARTNOHAND, ERESTART_RESTARTBLOCK): a syscall a signal interrupted, restarted or
/// turned into EINTR before the program sees its result.
pub fn is_restart(e: i64) -> bool {
    matches!(e, 512 | 513 | 514 | 516)
}

/// What errno `e` means, as strerror says it.
pub fn errno_description(e: i64) -> Option<&'static str> {
    match e {
        512 => Some("To be restarted if SA_RESTART is set"),
        513 => Some("To be restarted"),
        514 => Some("To be restarted if no handler"),
        515 => Some("Inappropriate ioctl for device"),
        516 => Some("Interrupted by signal"),
        1..=511 => syscalls::Errno::new(e as i32).description(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::errno_name;

    #[test]
    fn common_names() {
        assert_eq!(errno_name(2), Some("ENOENT"));
        assert_eq!(errno_name(9), Some("EBADF"));
        assert_eq!(errno_name(512), Some("ERESTARTSYS"));
        assert_eq!(errno_name(0), None);
        assert_eq!(errno_name(100_000), None);
    }
}
