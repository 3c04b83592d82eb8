//! Handlers by syscall number for one architecture, and the capture rules for the eBPF
//! program.

use std::collections::{BTreeMap, HashMap};

use syscord_arch::{Arch, SyscallTable};
use syscord_common::{
    CaptureRule, MAX_CAPTURES, MAX_REQUEST_RULES, MAX_SYSCALLS, SyscallRule, capture_flags,
    capture_kind, capture_when, len_from, request_key, rule_flags,
};

use crate::{Capture, Class, Handler, Kind, Len, Ptr, Request, Role, Value, all, all_requests};

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
    #[error("two requests of {0} with the value of {1}")]
    DuplicateRequest(&'static str, &'static str),
}

/// The handlers of one architecture's syscalls, by number.
pub struct Registry {
    arch: Arch,
    by_nr: Vec<Option<&'static Handler>>,
    /// The requests of each syscall that has them, by value.
    requests: HashMap<u32, Vec<&'static Request>>,
}

/// A syscall's capture: its handler's own, or one of a request's.
#[derive(Debug, Clone, Copy)]
pub struct CaptureOf {
    pub capture: &'static Capture,
    pub request: Option<&'static Request>,
}

impl CaptureOf {
    /// The name a recording gives it: the capture's, after its request's for a request's
    /// (`TIOCGWINSZ.argp`), since the requests of one syscall share argument names.
    pub fn name(&self) -> String {
        match self.request {
            Some(r) => format!("{}.{}", r.name, self.capture.name),
            None => self.capture.name.to_owned(),
        }
    }
}

/// The eBPF program's rules: by syscall number, and by (syscall, request) pair.
#[derive(Debug, Clone)]
pub struct Rules {
    pub by_nr: Vec<SyscallRule>,
    /// `(request_key(nr, value), rule)`.
    pub requests: Vec<(u64, SyscallRule)>,
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
        let mut requests: HashMap<u32, Vec<&'static Request>> = HashMap::new();
        for r in all_requests() {
            if let Some(nr) = table.number(r.syscall) {
                requests.entry(nr).or_default().push(r);
            }
        }
        for list in requests.values_mut() {
            list.sort_by_key(|r| r.value);
            if let Some(pair) = list.windows(2).find(|w| w[0].value == w[1].value) {
                return Err(RegistryError::DuplicateRequest(
                    pair[0].syscall,
                    pair[1].name,
                ));
            }
        }
        Ok(Registry {
            arch,
            by_nr,
            requests,
        })
    }

    /// The requests of syscall `nr`, by value.
    pub fn requests(&self, nr: u32) -> &[&'static Request] {
        self.requests.get(&nr).map_or(&[], Vec::as_slice)
    }

    /// The request a call of syscall `nr` with these arguments makes, if syscord knows it.
    pub fn request(&self, nr: u32, args: &[u64; 6]) -> Option<&'static Request> {
        let arg = self.get(nr)?.request_arg?;
        let value = args[arg as usize] & 0xffff_ffff;
        let list = self.requests.get(&nr)?;
        list.binary_search_by_key(&value, |r| r.value)
            .ok()
            .map(|i| list[i])
    }

    /// Syscall `nr`'s captures in the order of their ids: its handler's, then each
    /// request's, requests by value.
    pub fn captures(&self, nr: u32) -> Vec<CaptureOf> {
        let Some(handler) = self.get(nr) else {
            return Vec::new();
        };
        let own = handler.captures.iter().map(|capture| CaptureOf {
            capture,
            request: None,
        });
        let requested = self.requests(nr).iter().flat_map(|&r| {
            r.captures.iter().map(move |capture| CaptureOf {
                capture,
                request: Some(r),
            })
        });
        own.chain(requested).collect()
    }

    /// Capture `id` of syscall `nr`.
    pub fn capture(&self, nr: u32, id: u8) -> Option<CaptureOf> {
        self.captures(nr).get(id as usize).copied()
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
        (0..self.by_nr.len() as u32)
            .filter_map(|nr| {
                let names: Vec<String> = self.captures(nr).iter().map(CaptureOf::name).collect();
                (!names.is_empty()).then_some((nr, names))
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
    pub fn rules(&self, policy: &Policy) -> Rules {
        // Numbers without a handler keep all six argument registers.
        let unknown = SyscallRule {
            flags: 6 << rule_flags::ARGS_SHIFT,
            ..Default::default()
        };
        let mut rules = vec![unknown; MAX_SYSCALLS as usize];
        let mut requests = Vec::new();
        for (nr, handler) in self.by_nr.iter().enumerate() {
            let (Some(handler), Some(rule)) = (handler, rules.get_mut(nr)) else {
                continue;
            };
            let flags = handler.flags | ((handler.args.len() as u32) << rule_flags::ARGS_SHIFT);
            *rule = rule_for(flags, handler.class, handler.captures, 0, self.arch, policy);
            let Some(arg) = handler.request_arg else {
                continue;
            };
            rule.flags |=
                rule_flags::BY_REQUEST | (u32::from(arg) << rule_flags::REQUEST_ARG_SHIFT);
            // A request's rule takes the syscall's own captures (a path, the whole
            // argument struct), then the request's.
            let own = SyscallRule { flags, ..*rule };
            let mut first_id = handler.captures.len();
            for r in self.requests(nr as u32) {
                let of_request = rule_for(flags, r.class, r.captures, first_id, self.arch, policy);
                first_id += r.captures.len();
                if of_request.ncaptures > 0 {
                    let mut request_rule = own;
                    for c in &of_request.captures[..of_request.ncaptures as usize] {
                        if (request_rule.ncaptures as usize) < MAX_CAPTURES {
                            request_rule.captures[request_rule.ncaptures as usize] = *c;
                            request_rule.ncaptures += 1;
                        }
                    }
                    requests.push((request_key(nr as u32, r.value), request_rule));
                }
            }
        }
        Rules {
            by_nr: rules,
            requests,
        }
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

/// The rule of a syscall (or one of its requests) of `class` with these captures, whose
/// ids start at `first_id`.
fn rule_for(
    flags: u32,
    class: Class,
    captures: &[Capture],
    first_id: usize,
    arch: Arch,
    policy: &Policy,
) -> SyscallRule {
    let mut rule = SyscallRule {
        flags,
        ..Default::default()
    };
    let mut n = 0;
    for (id, c) in captures.iter().enumerate() {
        let id = first_id + id;
        let when = capture_when(class, c.role, policy);
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
            Len::RetAtMostArg(a) => {
                r.len_from = len_from::RET_AT_MOST_ARG;
                r.len_arg = a;
            }
            Len::RetIfAtMostArg(a) => {
                r.len_from = len_from::RET_IF_AT_MOST_ARG;
                r.len_arg = a;
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
    let handlers: HashMap<&str, &Handler> = all().map(|h| (h.name, h)).collect();
    for r in all_requests() {
        let Some(h) = handlers.get(r.syscall) else {
            problems.push(format!("{} {}: no such handler", r.syscall, r.name));
            continue;
        };
        let Some(request_arg) = h.request_arg else {
            problems.push(format!(
                "{} {}: the handler takes no requests",
                r.syscall, r.name
            ));
            continue;
        };
        if r.captures.len() > MAX_CAPTURES {
            problems.push(format!(
                "{} {}: more than {MAX_CAPTURES} captures",
                r.syscall, r.name
            ));
        }
        for c in r.captures {
            match c.ptr {
                Ptr::Arg(a) | Ptr::Field { arg: a, .. }
                    if (a as usize) < h.args.len() && a != request_arg => {}
                _ => problems.push(format!(
                    "{} {}: capture {} points at no argument it can show",
                    r.syscall, r.name, c.name
                )),
            }
        }
    }
    for arch in Arch::ALL {
        match Registry::new(arch) {
            Ok(registry) => {
                for (nr, name) in registry.missing() {
                    problems.push(format!("{arch}: syscall {nr} {name} has no handler"));
                }
                for nr in 0..MAX_SYSCALLS {
                    if registry.captures(nr).len() > usize::from(u8::MAX) {
                        problems.push(format!("{arch}: syscall {nr}: more than 255 captures"));
                    }
                }
                let rules = registry.rules(&Policy::default());
                if rules.requests.len() > MAX_REQUEST_RULES as usize {
                    problems.push(format!(
                        "{arch}: more than {MAX_REQUEST_RULES} requests capture memory"
                    ));
                }
            }
            Err(e) => problems.push(format!("{arch}: {e}")),
        }
    }
    problems.sort();
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_get_rules_of_their_own_and_ids_after_the_syscalls_captures() {
        for arch in Arch::ALL {
            let registry = Registry::new(arch).unwrap();
            let ioctl = SyscallTable::of(arch).number("ioctl").unwrap();
            let rules = registry.rules(&Policy::default());
            let base = rules.by_nr[ioctl as usize];
            assert_ne!(base.flags & rule_flags::BY_REQUEST, 0);
            assert_eq!(
                (base.flags & rule_flags::REQUEST_ARG_MASK) >> rule_flags::REQUEST_ARG_SHIFT,
                1
            );
            assert_eq!(base.ncaptures, 0);
            let (_, winsize) = rules
                .requests
                .iter()
                .find(|(key, _)| *key == request_key(ioctl, 0x5413))
                .expect("TIOCGWINSZ's rule");
            assert_eq!(winsize.flags & rule_flags::BY_REQUEST, 0);
            assert_eq!(winsize.ncaptures, 1);
            assert_eq!(winsize.captures[0].size, 8);
            let id = winsize.captures[0].id;
            let of = registry.capture(ioctl, id).unwrap();
            assert_eq!(of.name(), "TIOCGWINSZ.argp");
            let args = [0, 0x5413, 0, 0, 0, 0];
            assert_eq!(registry.request(ioctl, &args).unwrap().name, "TIOCGWINSZ");
            // A setter's input is taken on failure only, as for any WS call.
            let (_, setter) = rules
                .requests
                .iter()
                .find(|(key, _)| *key == request_key(ioctl, 0x5414))
                .expect("TIOCSWINSZ's rule");
            assert_eq!(setter.captures[0].when, capture_when::ON_FAILURE);
            // Requests that capture nothing need no rule.
            assert!(
                !rules
                    .requests
                    .iter()
                    .any(|(key, _)| *key == request_key(ioctl, 0x5451))
            );
        }
    }
}
