//! Handlers by syscall number for one architecture, and the capture rules for the eBPF
//! program.

use std::collections::{BTreeMap, HashMap};

use syscord_arch::{Arch, SyscallTable};
use syscord_common::{
    CaptureRule, MAX_CAPTURES, MAX_SYSCALLS, SyscallRule, capture_flags, capture_kind,
    capture_when, len_from, rule_flags,
};

use crate::{Class, Handler, Kind, Len, Ptr, Role, Value, all};

/// What to capture, beyond the thesis's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Capture the content WC syscalls send (write, sendto): off by default, it is the
    /// process's own memory.
    pub capture_writes: bool,
    /// Capture the inputs of WS syscalls when they succeed too (by default only on failure).
    pub capture_ws_inputs: bool,
    /// Capture memory at all; false records registers only.
    pub capture_memory: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            capture_writes: false,
            capture_ws_inputs: false,
            capture_memory: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("two handlers for {0}")]
    Duplicate(&'static str),
}

/// The handlers of one architecture's syscalls, by number.
pub struct Registry {
    arch: Arch,
    by_nr: Vec<Option<&'static Handler>>,
}

impl Registry {
    pub fn new(arch: Arch) -> Result<Registry, RegistryError> {
        let table = SyscallTable::of(arch);
        let mut by_name: HashMap<&str, &'static Handler> = HashMap::new();
        for h in all() {
            if by_name.insert(h.name, h).is_some() {
                return Err(RegistryError::Duplicate(h.name));
            }
        }
        let mut by_nr = vec![None; table.max_nr_exclusive() as usize];
        for (nr, name) in table.iter() {
            by_nr[nr as usize] = by_name.get(name).copied();
        }
        Ok(Registry { arch, by_nr })
    }

    pub fn arch(&self) -> Arch {
        self.arch
    }

    pub fn get(&self, nr: u32) -> Option<&'static Handler> {
        self.by_nr.get(nr as usize).copied().flatten()
    }

    /// The names of each syscall's captures, by number, in the order of their ids (the
    /// kernel numbers a syscall's captures by their place in `Handler::captures`).
    pub fn capture_names(&self) -> BTreeMap<u32, Vec<String>> {
        self.by_nr
            .iter()
            .enumerate()
            .filter_map(|(nr, h)| {
                let h = (*h)?;
                (!h.captures.is_empty()).then(|| {
                    (
                        nr as u32,
                        h.captures.iter().map(|c| c.name.to_owned()).collect(),
                    )
                })
            })
            .collect()
    }

    /// (number, name) of the syscalls of this architecture that have no handler.
    pub fn missing(&self) -> Vec<(u32, &'static str)> {
        SyscallTable::of(self.arch)
            .iter()
            .filter(|&(nr, _)| self.get(nr).is_none())
            .collect()
    }

    /// The eBPF program's rule table: index = syscall number.
    pub fn rules(&self, policy: &Policy) -> Vec<SyscallRule> {
        // Numbers without a handler keep all six argument registers.
        let unknown = SyscallRule {
            flags: 6 << rule_flags::ARGS_SHIFT,
            ..Default::default()
        };
        let mut rules = vec![unknown; MAX_SYSCALLS as usize];
        for (nr, handler) in self.by_nr.iter().enumerate() {
            let (Some(handler), Some(rule)) = (handler, rules.get_mut(nr)) else {
                continue;
            };
            *rule = rule_for(handler, self.arch, policy);
        }
        rules
    }
}

/// When a capture with `role` of a `class` syscall is taken under `policy`.
pub fn capture_when(class: Class, role: Role, policy: &Policy) -> u8 {
    if !policy.capture_memory {
        return 0;
    }
    let always = capture_when::ON_SUCCESS | capture_when::ON_FAILURE;
    match role {
        Role::Output => capture_when::ON_SUCCESS,
        Role::Input => match class {
            Class::RS | Class::RC => always,
            Class::WS | Class::WC if policy.capture_ws_inputs => always,
            Class::WS | Class::WC => capture_when::ON_FAILURE,
        },
        Role::Content if policy.capture_writes => always,
        Role::Content | Role::Exec => 0,
    }
}

fn rule_for(handler: &Handler, arch: Arch, policy: &Policy) -> SyscallRule {
    let mut rule = SyscallRule {
        flags: handler.flags | ((handler.args.len() as u32) << rule_flags::ARGS_SHIFT),
        ..Default::default()
    };
    let mut n = 0;
    for (id, c) in handler.captures.iter().enumerate() {
        let when = capture_when(handler.class, c.role, policy);
        if when == 0 || n >= MAX_CAPTURES {
            continue;
        }
        let mut r = CaptureRule {
            kind: match c.kind {
                Kind::Bytes => capture_kind::BYTES,
                Kind::CString => capture_kind::CSTRING,
                Kind::Iovec => capture_kind::IOVEC,
            },
            when,
            id: id as u8,
            ..Default::default()
        };
        match c.ptr {
            Ptr::Arg(a) => r.ptr_arg = a,
            Ptr::Field { arg, offset } => {
                r.ptr_arg = arg;
                r.ptr_offset = offset;
                r.flags |= capture_flags::PTR_INDIRECT;
            }
        }
        match c.len {
            Len::Fixed(size) => {
                r.len_from = len_from::FIXED;
                r.size = size.bytes(arch);
            }
            Len::Ret => r.len_from = len_from::RET,
            Len::Arg(a) => {
                r.len_from = len_from::ARG;
                r.len_arg = a;
            }
            Len::DerefU32 { arg, offset } => {
                r.len_from = len_from::DEREF_U32;
                r.len_arg = arg;
                r.len_offset = offset;
            }
            Len::DerefU64 { arg, offset } => {
                r.len_from = len_from::DEREF_U64;
                r.len_arg = arg;
                r.len_offset = offset;
            }
            Len::RetTimes(size) => {
                r.len_from = len_from::RET_TIMES;
                r.size = size.bytes(arch);
            }
            Len::ArgTimes(a, size) => {
                r.len_from = len_from::ARG_TIMES;
                r.len_arg = a;
                r.size = size.bytes(arch);
            }
            Len::RetPlus(size) => {
                r.len_from = len_from::RET_PLUS;
                r.size = size.bytes(arch);
            }
            Len::ArgPlus(a, size) => {
                r.len_from = len_from::ARG_PLUS;
                r.len_arg = a;
                r.size = size.bytes(arch);
            }
        }
        rule.captures[n] = r;
        n += 1;
    }
    rule.ncaptures = n as u32;
    rule
}

/// Every problem with the registered handlers: duplicates, names no architecture knows,
/// arguments and captures that do not fit, syscalls without a handler. Empty when all is
/// well; a test keeps it that way.
pub fn check_all() -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for h in all() {
        *seen.entry(h.name).or_default() += 1;
    }
    for (name, count) in &seen {
        if *count > 1 {
            problems.push(format!("{name}: {count} handlers"));
        }
        if Arch::ALL
            .iter()
            .all(|&arch| SyscallTable::of(arch).number(name).is_none())
        {
            problems.push(format!("{name}: no architecture has this syscall"));
        }
    }
    for h in all() {
        if h.args.len() > 6 {
            problems.push(format!("{}: more than six arguments", h.name));
        }
        if h.captures.len() > MAX_CAPTURES {
            problems.push(format!("{}: more than {MAX_CAPTURES} captures", h.name));
        }
        let arg_ok = |a: u8| (a as usize) < h.args.len();
        for c in h.captures {
            let ptr_arg = match c.ptr {
                Ptr::Arg(a) | Ptr::Field { arg: a, .. } => a,
            };
            if !arg_ok(ptr_arg) {
                problems.push(format!(
                    "{}: capture {} reads argument {ptr_arg}",
                    h.name, c.name
                ));
            }
            let len_arg = match c.len {
                Len::Arg(a) | Len::ArgTimes(a, _) | Len::ArgPlus(a, _) => Some(a),
                Len::DerefU32 { arg, .. } | Len::DerefU64 { arg, .. } => Some(arg),
                _ => None,
            };
            if let Some(a) = len_arg
                && !arg_ok(a)
            {
                problems.push(format!(
                    "{}: capture {} sized by argument {a}",
                    h.name, c.name
                ));
            }
            if c.kind == Kind::Iovec && matches!(c.len, Len::Ret | Len::Fixed(_)) {
                problems.push(format!(
                    "{}: iovec capture {} needs a count",
                    h.name, c.name
                ));
            }
        }
        for (i, a) in h.args.iter().enumerate() {
            if let Value::Data(n) = a.value
                && (n as usize >= h.captures.len())
            {
                problems.push(format!(
                    "{}: argument {i} shows missing capture {n}",
                    h.name
                ));
            }
        }
        let mut names: Vec<&str> = h.captures.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() != h.captures.len() {
            problems.push(format!("{}: two captures with one name", h.name));
        }
    }
    for arch in Arch::ALL {
        match Registry::new(arch) {
            Ok(registry) => {
                for (nr, name) in registry.missing() {
                    problems.push(format!("{arch}: syscall {nr} {name} has no handler"));
                }
            }
            Err(e) => problems.push(format!("{arch}: {e}")),
        }
    }
    problems.sort();
    problems
}
