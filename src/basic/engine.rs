//! The Rhai engine that runs generated code: sandbox limits, BASIC operators
//! (`op_…`) and every keyword's host functions.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rhai::{Array, Dynamic, Engine, Map, INT};

use super::keywords::{self, fail, RhaiResult};
use super::value::{self, Num};

/// Sandbox limits of a run (docs/language.md, Limits). Every one gives a clear error.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Rhai operations per run: an endless loop stops after this many.
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_string_bytes: usize,
    pub max_array_len: usize,
    pub max_map_len: usize,
    pub max_script_bytes: usize,
    /// Computing time per run, waits for input and timers excluded. The operations
    /// limit alone does not bound time: one operation on a large list or map copies
    /// it, so an endless loop that grows one can run for minutes within the limit.
    pub max_run_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 2_000_000,
            max_call_levels: 48,
            max_string_bytes: 1 << 20,
            max_array_len: 100_000,
            max_map_len: 100_000,
            max_script_bytes: 1 << 20,
            max_run_time: Duration::from_secs(5),
        }
    }
}

thread_local! {
    /// The computing-time clock of the run in progress on this thread: when it last
    /// ticked, and the time used so far.
    static RUN_CLOCK: Cell<(Instant, Duration)> = Cell::new((Instant::now(), Duration::ZERO));
}

/// The clock is read every this many operations.
const CLOCK_EVERY_OPS: u64 = 16;
/// A longer gap between two readings was spent waiting in a host call, not computing.
const MAX_CLOCK_GAP: Duration = Duration::from_secs(1);

/// The computing-time clock of the run in progress on this thread, to put back with
/// [`run_clock_restore`] after a run nested in it (a child run inline) has used it.
pub fn run_clock_save() -> (Instant, Duration) {
    RUN_CLOCK.with(|c| c.get())
}

/// Puts back a clock saved by [`run_clock_save`]; the time the nested run took counts
/// as waiting, not as the outer run's computing.
pub fn run_clock_restore(saved: (Instant, Duration)) {
    RUN_CLOCK.with(|c| c.set((Instant::now(), saved.1)));
}

/// Stops counting the time since the last tick: called after a host call that waited
/// (for the user's answer, for a timer).
pub fn run_clock_waited() {
    RUN_CLOCK.with(|c| c.set((Instant::now(), c.get().1)));
}

/// `on_progress`: starts the clock at a run's first operation and stops the run when
/// its computing time is over the limit. The message is the termination token.
fn run_clock(ops: u64, limit: Duration) -> Option<Dynamic> {
    if ops == 1 {
        RUN_CLOCK.with(|c| c.set((Instant::now(), Duration::ZERO)));
        return None;
    }
    if !ops.is_multiple_of(CLOCK_EVERY_OPS) {
        return None;
    }
    let now = Instant::now();
    let used = RUN_CLOCK.with(|c| {
        let (last, used) = c.get();
        let used = used + now.saturating_duration_since(last).min(MAX_CLOCK_GAP);
        c.set((now, used));
        used
    });
    (used > limit).then(|| {
        Dynamic::from(format!(
            "the script computed for more than {} seconds and was stopped (an endless loop?)",
            limit.as_secs_f64()
        ))
    })
}

/// Builds an engine with the limits and all host functions registered.
pub fn new_engine(limits: &Limits) -> Engine {
    let mut engine = Engine::new_raw();
    engine.register_global_module(rhai::packages::Package::as_shared_module(
        &rhai::packages::CorePackage::new(),
    ));
    engine.set_max_operations(limits.max_operations);
    engine.set_max_call_levels(limits.max_call_levels);
    engine.set_max_string_size(limits.max_string_bytes);
    engine.set_max_array_size(limits.max_array_len);
    engine.set_max_map_size(limits.max_map_len);
    engine.set_max_expr_depths(256, 128);
    engine.set_fail_on_invalid_map_property(false);
    let limit = limits.max_run_time;
    engine.on_progress(move |ops| run_clock(ops, limit));
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    register_operators(&mut engine);
    keywords::register(&mut engine);
    engine
}

fn cmp_op(a: &Dynamic, b: &Dynamic, want: fn(std::cmp::Ordering) -> bool) -> RhaiResult {
    match value::compare(a, b).map_err(fail)? {
        Some(o) => Ok(Dynamic::from_bool(want(o))),
        None => Ok(Dynamic::FALSE),
    }
}

/// The key of `m` that `key` names: the exact key, else one that differs only in case.
/// Member names are case-insensitive like every BASIC name, while maps keep the keys
/// as written (`{ orderId: 1 }`, JSON from outside).
fn map_key(m: &Map, key: &str) -> Option<String> {
    if m.contains_key(key) {
        return Some(key.to_string());
    }
    let lower = key.to_lowercase();
    m.keys()
        .find(|k| k.to_lowercase() == lower)
        .map(|k| k.to_string())
}

fn index(obj: &Dynamic, key: &Dynamic) -> Dynamic {
    if let Some(m) = obj.read_lock::<Map>() {
        return map_key(&m, value::display(key).as_str())
            .and_then(|k| m.get(k.as_str()).cloned())
            .unwrap_or(Dynamic::UNIT);
    }
    let i = match value::as_num(key) {
        Some(Num::Int(i)) if !key.is_unit() => i,
        Some(Num::Float(f)) if f.fract() == 0.0 => f as INT,
        _ => return Dynamic::UNIT,
    };
    if i < 0 {
        return Dynamic::UNIT;
    }
    if let Some(a) = obj.read_lock::<Array>() {
        return a.get(i as usize).cloned().unwrap_or(Dynamic::UNIT);
    }
    if obj.is_string() {
        return value::display(obj)
            .chars()
            .nth(i as usize)
            .map(|c| Dynamic::from(c.to_string()))
            .unwrap_or(Dynamic::UNIT);
    }
    Dynamic::UNIT
}

fn set_path(root: Dynamic, path: &[Dynamic], v: Dynamic) -> RhaiResult {
    let Some((seg, rest)) = path.split_first() else {
        return Ok(v);
    };
    if seg.is_string() {
        let mut m = root.try_cast::<Map>().unwrap_or_default();
        let written = value::display(seg);
        let key = map_key(&m, &written).unwrap_or(written);
        let child = m.remove(key.as_str()).unwrap_or(Dynamic::UNIT);
        m.insert(key.into(), set_path(child, rest, v)?);
        return Ok(Dynamic::from_map(m));
    }
    let i = match value::as_num(seg) {
        Some(n) if !seg.is_unit() && n.as_f64() >= 0.0 && n.as_f64().fract() == 0.0 => {
            n.as_f64() as usize
        }
        _ => {
            return Err(fail(format!(
                "a list index must be a whole number 0 or more, got {}",
                value::display(seg)
            )))
        }
    };
    let mut a = if root.is_unit() {
        Array::new()
    } else {
        root.try_cast::<Array>()
            .ok_or_else(|| fail("only a list can be indexed by a number"))?
    };
    if i > a.len() + 100_000 {
        return Err(fail(format!(
            "list index {i} is far beyond the end of the list"
        )));
    }
    while a.len() <= i {
        a.push(Dynamic::UNIT);
    }
    let child = std::mem::take(&mut a[i]);
    a[i] = set_path(child, rest, v)?;
    Ok(Dynamic::from_array(a))
}

fn register_operators(engine: &mut Engine) {
    engine.register_fn("op_add", |a: Dynamic, b: Dynamic| {
        value::add(&a, &b).map_err(fail)
    });
    engine.register_fn("op_sub", |a: Dynamic, b: Dynamic| {
        value::arith(&a, &b, "-", |x, y| x.checked_sub(y), |x, y| x - y).map_err(fail)
    });
    engine.register_fn("op_mul", |a: Dynamic, b: Dynamic| {
        value::arith(&a, &b, "*", |x, y| x.checked_mul(y), |x, y| x * y).map_err(fail)
    });
    engine.register_fn("op_div", |a: Dynamic, b: Dynamic| -> RhaiResult {
        let (x, y) = nums(&a, &b, "/")?;
        if y.as_f64() == 0.0 {
            return Err(fail("division by zero"));
        }
        if let (Num::Int(x), Num::Int(y)) = (x, y) {
            // `checked_`: i64::MIN / -1 overflows; it falls through to float division.
            if x.checked_rem(y) == Some(0) {
                if let Some(q) = x.checked_div(y) {
                    return Ok(Dynamic::from_int(q));
                }
            }
        }
        Ok(Dynamic::from_float(x.as_f64() / y.as_f64()))
    });
    engine.register_fn("op_intdiv", |a: Dynamic, b: Dynamic| -> RhaiResult {
        let (x, y) = nums(&a, &b, "\\")?;
        let (x, y) = (x.as_f64().trunc(), y.as_f64().trunc());
        if y == 0.0 {
            return Err(fail("division by zero"));
        }
        Ok(value::float_result((x / y).trunc()))
    });
    engine.register_fn("op_mod", |a: Dynamic, b: Dynamic| -> RhaiResult {
        let (x, y) = nums(&a, &b, "MOD")?;
        if y.as_f64() == 0.0 {
            return Err(fail("division by zero in MOD"));
        }
        match (x, y) {
            (Num::Int(x), Num::Int(y)) => Ok(Dynamic::from_int(x.wrapping_rem(y))),
            _ => Ok(value::float_result(x.as_f64() % y.as_f64())),
        }
    });
    engine.register_fn("op_pow", |a: Dynamic, b: Dynamic| -> RhaiResult {
        let (x, y) = nums(&a, &b, "^")?;
        let r = x.as_f64().powf(y.as_f64());
        if !r.is_finite() {
            return Err(fail("'^' gives a number out of range"));
        }
        Ok(value::float_result(r))
    });
    engine.register_fn("op_concat", |a: Dynamic, b: Dynamic| {
        let mut s = value::display(&a);
        s.push_str(&value::display(&b));
        Dynamic::from(s)
    });
    engine.register_fn("op_concat_all", |parts: Array| {
        let s: String = parts.iter().map(value::display).collect();
        Dynamic::from(s)
    });
    engine.register_fn("op_eq", |a: Dynamic, b: Dynamic| value::equals(&a, &b));
    engine.register_fn("op_ne", |a: Dynamic, b: Dynamic| !value::equals(&a, &b));
    engine.register_fn("op_lt", |a: Dynamic, b: Dynamic| {
        cmp_op(&a, &b, |o| o.is_lt())
    });
    engine.register_fn("op_gt", |a: Dynamic, b: Dynamic| {
        cmp_op(&a, &b, |o| o.is_gt())
    });
    engine.register_fn("op_le", |a: Dynamic, b: Dynamic| {
        cmp_op(&a, &b, |o| o.is_le())
    });
    engine.register_fn("op_ge", |a: Dynamic, b: Dynamic| {
        cmp_op(&a, &b, |o| o.is_ge())
    });
    engine.register_fn("op_truthy", |a: Dynamic| value::truthy(&a));
    engine.register_fn("op_neg", |a: Dynamic| -> RhaiResult {
        match value::as_num(&a) {
            Some(Num::Int(i)) if !a.is_string() => Ok(Dynamic::from_int(i.saturating_neg())),
            Some(n) if !a.is_string() => Ok(Dynamic::from_float(-n.as_f64())),
            _ => Err(fail(format!("cannot negate a {}", value::type_name(&a)))),
        }
    });
    engine.register_fn("op_index", |obj: Dynamic, key: Dynamic| index(&obj, &key));
    engine.register_fn("op_set_path", |root: Dynamic, path: Array, v: Dynamic| {
        set_path(root, &path, v)
    });
    engine.register_fn("op_iter", |v: Dynamic| value::items(&v).map_err(fail));
    engine.register_fn("op_num", |v: Dynamic| -> RhaiResult {
        match value::as_num(&v) {
            Some(n) if !v.is_unit() => Ok(n.into_dynamic()),
            _ => Err(fail(format!(
                "FOR needs numbers, got {}",
                value::type_name(&v)
            ))),
        }
    });
    engine.register_fn(
        "op_for_continues",
        |v: Dynamic, end: Dynamic, step: Dynamic| -> RhaiResult {
            let (x, e, s) = match (value::as_num(&v), value::as_num(&end), value::as_num(&step)) {
                (Some(x), Some(e), Some(s)) => (x.as_f64(), e.as_f64(), s.as_f64()),
                _ => return Err(fail("the FOR variable must stay a number")),
            };
            Ok(Dynamic::from_bool(if s > 0.0 { x <= e } else { x >= e }))
        },
    );
    engine.register_fn("op_merge", |vars: Map, r: Dynamic| {
        let mut vars = vars;
        if let Some(m) = r.read_lock::<Map>() {
            for (k, v) in m.iter() {
                vars.insert(k.to_lowercase().into(), v.clone());
            }
        }
        vars
    });
}

fn nums(a: &Dynamic, b: &Dynamic, op: &str) -> Result<(Num, Num), Box<rhai::EvalAltResult>> {
    match (value::as_num(a), value::as_num(b)) {
        (Some(x), Some(y)) if !a.is_array() && !b.is_array() && !a.is_map() && !b.is_map() => {
            Ok((x, y))
        }
        _ => Err(fail(format!(
            "cannot apply '{op}' to {} and {}",
            value::type_name(a),
            value::type_name(b)
        ))),
    }
}
