//! Loading the eBPF object, filling its maps, attaching its programs.

use std::{
    os::fd::{AsFd, OwnedFd},
    path::PathBuf,
    sync::Arc,
};

use aya::{
    Ebpf, EbpfLoader,
    maps::{Array, HashMap, Map, MapData, ProgramArray},
    programs::{BtfTracePoint, FEntry, ProgramError, TracePoint},
};
use syscord_arch::Arch;
use syscord_handlers::Rules;

use syscord_common::{
    Config, MAX_SYSCALLS, SEGMENT_SIZE, SyscallRule, capture_step, syscall_tracepoint_arg,
};

use crate::{
    btf::{Btf, BtfBytes},
    error::{Error, Result},
    filter::Compiled,
    mapping::{Mapping, page_align},
    ring::{Rings, wake_buffer_bytes},
};

/// The eBPF object built for this binary's architecture by core/build.rs.
static EBPF_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/syscord"));

/// The tracepoints syscord hooks, with the program attached to each. `sys_exit` comes last,
/// so that task tracking is in place before the first syscall is recorded.
const PROGRAMS: [(&str, &str); 8] = [
    ("syscord_sched_process_fork", "sched_process_fork"),
    ("syscord_signal_generate", "signal_generate"),
    ("syscord_signal_deliver", "signal_deliver"),
    ("syscord_sched_process_exit", "sched_process_exit"),
    // The image's record follows the exec's: a tracepoint runs its programs in the order
    // they were attached.
    ("syscord_sched_process_exec", "sched_process_exec"),
    ("syscord_exec_image", "sched_process_exec"),
    ("syscord_task_rename", "task_rename"),
    ("syscord_sys_exit", "sys_exit"),
];

/// Loaded for `sys_exit` and not attached: `syscord_sys_exit` tail-calls them through
/// `CAPTURE_STEP`, at these indices, for the captures it does not take itself.
const CAPTURE_STEP_PROGRAMS: [(u32, &str); 2] = [
    (capture_step::FLAT, "syscord_capture_flat"),
    (capture_step::IOVEC, "syscord_capture_iovec"),
];

/// What the header says when exec records hold the argv callers passed.
pub const EXEC_ARGV_CALLERS: &str = "as the caller passed it";

/// fentry programs on the entry points of execve and execveat (`exec_args.rs`).
const EXEC_ARGS_PROGRAMS: [(&str, &str); 2] = [
    ("syscord_execve_args", "execve"),
    ("syscord_execveat_args", "execveat"),
];

/// Offsets of an inode's modification time, seconds and nanoseconds: `i_mtime_sec` and
/// `i_mtime_nsec` from 6.11, a `struct timespec64` before (`__i_mtime` from 6.6, `i_mtime`).
fn inode_mtime(btf: &Btf<'_>) -> Result<(u32, u32)> {
    if let (Ok(sec), Ok(nsec)) = (
        btf.field_offset("inode", "i_mtime_sec"),
        btf.field_offset("inode", "i_mtime_nsec"),
    ) {
        return Ok((sec, nsec));
    }
    let at = btf
        .field_offset("inode", "__i_mtime")
        .or_else(|_| btf.field_offset("inode", "i_mtime"))
        .map_err(btf_error)?;
    let sec = btf
        .field_offset("timespec64", "tv_sec")
        .map_err(btf_error)?;
    let nsec = btf
        .field_offset("timespec64", "tv_nsec")
        .map_err(btf_error)?;
    Ok((at + sec, at + nsec))
}

/// Where fentry is refused and `--caller-argv-tracepoints` allows it: programs on the
/// `syscalls` tracepoints of execve and execveat, and the argument that is argv. Off by
/// default: any `syscalls` tracepoint puts a probe on `sys_enter`, which every syscall of
/// the machine then passes.
const EXEC_ARGS_TRACEPOINTS: [(&str, &str, u32); 2] = [
    ("syscord_execve_args_tp", "sys_enter_execve", 1),
    ("syscord_execveat_args_tp", "sys_enter_execveat", 2),
];

/// Attaches the `EXEC_ARGS_TRACEPOINTS` programs: the perf events that hold them.
fn attach_exec_tracepoints(ebpf: &mut Ebpf) -> std::result::Result<Vec<OwnedFd>, String> {
    let names = EXEC_ARGS_TRACEPOINTS.map(|(_, name, _)| name);
    let found = crate::syscall_tracepoints::find(&names)?;
    let mut events = Vec::new();
    for ((program, name, argv), tracepoint) in EXEC_ARGS_TRACEPOINTS.iter().zip(&found) {
        let expected = syscall_tracepoint_arg(*argv);
        match crate::syscall_tracepoints::field_offset(&tracepoint.format, "argv") {
            Some(offset) if offset == expected => {}
            other => return Err(format!("{name} has argv at {other:?}, not at {expected}")),
        }
        let prog: &mut TracePoint = ebpf
            .program_mut(program)
            .ok_or("program missing from the eBPF object")?
            .try_into()
            .map_err(|e: ProgramError| e.to_string())?;
        prog.load().map_err(|e| format!("loading {program}: {e}"))?;
        let fd = prog.fd().map_err(|e| e.to_string())?;
        events.push(
            crate::syscall_tracepoints::attach(fd.as_fd(), tracepoint.id)
                .map_err(|e| format!("attaching to syscalls:{name}: {e}"))?,
        );
    }
    Ok(events)
}

/// Hooked only with `record -T`.
const ENTER_PROGRAM: (&str, &str) = ("syscord_sys_enter", "sys_enter");

/// Hooked only when the filter looks at cgroups.
const CGROUP_PROGRAM: (&str, &str) = ("syscord_cgroup_attach_task", "cgroup_attach_task");

/// Sizes of the kernel-side structures.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Ring bytes per CPU: a power of two, at least one segment.
    pub ring_bytes_per_cpu: u64,
    /// Kernel BTF to use instead of /sys/kernel/btf/vmlinux.
    pub btf: Option<PathBuf>,
    /// Bytes captured per buffer at most.
    pub snap_len: u32,
    /// Measure each syscall's time (`record -T`): hooks sys_enter too.
    pub timing: bool,
    /// Record the environment of new program images (`--capture-env`).
    pub capture_env: bool,
    /// Where fentry is refused, take callers' argv from the syscalls tracepoints
    /// (`--caller-argv-tracepoints`).
    pub caller_argv_tracepoints: bool,
}

impl ProbeOptions {
    /// Default ring size: 16 MiB per CPU (about 19 ms of the fastest syscall storm measured
    /// on one CPU: room for the drain to be late now and then), and 64 MiB in all at most, so
    /// between one segment (2 MiB) and 16 MiB per CPU. The kernel zeroes the rings when it
    /// creates them, which is most of the start-up where pages are slow to come by.
    pub fn default_ring_bytes_per_cpu(cpus: usize) -> u64 {
        let share = (64u64 << 20) / cpus.max(1) as u64;
        let power = if share.is_power_of_two() {
            share
        } else {
            share.next_power_of_two() / 2
        };
        power.clamp(SEGMENT_SIZE, 16 << 20)
    }
}

/// Loads `programs` (name, tracepoint), on two threads: the verifier's time is most of
/// it, and each program is verified on its own.
fn load_programs<'a>(
    ebpf: &mut Ebpf,
    btf: &aya::Btf,
    programs: impl Iterator<Item = &'a (&'a str, &'a str)>,
) -> Result<()> {
    let wanted: std::collections::HashMap<&str, &str> = programs.copied().collect();
    let mut found: Vec<(&str, &mut BtfTracePoint)> = Vec::new();
    for (name, program) in ebpf.programs_mut() {
        if let Some(&tracepoint) = wanted.get(name) {
            found.push((tracepoint, program.try_into().map_err(load_error)?));
        }
    }
    if found.len() != wanted.len() {
        return Err(Error::Internal("program missing from the eBPF object"));
    }
    let half = found.len() / 2;
    let (first, second) = found.split_at_mut(half);
    let load = |programs: &mut [(&str, &mut BtfTracePoint)]| -> Result<()> {
        for (tracepoint, program) in programs {
            program.load(tracepoint, btf).map_err(load_error)?;
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        let other = scope.spawn(|| load(first));
        let mine = load(second);
        other
            .join()
            .map_err(|_| Error::Internal("loading a program panicked"))
            .and_then(|r| r)
            .and(mine)
    })
}

/// Possible CPUs: the range `bpf_get_smp_processor_id` can return.
pub fn possible_cpus() -> Result<usize> {
    aya::util::nr_cpus()
        .map(|n| n.get() as usize)
        .map_err(|(what, e)| Error::Unsupported(format!("{what}: {e}")))
}

/// The largest thread id the kernel can hand out, plus one.
fn pid_max() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4_194_304)
}

fn load_error(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::from_load(e.into())
}

fn btf_error(e: impl std::fmt::Display) -> Error {
    Error::NoBtf(e.to_string())
}

/// What to record and where to put it.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    /// Per-syscall rules, indexed by number, and the rules of (syscall, request) pairs.
    pub rules: &'a Rules,
    pub filter: &'a Compiled,
    /// `syscord_common::follow` bits.
    pub follow: u32,
}

/// The loaded and attached eBPF programs and their maps.
pub struct Probes {
    ebpf: Ebpf,
    armed: HashMap<MapData, u32, u32>,
    tasks: Mapping,
    exe_bits: Mapping,
    /// Bytes of EXE_BITS in use (0 when the filter has no exe condition).
    exe_len: usize,
    config: Config,
    publish: RingPublish,
    /// Which argv exec records hold (the header's `exec_argv`).
    exec_argv: String,
    /// The perf events that hold the programs on the syscalls tracepoints of the exec
    /// calls, where those take the caller's argv.
    _exec_tracepoints: Vec<OwnedFd>,
    attached: Vec<&'static str>,
}

impl Probes {
    /// Loads the programs and attaches them. Nothing is recorded until a thread is armed
    /// ([`Probes::arm`]) or marked ([`Probes::mark`]), or, following every task, starts.
    pub fn load(options: &ProbeOptions, selection: &Selection<'_>) -> Result<Probes> {
        let btf_path = options
            .btf
            .clone()
            .unwrap_or_else(|| PathBuf::from(crate::btf::VMLINUX));
        // Read once, parsed twice at once: syscord's parser gives the field offsets the
        // maps need, aya's is what loading the programs takes (15 and 20 ms here). The
        // maps are created (the rings take 11 ms) while aya's parser still runs.
        let data = Arc::new(
            BtfBytes::load(&btf_path)
                .map_err(|e| btf_error(format!("cannot read {}: {e}", btf_path.display())))?,
        );
        let aya_btf = {
            let data = Arc::clone(&data);
            std::thread::Builder::new()
                .name("syscord-btf".into())
                .spawn(move || aya::Btf::parse(&data, aya::Endianness::default()))
                .map_err(|e| Error::Load(format!("starting a thread: {e}")))?
        };
        let btf = Btf::parse(&data).map_err(btf_error)?;
        check_pt_regs_layout(&btf)?;
        let cpus = possible_cpus()?;
        let segments_per_cpu = (options.ring_bytes_per_cpu / SEGMENT_SIZE).max(1);
        if !segments_per_cpu.is_power_of_two() {
            return Err(Error::Usage(
                "the ring size per CPU must be a power of two of at least 2M".into(),
            ));
        }
        let field = |s: &str, f: &str| btf.field_offset(s, f).map_err(btf_error);
        let publish = RingPublish::choose()?;
        let mtime = inode_mtime(&btf)?;
        let config = Config {
            cpus: cpus as u32,
            segments_per_cpu: segments_per_cpu as u32,
            task_words: pid_max().div_ceil(8),
            task_pid: field("task_struct", "pid")?,
            task_tgid: field("task_struct", "tgid")?,
            task_exit_code: field("task_struct", "exit_code")?,
            task_cpu: match (
                btf.field_offset("task_struct", "thread_info"),
                btf.field_offset("thread_info", "cpu"),
            ) {
                (Ok(info), Ok(cpu)) => info + cpu,
                _ => field("task_struct", "cpu")?,
            },
            task_mm: field("task_struct", "mm")?,
            mm_arg_start: field("mm_struct", "arg_start")?,
            mm_arg_end: field("mm_struct", "arg_end")?,
            bprm_filename: field("linux_binprm", "filename")?,
            snap_len: options.snap_len,
            task_real_parent: field("task_struct", "real_parent")?,
            task_real_cred: field("task_struct", "real_cred")?,
            cred_uid: field("cred", "uid")?,
            cred_gid: field("cred", "gid")?,
            task_cgroups: field("task_struct", "cgroups")?,
            css_set_dfl_cgrp: field("css_set", "dfl_cgrp")?,
            cgroup_kn: field("cgroup", "kn")?,
            kernfs_node_id: field("kernfs_node", "id")?,
            task_comm: field("task_struct", "comm")?,
            bprm_file: field("linux_binprm", "file")?,
            file_path_dentry: field("file", "f_path")? + field("path", "dentry")?,
            file_path_mnt: field("file", "f_path")? + field("path", "mnt")?,
            dentry_d_parent: field("dentry", "d_parent")?,
            dentry_name: field("dentry", "d_name")? + field("qstr", "name")?,
            dentry_name_len: field("dentry", "d_name")? + field("qstr", "len")?,
            vfsmount_mnt_root: field("vfsmount", "mnt_root")?,
            mount_mnt: field("mount", "mnt")?,
            mount_mnt_parent: field("mount", "mnt_parent")?,
            mount_mnt_mountpoint: field("mount", "mnt_mountpoint")?,
            timing: u32::from(options.timing),
            recorder_tgid: std::process::id(),
            store_release: u32::from(publish == RingPublish::StoreRelease),
            ksigaction_handler: field("k_sigaction", "sa")? + field("sigaction", "sa_handler")?,
            ksigaction_flags: field("k_sigaction", "sa")? + field("sigaction", "sa_flags")?,
            file_inode: field("file", "f_inode")?,
            inode_ino: field("inode", "i_ino")?,
            inode_size: field("inode", "i_size")?,
            inode_mode: field("inode", "i_mode")?,
            inode_sb: field("inode", "i_sb")?,
            sb_dev: field("super_block", "s_dev")?,
            inode_mtime_sec: mtime.0,
            inode_mtime_nsec: mtime.1,
            mm_saved_auxv: field("mm_struct", "saved_auxv")?,
            mm_env_start: field("mm_struct", "env_start")?,
            mm_env_end: field("mm_struct", "env_end")?,
            task_fs: field("task_struct", "fs")?,
            fs_pwd_dentry: field("fs_struct", "pwd")? + field("path", "dentry")?,
            fs_pwd_mnt: field("fs_struct", "pwd")? + field("path", "mnt")?,
            capture_env: u32::from(options.capture_env),
        };
        let arch = Arch::host().ok_or(Error::Internal("unsupported host architecture"))?;
        let kernel_filter = selection.filter.to_kernel(arch, selection.follow);
        let filter = kernel_filter.config;
        let syscall_filters: Vec<u8> = kernel_filter.syscalls.concat();
        let exe_words = if filter.uses_exe != 0 {
            config.task_words
        } else {
            1
        };
        // No target BTF: the object has no CO-RE relocations, so the loader would not use it.
        let mut ebpf = EbpfLoader::new()
            .override_global("CONFIG", &config, true)
            .override_global("FILTER", &filter, true)
            .override_global("SYSCALL_FILTERS", syscall_filters.as_slice(), true)
            .override_global("SIGNAL_FILTERS", kernel_filter.signals.as_slice(), true)
            .map_max_entries("RING_META", config.cpus)
            .map_max_entries("RING_DATA", config.cpus * config.segments_per_cpu)
            .map_max_entries(
                "RING_WAKE",
                wake_buffer_bytes(cpus, u64::from(config.segments_per_cpu)),
            )
            .map_max_entries("TASKS", config.task_words)
            .map_max_entries("EXE_BITS", exe_words)
            .map_max_entries(
                "ENTRY_TIMES",
                if options.timing {
                    config.task_words * 8
                } else {
                    1
                },
            )
            .load(EBPF_OBJECT)
            .map_err(load_error)?;

        {
            let mut table: Array<_, SyscallRule> = Array::try_from(
                ebpf.map_mut("RULES")
                    .ok_or(Error::Internal("no RULES map"))?,
            )
            .map_err(load_error)?;
            for (nr, rule) in selection
                .rules
                .by_nr
                .iter()
                .enumerate()
                .take(MAX_SYSCALLS as usize)
            {
                if *rule != SyscallRule::default() {
                    table.set(nr as u32, rule, 0).map_err(load_error)?;
                }
            }
            // The requests' rules after the syscalls'.
            for (i, (_, rule)) in selection.rules.requests.iter().enumerate() {
                table
                    .set(MAX_SYSCALLS + i as u32, rule, 0)
                    .map_err(load_error)?;
            }
        }
        {
            // Where each request's rule is, by its key.
            let mut slots: HashMap<_, u64, u32> = HashMap::try_from(
                ebpf.map_mut("REQUEST_SLOTS")
                    .ok_or(Error::Internal("no REQUEST_SLOTS map"))?,
            )
            .map_err(load_error)?;
            for (i, (key, _)) in selection.rules.requests.iter().enumerate() {
                slots
                    .insert(key, &(MAX_SYSCALLS + i as u32), 0)
                    .map_err(load_error)?;
            }
        }

        let map_fd = |ebpf: &Ebpf, name: &str| -> Result<std::os::fd::RawFd> {
            match ebpf.map(name) {
                Some(Map::Array(data)) => Ok(std::os::fd::AsRawFd::as_raw_fd(&data.fd().as_fd())),
                _ => Err(Error::Internal("task map missing")),
            }
        };
        let task_bytes = page_align(config.task_words as usize * 8);
        // SAFETY: the fds belong to maps `ebpf` keeps open for as long as the mappings live
        // (both are owned by the returned Probes).
        let (tasks, exe_bits) = unsafe {
            (
                Mapping::new(
                    std::os::fd::BorrowedFd::borrow_raw(map_fd(&ebpf, "TASKS")?),
                    task_bytes,
                ),
                Mapping::new(
                    std::os::fd::BorrowedFd::borrow_raw(map_fd(&ebpf, "EXE_BITS")?),
                    page_align(exe_words as usize * 8),
                ),
            )
        };
        let map_error = |e: std::io::Error| Error::Load(format!("mapping the task maps: {e}"));
        let (tasks, exe_bits) = (tasks.map_err(map_error)?, exe_bits.map_err(map_error)?);

        let aya_btf = aya_btf
            .join()
            .map_err(|_| Error::Internal("parsing BTF panicked"))?
            .map_err(btf_error)?;
        let cgroup = (filter.uses_cgroup != 0).then_some(CGROUP_PROGRAM);
        let enter = options.timing.then_some(ENTER_PROGRAM);
        let hooked: Vec<(&str, &str)> = cgroup.into_iter().chain(enter).chain(PROGRAMS).collect();
        let steps = CAPTURE_STEP_PROGRAMS.map(|(_, program)| (program, "sys_exit"));
        load_programs(&mut ebpf, &aya_btf, steps.iter().chain(&hooked))?;

        let mut step_fds = Vec::new();
        for (index, program) in CAPTURE_STEP_PROGRAMS {
            let prog: &BtfTracePoint = ebpf
                .program(program)
                .ok_or(Error::Internal("program missing from the eBPF object"))?
                .try_into()
                .map_err(load_error)?;
            let fd = prog.fd().map_err(load_error)?;
            step_fds.push((index, fd.try_clone().map_err(load_error)?));
        }
        // The map stays in `ebpf`: a program array loses its entries with its last
        // userspace reference.
        let mut step_array: ProgramArray<_> = ProgramArray::try_from(
            ebpf.map_mut("CAPTURE_STEP")
                .ok_or(Error::Internal("no CAPTURE_STEP map"))?,
        )
        .map_err(load_error)?;
        for (index, fd) in &step_fds {
            step_array.set(*index, fd, 0).map_err(load_error)?;
        }

        // The caller's argv of execve and execveat, at their entry points: BPF
        // trampolines, which a kernel may lack; the exec records then hold the new image's
        // argv only.
        let mut exec_argv = String::from(EXEC_ARGV_CALLERS);
        let mut exec_tracepoints = Vec::new();
        for (program, syscall) in EXEC_ARGS_PROGRAMS {
            let entry = format!("{}{syscall}", arch.syscall_entry_prefix());
            let hooked = (|| -> std::result::Result<(), String> {
                let prog: &mut FEntry = ebpf
                    .program_mut(program)
                    .ok_or("program missing from the eBPF object")?
                    .try_into()
                    .map_err(|e: ProgramError| e.to_string())?;
                prog.load(&entry, &aya_btf).map_err(|e| e.to_string())?;
                prog.attach().map_err(|e| e.to_string())?;
                Ok(())
            })();
            if let Err(why) = hooked {
                let refused =
                    format!("the new image's: this kernel refused fentry on {entry} ({why})");
                // A program that attached stays: a second copy of the same argv is harmless.
                exec_argv = if !options.caller_argv_tracepoints {
                    format!("{refused}; --caller-argv-tracepoints would take it")
                } else {
                    match attach_exec_tracepoints(&mut ebpf) {
                        Ok(events) => {
                            exec_tracepoints = events;
                            String::from(EXEC_ARGV_CALLERS)
                        }
                        Err(tracepoints) => {
                            format!("{refused} and the syscalls tracepoints ({tracepoints})")
                        }
                    }
                };
                break;
            }
        }

        // In order: sys_exit last, once the step programs are in place and task tracking
        // runs.
        let mut attached = Vec::new();
        for (program, _) in hooked {
            let prog: &mut BtfTracePoint = ebpf
                .program_mut(program)
                .ok_or(Error::Internal("program missing from the eBPF object"))?
                .try_into()
                .map_err(load_error)?;
            prog.attach().map_err(load_error)?;
            attached.push(program);
        }

        let armed = HashMap::try_from(
            ebpf.take_map("ARMED")
                .ok_or(Error::Internal("no ARMED map"))?,
        )
        .map_err(load_error)?;
        Ok(Probes {
            ebpf,
            armed,
            tasks,
            exe_bits,
            exe_len: if filter.uses_exe != 0 {
                config.task_words as usize * 8
            } else {
                0
            },
            config,
            publish,
            exec_argv,
            _exec_tracepoints: exec_tracepoints,
            attached,
        })
    }

    /// Sets the state of running thread `tid` (a `task_state`) and its exe bits; false if
    /// the id is beyond pid_max.
    pub fn mark(&mut self, tid: u32, state: u8, exe_bits: u8) -> bool {
        let index = tid as usize;
        if index >= self.config.task_words as usize * 8 {
            return false;
        }
        // SAFETY: a byte inside the mapping of TASKS; the kernel writes other bytes only.
        unsafe { std::ptr::write_volatile(self.tasks.as_ptr().add(index), state) };
        if index < self.exe_len {
            // SAFETY: as above, in EXE_BITS.
            unsafe { std::ptr::write_volatile(self.exe_bits.as_ptr().add(index), exe_bits) };
        }
        true
    }

    /// The state of thread `tid`.
    pub fn state(&self, tid: u32) -> u8 {
        let index = tid as usize;
        if index >= self.config.task_words as usize * 8 {
            return 0;
        }
        // SAFETY: a byte inside the mapping of TASKS.
        unsafe { std::ptr::read_volatile(self.tasks.as_ptr().add(index)) }
    }

    /// Marks thread `tid` to be traced from its next exec on.
    pub fn arm(&mut self, tid: u32) -> Result<()> {
        self.armed.insert(&tid, &1, 0).map_err(load_error)
    }

    /// Which argv exec records hold: [`EXEC_ARGV_CALLERS`], or the new image's and why.
    pub fn exec_argv(&self) -> &str {
        &self.exec_argv
    }

    /// How the loaded program publishes records.
    pub fn ring_publish(&self) -> RingPublish {
        self.publish
    }

    /// Maps the per-CPU rings for the drain, and hands it their notices.
    pub fn rings(&mut self) -> Result<Rings> {
        let notices = match self.ebpf.take_map("RING_WAKE") {
            Some(map @ Map::RingBuf(_)) => aya::maps::RingBuf::try_from(map).map_err(load_error)?,
            _ => return Err(Error::Internal("ring notice map missing")),
        };
        let fd = |name: &str| -> Result<_> {
            match self.ebpf.map(name) {
                Some(Map::Array(data)) => Ok(data.fd().as_fd()),
                _ => Err(Error::Internal("ring map missing")),
            }
        };
        Rings::new(
            fd("RING_META")?,
            fd("RING_DATA")?,
            notices,
            self.config.cpus as usize,
            u64::from(self.config.segments_per_cpu),
        )
        .map_err(|e| Error::Load(format!("mapping the rings: {e}")))
    }

    /// Detaches every program: no event is produced after this returns.
    ///
    /// Returns how many times the kernel skipped one of the programs because it was already
    /// running on that CPU (`recursion_misses`): where the kernel runs them preemptibly, a
    /// program preempted on a CPU makes every other run of it there a miss until it resumes.
    /// Their events never reached syscord and have no sequence number.
    pub fn detach(&mut self) -> u64 {
        let mut misses = 0;
        for program in self.attached.drain(..).rev() {
            if let Some(prog) = self.ebpf.program_mut(program) {
                let prog: std::result::Result<&mut BtfTracePoint, _> = prog.try_into();
                if let Ok(prog) = prog {
                    if let Ok(fd) = prog.fd() {
                        misses += recursion_misses(fd.as_fd()).unwrap_or(0);
                    }
                    // Unloading detaches all its links.
                    let _ = prog.unload();
                }
            }
        }
        misses
    }
}

/// How the eBPF program makes a record visible to the drain: the store of its ring's head,
/// which must not pass the record's own stores (see `ebpf/program/src/ring.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingPublish {
    /// x86-64: stores stay in order, a plain store is a release store.
    PlainStore,
    /// BPF's store-release instruction (arm64 and riscv64, kernels that take it).
    StoreRelease,
    /// An atomic exchange, a full barrier (arm64 and riscv64, older kernels).
    Exchange,
}

impl RingPublish {
    /// What this machine uses: store-release where the kernel takes it, unless
    /// `SYSCORD_RING_PUBLISH=exchange` asks for the exchange (to compare the two).
    pub fn choose() -> Result<RingPublish> {
        if cfg!(target_arch = "x86_64") {
            return Ok(RingPublish::PlainStore);
        }
        match std::env::var("SYSCORD_RING_PUBLISH").as_deref() {
            Err(_) | Ok("") => Ok(if kernel_takes_store_release() {
                RingPublish::StoreRelease
            } else {
                RingPublish::Exchange
            }),
            Ok("exchange") => Ok(RingPublish::Exchange),
            Ok(other) => Err(Error::Usage(format!(
                "SYSCORD_RING_PUBLISH={other}: the only choice is `exchange` (unset, syscord \
                 uses store-release where the kernel has it)"
            ))),
        }
    }

    /// As the file's header names it.
    pub fn name(self) -> &'static str {
        match self {
            RingPublish::PlainStore => "plain store",
            RingPublish::StoreRelease => "store-release",
            RingPublish::Exchange => "atomic exchange",
        }
    }
}

/// Whether the kernel's verifier and JIT take BPF's store-release instruction (6.15 on
/// arm64 and x86-64, 6.16 on riscv64): a socket filter that stores to its stack with it
/// loads or is refused. Asked of the kernel, not read from its version, so backports count.
pub fn kernel_takes_store_release() -> bool {
    use aya_obj::generated::{bpf_attr, bpf_cmd, bpf_prog_type};
    /// One instruction: opcode, destination and source registers, offset, immediate.
    const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
        let off = off.to_le_bytes();
        let imm = imm.to_le_bytes();
        [
            code,
            dst | src << 4,
            off[0],
            off[1],
            imm[0],
            imm[1],
            imm[2],
            imm[3],
        ]
    }
    const MOV64_IMM: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
    const STX_DW: u8 = 0x7b; // BPF_STX | BPF_MEM | BPF_DW
    const ATOMIC_DW: u8 = 0xdb; // BPF_STX | BPF_ATOMIC | BPF_DW
    const STORE_REL: i32 = 0x110; // BPF_STORE_REL
    const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT
    let program = [
        insn(MOV64_IMM, 1, 0, 0, 0),           // r1 = 0
        insn(STX_DW, 10, 1, -8, 0),            // *(u64 *)(r10 - 8) = r1
        insn(ATOMIC_DW, 10, 1, -8, STORE_REL), // store_release((u64 *)(r10 - 8), r1)
        insn(MOV64_IMM, 0, 0, 0, 0),           // r0 = 0
        insn(EXIT, 0, 0, 0, 0),                // exit
    ];
    let license = c"GPL";
    // SAFETY: a plain C union, valid zeroed.
    let mut attr: bpf_attr = unsafe { std::mem::zeroed() };
    // SAFETY: the `__bindgen_anon_3` member is the one BPF_PROG_LOAD reads; `program` and
    // `license` outlive the call, and the kernel only reads them.
    let fd = unsafe {
        let load = &mut attr.__bindgen_anon_3;
        load.prog_type = bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER as u32;
        load.insn_cnt = program.len() as u32;
        load.insns = program.as_ptr() as u64;
        load.license = license.as_ptr() as u64;
        bpf(bpf_cmd::BPF_PROG_LOAD, &mut attr)
    };
    let Ok(fd) = fd else {
        return false;
    };
    // SAFETY: a descriptor the kernel just gave this process, owned by nothing else.
    drop(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
    true
}

/// The `bpf` system call, for the commands aya has no public call for.
///
/// # Safety
/// `attr` must be filled in as `cmd` reads it, and every pointer in it valid for the call.
unsafe fn bpf(
    cmd: aya_obj::generated::bpf_cmd,
    attr: &mut aya_obj::generated::bpf_attr,
) -> std::io::Result<i32> {
    // SAFETY: the caller's promise; the kernel reads and writes at most size_of(bpf_attr).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            std::ptr::from_mut(attr),
            std::mem::size_of::<aya_obj::generated::bpf_attr>(),
        )
    };
    if ret < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(ret as i32)
}

/// The kernel's count of the runs of a program it skipped because the program was already
/// running on that CPU (`bpf_prog_info.recursion_misses`, kernel 5.12 and later; 0 before).
fn recursion_misses(fd: std::os::fd::BorrowedFd<'_>) -> std::io::Result<u64> {
    use aya_obj::generated::{bpf_attr, bpf_cmd, bpf_prog_info};
    // SAFETY: plain C structs, valid zeroed.
    let mut info: bpf_prog_info = unsafe { std::mem::zeroed() };
    let mut attr: bpf_attr = unsafe { std::mem::zeroed() };
    // SAFETY: the `info` member of the union is the one BPF_OBJ_GET_INFO_BY_FD reads; the
    // kernel writes at most `info_len` bytes to `info`, which outlives the call.
    unsafe {
        attr.info.bpf_fd = std::os::fd::AsRawFd::as_raw_fd(&fd) as u32;
        attr.info.info_len = std::mem::size_of::<bpf_prog_info>() as u32;
        attr.info.info = std::ptr::addr_of_mut!(info) as u64;
        bpf(bpf_cmd::BPF_OBJ_GET_INFO_BY_FD, &mut attr)?;
    }
    Ok(info.recursion_misses)
}

/// The eBPF program reads `pt_regs` at offsets compiled in for this architecture; check
/// every one against the running kernel before trusting a single argument.
fn check_pt_regs_layout(btf: &Btf) -> Result<()> {
    let Some(arch) = Arch::host() else {
        return Err(Error::Internal("unsupported host architecture"));
    };
    for reg in arch.pt_regs().registers().into_iter().flatten() {
        // An element of a register array (arm64's `regs[1]`): registers are 8 bytes.
        let (member, index) = match reg.name.split_once('[') {
            Some((member, index)) => (member, index.trim_end_matches(']').parse().unwrap_or(0)),
            None => (reg.name, 0u32),
        };
        let actual = btf.field_offset("pt_regs", member).map_err(btf_error)? + 8 * index;
        if actual as usize != reg.offset {
            return Err(Error::Unsupported(format!(
                "this kernel's pt_regs.{} is at byte {actual}, syscord expects {}",
                reg.name, reg.offset
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pt_regs_register_matches_the_running_kernel() {
        let data = std::fs::read(crate::btf::VMLINUX).unwrap();
        let btf = Btf::parse(&data).unwrap();
        check_pt_regs_layout(&btf).unwrap();
    }

    /// The probe against the kernels' history: store-release came with 6.15 on x86-64 and
    /// arm64, with 6.16 on riscv64.
    #[test]
    fn the_store_release_probe_matches_the_kernel_version() {
        let uname = nix::sys::utsname::uname().unwrap();
        let release = uname.release().to_string_lossy().into_owned();
        let mut numbers = release.split(|c: char| !c.is_ascii_digit());
        let version: (u32, u32) = (
            numbers.next().unwrap().parse().unwrap(),
            numbers.next().unwrap().parse().unwrap(),
        );
        let first = if cfg!(target_arch = "riscv64") {
            (6, 16)
        } else {
            (6, 15)
        };
        assert_eq!(
            kernel_takes_store_release(),
            version >= first,
            "kernel {release}"
        );
    }

    #[test]
    fn default_ring_sizes() {
        assert_eq!(ProbeOptions::default_ring_bytes_per_cpu(1), 16 << 20);
        assert_eq!(ProbeOptions::default_ring_bytes_per_cpu(2), 16 << 20);
        assert_eq!(ProbeOptions::default_ring_bytes_per_cpu(4), 16 << 20);
        assert_eq!(ProbeOptions::default_ring_bytes_per_cpu(8), 8 << 20);
        assert_eq!(ProbeOptions::default_ring_bytes_per_cpu(12), 4 << 20);
        assert_eq!(ProbeOptions::default_ring_bytes_per_cpu(256), SEGMENT_SIZE);
    }
}
