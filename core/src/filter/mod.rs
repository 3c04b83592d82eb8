//! Choosing what to record: the `--filter` language, its compilation for the kernel, and
//! the evaluation of already running threads.

mod compile;
mod parse;
pub mod procfs;

pub use compile::{CgroupResolver, Compiled, ProcessCondition, compile, follow_bits};
pub use parse::{Expr, Field, FilterError, Literal, Op, Value, parse};

/// `--filter` and the thesis's shorthands (`--pid`, `--comm`, `--ppid`, `--pcomm`), joined
/// with `&&`. Errors in `--filter` have their column in it; the shorthands' values carry
/// column 0.
pub fn combine(
    filter: Option<&str>,
    pids: &[u32],
    comms: &[String],
    ppids: &[u32],
    pcomms: &[String],
) -> Result<Option<Expr>, FilterError> {
    let value = |literal: Literal| Value { literal, column: 0 };
    let set = |field: Field, values: Vec<Value>| {
        (!values.is_empty()).then_some(Expr::Compare {
            field,
            op: Op::In,
            values,
            column: 0,
        })
    };
    let number = |n: &u32| value(Literal::Number(u64::from(*n)));
    let name = |s: &String| value(Literal::Text(s.clone()));
    let parts: Vec<Expr> = [
        filter.map(parse).transpose()?,
        set(Field::Pid, pids.iter().map(number).collect()),
        set(Field::Comm, comms.iter().map(name).collect()),
        set(Field::Ppid, ppids.iter().map(number).collect()),
        set(Field::Pcomm, pcomms.iter().map(name).collect()),
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(parts
        .into_iter()
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthands_join_with_and() {
        assert_eq!(combine(None, &[], &[], &[], &[]).unwrap(), None);
        let e = combine(Some("failed"), &[1, 2], &["a".into()], &[], &[])
            .unwrap()
            .unwrap();
        let Expr::And(left, comm) = e else { panic!() };
        assert!(matches!(
            *comm,
            Expr::Compare {
                field: Field::Comm,
                ..
            }
        ));
        let Expr::And(failed, pid) = *left else {
            panic!()
        };
        assert_eq!(*failed, Expr::Failed);
        assert!(
            matches!(*pid, Expr::Compare { field: Field::Pid, ref values, .. } if values.len() == 2)
        );
        // an error in --filter points into --filter
        let e = combine(Some("pid =="), &[1], &[], &[], &[]).unwrap_err();
        assert_eq!(e.column, 7);
    }
}
