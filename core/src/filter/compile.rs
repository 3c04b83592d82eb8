//! Turning a filter into what the kernel evaluates.
//!
//! The filter's comparisons are of two kinds. Process conditions (pid, tid, comm, ppid,
//! pcomm, uid, gid, exe, cgroup) are decided when a thread starts, execs, is renamed or
//! changes credentials or cgroup; syscall conditions (syscall, class, failed) per event. For
//! each combination of the process conditions' results, what remains of the filter is a
//! function of the syscall number and of its failure alone: a table of two bits per syscall
//! number. Identical tables are shared; a table that is all zeros means "not recorded", all
//! ones "everything". So the kernel evaluates at most eight conditions per new thread and
//! one table lookup per syscall, whatever the filter looks like.

use std::collections::{BTreeSet, HashMap};

use syscord_arch::{Arch, SyscallTable};
use syscord_common::{
    FilterConfig, MAX_CONDITION_VALUES, MAX_CONDITIONS, MAX_SYSCALL_FILTERS, MAX_SYSCALLS,
    NAME_PATTERN_LEN, NO_SYSCALL_SLOT, NamePattern, PATH_PATTERN_LEN, PathPattern, SignalFilter,
    SyscallFilter, condition_field, condition_op, follow, pattern_kind, task_state,
};
use syscord_handlers::{Class, Registry, values};

use super::parse::{Expr, Field, FilterError, Literal, Op, Value};

/// A process condition, as the kernel and `procfs` evaluate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessCondition {
    Number {
        field: u8,
        op: u8,
        values: Vec<u64>,
    },
    Name {
        /// COMM or PCOMM.
        field: u8,
        any: bool,
        patterns: Vec<Pattern>,
    },
    /// Indices into the exe patterns.
    Exe {
        any: bool,
        patterns: Vec<usize>,
    },
    Cgroup {
        any: bool,
        ids: Vec<u64>,
    },
}

/// A glob with at most a `*` at each end; `?` matches any one byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    pub kind: u8,
    pub text: Vec<u8>,
}

impl Pattern {
    fn parse(glob: &str, column: usize, max: usize, field: &str) -> Result<Pattern, FilterError> {
        let starts = glob.starts_with('*');
        let rest = &glob[usize::from(starts)..];
        let ends = !rest.is_empty() && rest.ends_with('*');
        let text = &rest[..rest.len() - usize::from(ends)];
        if text.contains('*') {
            return Err(FilterError {
                column,
                message: format!(
                    "'{glob}': a {field} pattern has a '*' at its start, its end or both, not inside"
                ),
            });
        }
        if text.len() > max {
            return Err(FilterError {
                column,
                message: format!("'{glob}': a {field} pattern is at most {max} bytes"),
            });
        }
        let kind = match (starts, ends) {
            (false, false) => pattern_kind::EXACT,
            (false, true) => pattern_kind::PREFIX,
            (true, false) => pattern_kind::SUFFIX,
            (true, true) => pattern_kind::CONTAINS,
        };
        Ok(Pattern {
            kind,
            text: text.as_bytes().to_vec(),
        })
    }

    /// The same test the eBPF program makes.
    pub fn matches(&self, text: &[u8]) -> bool {
        let eq = |window: &[u8]| {
            window.len() == self.text.len()
                && window
                    .iter()
                    .zip(&self.text)
                    .all(|(&t, &p)| p == b'?' || p == t)
        };
        let n = self.text.len();
        if n > text.len() {
            return false;
        }
        match self.kind {
            pattern_kind::EXACT => eq(text),
            pattern_kind::PREFIX => eq(&text[..n]),
            pattern_kind::SUFFIX => eq(&text[text.len() - n..]),
            _ => text.windows(n.max(1)).any(eq) || n == 0,
        }
    }
}

/// Where the running threads' cgroups are: the cgroup2 mount.
pub trait CgroupResolver {
    /// The ids of the cgroups whose path (relative to the cgroup2 root, starting with '/')
    /// matches `glob`.
    fn resolve(&self, glob: &str) -> Result<Vec<u64>, String>;
}

/// The compiled filter.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub conditions: Vec<ProcessCondition>,
    pub exe_patterns: Vec<Pattern>,
    /// Indexed by the conditions' results: a task_state.
    pub states: Vec<u8>,
    pub syscall_filters: Vec<SyscallFilter>,
    /// The signals each syscall filter keeps, at the same index.
    pub signal_filters: Vec<SignalFilter>,
    pub uses_creds: bool,
    pub uses_cgroup: bool,
}

impl Compiled {
    /// No filter: every candidate recorded in full.
    pub fn everything() -> Compiled {
        Compiled {
            conditions: Vec::new(),
            exe_patterns: Vec::new(),
            states: vec![task_state::ALL],
            syscall_filters: Vec::new(),
            signal_filters: Vec::new(),
            uses_creds: false,
            uses_cgroup: false,
        }
    }

    /// The kernel's view, with the follow mode.
    pub fn to_kernel(&self, arch: Arch, follow_bits: u32) -> KernelFilter {
        let mut config = FilterConfig {
            follow: follow_bits,
            count: self.conditions.len() as u32,
            ..FilterConfig::default()
        };
        for (i, state) in config.states.iter_mut().enumerate() {
            *state = self.states[i % self.states.len()];
        }
        for (i, c) in self.conditions.iter().enumerate() {
            let k = &mut config.conditions[i];
            match c {
                ProcessCondition::Number { field, op, values } => {
                    k.field = *field;
                    k.op = *op;
                    k.count = values.len() as u8;
                    k.numbers[..values.len()].copy_from_slice(values);
                }
                ProcessCondition::Name {
                    field,
                    any,
                    patterns,
                } => {
                    k.field = *field;
                    k.op = if *any {
                        condition_op::ANY
                    } else {
                        condition_op::NONE
                    };
                    k.count = patterns.len() as u8;
                    for (slot, p) in k.names.iter_mut().zip(patterns) {
                        let mut bytes = [0u8; NAME_PATTERN_LEN];
                        bytes[..p.text.len()].copy_from_slice(&p.text);
                        *slot = NamePattern {
                            kind: p.kind,
                            len: p.text.len() as u8,
                            bytes,
                        };
                    }
                }
                ProcessCondition::Exe { any, patterns } => {
                    k.field = condition_field::EXE;
                    k.op = if *any {
                        condition_op::ANY
                    } else {
                        condition_op::NONE
                    };
                    k.count = patterns.len() as u8;
                    for (slot, &p) in k.numbers.iter_mut().zip(patterns) {
                        *slot = p as u64;
                    }
                }
                ProcessCondition::Cgroup { any, ids } => {
                    k.field = condition_field::CGROUP;
                    k.op = if *any {
                        condition_op::ANY
                    } else {
                        condition_op::NONE
                    };
                    k.count = ids.len() as u8;
                    k.numbers[..ids.len()].copy_from_slice(ids);
                }
            }
        }
        for (slot, p) in config.exe_patterns.iter_mut().zip(&self.exe_patterns) {
            let mut bytes = [0u8; PATH_PATTERN_LEN];
            bytes[..p.text.len()].copy_from_slice(&p.text);
            *slot = PathPattern {
                kind: p.kind,
                len: p.text.len() as u8,
                bytes,
            };
        }
        config.exe_pattern_count = self.exe_patterns.len() as u32;
        config.uses_exe = u32::from(!self.exe_patterns.is_empty());
        config.uses_cgroup = u32::from(self.uses_cgroup);
        config.uses_creds = u32::from(self.uses_creds);
        if self.uses_creds {
            let table = SyscallTable::of(arch);
            for name in [
                "setuid",
                "setgid",
                "setreuid",
                "setregid",
                "setresuid",
                "setresgid",
                "setfsuid",
                "setfsgid",
            ] {
                if let Some(nr) = table.number(name) {
                    config.creds_syscalls[nr as usize / 64] |= 1 << (nr % 64);
                }
            }
        }
        let mut syscalls = vec![[0u8; MAX_SYSCALLS as usize]; MAX_SYSCALL_FILTERS];
        for (slot, f) in syscalls.iter_mut().zip(&self.syscall_filters) {
            *slot = *f;
        }
        let mut signals = vec![0; MAX_SYSCALL_FILTERS];
        signals[..self.signal_filters.len()].copy_from_slice(&self.signal_filters);
        KernelFilter {
            config,
            syscalls,
            signals,
        }
    }

    /// The task_state of a thread whose conditions evaluate to `results` (bit i =
    /// condition i).
    pub fn state(&self, results: usize) -> u8 {
        self.states[results % self.states.len()]
    }
}

/// What the kernel program reads of a compiled filter: the process conditions, and per
/// syscall filter its syscalls' bits and its signals (`MAX_SYSCALL_FILTERS` of each).
pub struct KernelFilter {
    pub config: FilterConfig,
    pub syscalls: Vec<SyscallFilter>,
    pub signals: Vec<SignalFilter>,
}

/// A condition on the event (a syscall or a signal), decided per event. Syscall conditions
/// are false for signals, and signal conditions for syscalls.
#[derive(Debug, Clone)]
enum SyscallCondition {
    Numbers {
        any: bool,
        numbers: BTreeSet<u32>,
    },
    Classes {
        any: bool,
        classes: BTreeSet<Class>,
    },
    Failed,
    /// `signal`: any signal; `signal == X`, `in`, `!=`: these signals (or any but these).
    Signals {
        any: bool,
        signals: Option<BTreeSet<u32>>,
    },
}

/// An event as the filter sees it.
#[derive(Debug, Clone, Copy)]
enum Event {
    Syscall {
        nr: u32,
        class: Option<Class>,
        failed: bool,
    },
    Signal(u32),
}

/// Signal numbers: 1 to 64 on every architecture syscord supports.
const SIGNALS: std::ops::RangeInclusive<u32> = 1..=64;

/// The expression with its leaves numbered.
#[derive(Debug, Clone)]
enum Node {
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Process(usize),
    Syscall(SyscallCondition),
}

struct Compiler<'a> {
    arch: Arch,
    cgroups: &'a dyn CgroupResolver,
    conditions: Vec<ProcessCondition>,
    exe_patterns: Vec<Pattern>,
    uses_creds: bool,
    uses_cgroup: bool,
}

fn fail<T>(column: usize, message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError {
        column,
        message: message.into(),
    })
}

fn text(value: &Value) -> String {
    match &value.literal {
        Literal::Number(n) => n.to_string(),
        Literal::Text(t) => t.clone(),
    }
}

impl Compiler<'_> {
    fn node(&mut self, expr: &Expr) -> Result<Node, FilterError> {
        Ok(match expr {
            Expr::Or(a, b) => Node::Or(Box::new(self.node(a)?), Box::new(self.node(b)?)),
            Expr::And(a, b) => Node::And(Box::new(self.node(a)?), Box::new(self.node(b)?)),
            Expr::Not(a) => Node::Not(Box::new(self.node(a)?)),
            Expr::Failed => Node::Syscall(SyscallCondition::Failed),
            Expr::Signal => Node::Syscall(SyscallCondition::Signals {
                any: true,
                signals: None,
            }),
            Expr::Compare {
                field,
                op,
                values,
                column,
            } => self.compare(*field, *op, values, *column)?,
        })
    }

    fn process(&mut self, condition: ProcessCondition, column: usize) -> Result<Node, FilterError> {
        if let Some(i) = self.conditions.iter().position(|c| *c == condition) {
            return Ok(Node::Process(i));
        }
        if self.conditions.len() == MAX_CONDITIONS {
            return fail(
                column,
                format!("more than {MAX_CONDITIONS} process conditions"),
            );
        }
        self.conditions.push(condition);
        Ok(Node::Process(self.conditions.len() - 1))
    }

    fn compare(
        &mut self,
        field: Field,
        op: Op,
        values: &[Value],
        column: usize,
    ) -> Result<Node, FilterError> {
        if values.len() > MAX_CONDITION_VALUES
            && !matches!(field, Field::Syscall | Field::Class | Field::Signal)
        {
            return fail(
                values[MAX_CONDITION_VALUES].column,
                format!("at most {MAX_CONDITION_VALUES} values in a set"),
            );
        }
        let any = !matches!(op, Op::Ne);
        match field {
            Field::Pid | Field::Tid | Field::Ppid | Field::Uid | Field::Gid => {
                let numbers = values
                    .iter()
                    .map(|v| match v.literal {
                        Literal::Number(n) => Ok(n),
                        Literal::Text(ref t) => fail(
                            v.column,
                            format!("'{}' is a number, not '{t}'", field.name()),
                        ),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let field = match field {
                    Field::Pid => condition_field::PID,
                    Field::Tid => condition_field::TID,
                    Field::Ppid => condition_field::PPID,
                    Field::Uid => condition_field::UID,
                    _ => condition_field::GID,
                };
                self.uses_creds |= matches!(field, condition_field::UID | condition_field::GID);
                let op = match op {
                    Op::Eq | Op::In => condition_op::ANY,
                    Op::Ne => condition_op::NONE,
                    Op::Lt => condition_op::LT,
                    Op::Gt => condition_op::GT,
                    Op::Le => condition_op::LE,
                    Op::Ge => condition_op::GE,
                };
                self.process(
                    ProcessCondition::Number {
                        field,
                        op,
                        values: numbers,
                    },
                    column,
                )
            }
            Field::Comm | Field::Pcomm => {
                let patterns = values
                    .iter()
                    .map(|v| Pattern::parse(&text(v), v.column, NAME_PATTERN_LEN - 1, "name"))
                    .collect::<Result<Vec<_>, _>>()?;
                let field = if field == Field::Comm {
                    condition_field::COMM
                } else {
                    condition_field::PCOMM
                };
                self.process(
                    ProcessCondition::Name {
                        field,
                        any,
                        patterns,
                    },
                    column,
                )
            }
            Field::Exe => {
                let mut indices = Vec::new();
                for v in values {
                    let glob = text(v);
                    if !glob.starts_with('/') && !glob.starts_with('*') {
                        return fail(
                            v.column,
                            "an exe pattern is an absolute path ('/usr/bin/cat') or starts with '*' ('*/cat')",
                        );
                    }
                    let p = Pattern::parse(&glob, v.column, PATH_PATTERN_LEN, "exe")?;
                    if p.kind == pattern_kind::CONTAINS {
                        return fail(
                            v.column,
                            "an exe pattern matches a start or an end ('/usr/bin/*', '*/python3'), not a middle",
                        );
                    }
                    let index = match self.exe_patterns.iter().position(|q| *q == p) {
                        Some(i) => i,
                        None if self.exe_patterns.len() == 8 => {
                            return fail(v.column, "at most 8 exe patterns in a filter");
                        }
                        None => {
                            self.exe_patterns.push(p);
                            self.exe_patterns.len() - 1
                        }
                    };
                    indices.push(index);
                }
                self.process(
                    ProcessCondition::Exe {
                        any,
                        patterns: indices,
                    },
                    column,
                )
            }
            Field::Cgroup => {
                let mut ids = BTreeSet::new();
                for v in values {
                    match &v.literal {
                        Literal::Number(n) => {
                            ids.insert(*n);
                        }
                        Literal::Text(glob) => {
                            let found =
                                self.cgroups.resolve(glob).map_err(|message| FilterError {
                                    column: v.column,
                                    message,
                                })?;
                            if found.is_empty() {
                                return fail(v.column, format!("no cgroup matches '{glob}'"));
                            }
                            ids.extend(found);
                        }
                    }
                }
                if ids.len() > MAX_CONDITION_VALUES {
                    return fail(
                        column,
                        format!(
                            "these cgroup patterns match {} cgroups, at most {MAX_CONDITION_VALUES}",
                            ids.len()
                        ),
                    );
                }
                self.uses_cgroup = true;
                self.process(
                    ProcessCondition::Cgroup {
                        any,
                        ids: ids.into_iter().collect(),
                    },
                    column,
                )
            }
            Field::Syscall => {
                let table = SyscallTable::of(self.arch);
                let mut numbers = BTreeSet::new();
                for v in values {
                    let name = text(v);
                    match table.number(&name) {
                        Some(nr) => numbers.insert(nr),
                        None => {
                            return fail(
                                v.column,
                                format!("unknown syscall '{name}' on {}", self.arch),
                            );
                        }
                    };
                }
                Ok(Node::Syscall(SyscallCondition::Numbers { any, numbers }))
            }
            Field::Class => {
                let mut classes = BTreeSet::new();
                for v in values {
                    let class = match text(v).to_ascii_uppercase().as_str() {
                        "RS" => Class::RS,
                        "WS" => Class::WS,
                        "RC" => Class::RC,
                        "WC" => Class::WC,
                        other => {
                            return fail(
                                v.column,
                                format!("unknown class '{other}' (RS, WS, RC or WC)"),
                            );
                        }
                    };
                    classes.insert(class);
                }
                Ok(Node::Syscall(SyscallCondition::Classes { any, classes }))
            }
            Field::Signal => {
                let mut signals = BTreeSet::new();
                for v in values {
                    let signo = match &v.literal {
                        Literal::Number(n) => {
                            u32::try_from(*n).ok().filter(|n| SIGNALS.contains(n))
                        }
                        Literal::Text(t) => signal_number(t),
                    };
                    match signo {
                        Some(signo) => signals.insert(signo),
                        None => {
                            return fail(
                                v.column,
                                format!(
                                    "unknown signal '{}' (a name such as SIGSEGV or SEGV, or 1 to 64)",
                                    text(v)
                                ),
                            );
                        }
                    };
                }
                Ok(Node::Syscall(SyscallCondition::Signals {
                    any,
                    signals: Some(signals),
                }))
            }
        }
    }
}

/// The number of a signal named with or without its SIG prefix, in any case.
fn signal_number(name: &str) -> Option<u32> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    values::SIGNALS
        .iter()
        .find(|(_, n)| *n == full)
        .map(|&(signo, _)| signo as u32)
}

fn eval(node: &Node, results: usize, event: Event) -> bool {
    match (node, event) {
        (Node::Or(a, b), _) => eval(a, results, event) || eval(b, results, event),
        (Node::And(a, b), _) => eval(a, results, event) && eval(b, results, event),
        (Node::Not(a), _) => !eval(a, results, event),
        (Node::Process(i), _) => results & (1 << i) != 0,
        (Node::Syscall(SyscallCondition::Failed), Event::Syscall { failed, .. }) => failed,
        (Node::Syscall(SyscallCondition::Numbers { any, numbers }), Event::Syscall { nr, .. }) => {
            numbers.contains(&nr) == *any
        }
        (
            Node::Syscall(SyscallCondition::Classes { any, classes }),
            Event::Syscall { class, .. },
        ) => class.is_some_and(|c| classes.contains(&c)) == *any,
        (Node::Syscall(SyscallCondition::Signals { any, signals }), Event::Signal(signo)) => {
            signals.as_ref().is_none_or(|s| s.contains(&signo)) == *any
        }
        // A syscall condition on a signal, or a signal condition on a syscall.
        (Node::Syscall(_), _) => false,
    }
}

/// Compiles `expr` for `arch`.
pub fn compile(
    expr: &Expr,
    arch: Arch,
    cgroups: &dyn CgroupResolver,
) -> Result<Compiled, FilterError> {
    let mut compiler = Compiler {
        arch,
        cgroups,
        conditions: Vec::new(),
        exe_patterns: Vec::new(),
        uses_creds: false,
        uses_cgroup: false,
    };
    let root = compiler.node(expr)?;
    let registry = Registry::new(arch).map_err(|e| FilterError {
        column: 1,
        message: e.to_string(),
    })?;
    let classes: Vec<Option<Class>> = (0..MAX_SYSCALLS)
        .map(|nr| registry.get(nr).map(|h| h.class))
        .collect();

    let sigreturn = SyscallTable::of(arch).number("rt_sigreturn");

    let mut filters: Vec<SyscallFilter> = Vec::new();
    let mut signal_filters: Vec<SignalFilter> = Vec::new();
    let mut index: HashMap<(SyscallFilter, SignalFilter), usize> = HashMap::new();
    let mut states = Vec::new();
    for results in 0..1usize << compiler.conditions.len() {
        let mut table = [0u8; MAX_SYSCALLS as usize];
        for (nr, bits) in table.iter_mut().enumerate() {
            let call = |failed| Event::Syscall {
                nr: nr as u32,
                class: classes[nr],
                failed,
            };
            *bits = u8::from(eval(&root, results, call(false)))
                | (u8::from(eval(&root, results, call(true))) << 1);
        }
        if let Some(nr) = sigreturn {
            // rt_sigreturn reaches sys_exit as "no syscall": the kernel looks here for it.
            table[NO_SYSCALL_SLOT] = table[nr as usize];
        }
        let signals: SignalFilter = SIGNALS
            .filter(|&signo| eval(&root, results, Event::Signal(signo)))
            .fold(0, |bits, signo| bits | 1 << (signo % 64));
        let state = if table.iter().all(|&b| b == 0) && signals == 0 {
            task_state::CANDIDATE
        } else if table.iter().all(|&b| b == 3) && signals == u64::MAX {
            task_state::ALL
        } else {
            let next = filters.len();
            let i = *index.entry((table, signals)).or_insert(next);
            if i == next {
                if next == MAX_SYSCALL_FILTERS {
                    return fail(
                        1,
                        format!(
                            "the filter needs more than {MAX_SYSCALL_FILTERS} distinct syscall selections; split it"
                        ),
                    );
                }
                filters.push(table);
                signal_filters.push(signals);
            }
            task_state::FILTERED + i as u8
        };
        states.push(state);
    }
    Ok(Compiled {
        conditions: compiler.conditions,
        exe_patterns: compiler.exe_patterns,
        states,
        syscall_filters: filters,
        signal_filters,
        uses_creds: compiler.uses_creds,
        uses_cgroup: compiler.uses_cgroup,
    })
}

/// The follow bits of a recording mode.
pub fn follow_bits(all_tasks: bool, children: bool) -> u32 {
    if all_tasks {
        follow::EVERYTHING | follow::THREADS | follow::CHILDREN
    } else if children {
        follow::THREADS | follow::CHILDREN
    } else {
        follow::THREADS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse::parse;

    struct NoCgroups;
    impl CgroupResolver for NoCgroups {
        fn resolve(&self, glob: &str) -> Result<Vec<u64>, String> {
            Ok(if glob == "/test" { vec![42] } else { vec![] })
        }
    }

    fn compile_str(s: &str) -> Result<Compiled, FilterError> {
        compile(&parse(s).unwrap(), Arch::X86_64, &NoCgroups)
    }

    fn nr(name: &str) -> usize {
        SyscallTable::of(Arch::X86_64).number(name).unwrap() as usize
    }

    #[test]
    fn process_only_filters_need_no_syscall_table() {
        let c = compile_str("comm == \"nginx*\" || pid == 1").unwrap();
        assert_eq!(c.conditions.len(), 2);
        assert_eq!(
            c.states,
            vec![
                task_state::CANDIDATE,
                task_state::ALL,
                task_state::ALL,
                task_state::ALL
            ]
        );
        assert!(c.syscall_filters.is_empty());
    }

    #[test]
    fn syscall_conditions_become_tables() {
        let c = compile_str("comm == \"a\" && syscall in {read, openat} || failed").unwrap();
        assert_eq!(c.conditions.len(), 1);
        // comm false: only failures; comm true: read/openat always, others on failure
        assert_eq!(c.syscall_filters.len(), 2);
        let off = &c.syscall_filters[(c.state(0) - task_state::FILTERED) as usize];
        let on = &c.syscall_filters[(c.state(1) - task_state::FILTERED) as usize];
        assert_eq!(off[nr("read")], 2);
        assert_eq!(on[nr("read")], 3);
        assert_eq!(on[nr("write")], 2);
    }

    #[test]
    fn classes_and_negation() {
        let c = compile_str("!(class == WS)").unwrap();
        let t = &c.syscall_filters[0];
        assert_eq!(t[nr("close")], 0);
        assert_eq!(t[nr("read")], 3);
    }

    #[test]
    fn the_same_condition_is_evaluated_once() {
        let c = compile_str("pid == 3 && comm == x || pid == 3 && failed").unwrap();
        assert_eq!(c.conditions.len(), 2);
    }

    #[test]
    fn errors_point_at_the_value() {
        let e = compile_str("syscall == frobnicate").unwrap_err();
        assert_eq!(
            e.to_string(),
            "filter: column 12: unknown syscall 'frobnicate' on x86_64"
        );
        let e = compile_str("pid == abc").unwrap_err();
        assert_eq!(e.column, 8);
        let e = compile_str("comm == \"a*b\"").unwrap_err();
        assert!(e.message.contains("not inside"), "{e}");
        let e = compile_str("exe == \"*bin*\"").unwrap_err();
        assert!(e.message.contains("not a middle"), "{e}");
        let e = compile_str("exe == \"cat\"").unwrap_err();
        assert!(e.message.contains("absolute path"), "{e}");
        let e = compile_str("cgroup == \"/nope\"").unwrap_err();
        assert_eq!(
            e.to_string(),
            "filter: column 11: no cgroup matches '/nope'"
        );
        let e = compile_str("class == XY").unwrap_err();
        assert_eq!(e.column, 10);
        // aarch64 has no open(2)
        let e = compile(
            &parse("syscall == open").unwrap(),
            Arch::Aarch64,
            &NoCgroups,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "filter: column 12: unknown syscall 'open' on aarch64"
        );
    }

    #[test]
    fn patterns() {
        let p = |g: &str| Pattern::parse(g, 1, 64, "name").unwrap();
        assert!(p("nginx*").matches(b"nginx: worker"));
        assert!(!p("nginx*").matches(b"xnginx"));
        assert!(p("*sh").matches(b"bash"));
        assert!(p("*as*").matches(b"bash"));
        assert!(p("b?sh").matches(b"bash"));
        assert!(!p("bash").matches(b"bas"));
        assert!(p("bash").matches(b"bash"));
    }

    #[test]
    fn too_many_conditions() {
        let many: Vec<String> = (0..9).map(|i| format!("pid == {i}")).collect();
        let e = compile_str(&many.join(" || ")).unwrap_err();
        assert!(e.message.contains("more than 8"), "{e}");
    }
}
