//! Built-in functions (docs/language.md): `NOW TODAY FORMAT RANDOM UUID LEN UCASE LCASE TRIM
//! LEFT RIGHT MID INSTR REPLACE SPLIT JOIN VAL STR ISNULL FIRST LAST TOJSON FROMJSON`,
//! and a few more every script wants (`ABS INT ROUND MIN MAX ISEMPTY ISNUMBER CONTAINS
//! KEYS`). `NOW`, `TODAY`, `RANDOM` and `UUID` ask the host, which journals them.
//! Strings are 1-based in `MID`/`INSTR`; lists are 0-based.

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};

use super::RhaiResult;
use crate::basic::context::call_host;
use crate::basic::value::{self, display, Num};

type Builtin = fn(&[Dynamic]) -> Result<Dynamic, String>;

/// name, fewest arguments, most arguments, implementation. This table is also the
/// built-ins' effect declaration (`effects.rs`): every built-in computes, or asks the host
/// for a journaled value written at the commit (NOW, TODAY, RANDOM, RND, UUID, GUID). A
/// function that reaches the database or the world is a keyword (`k_…`), not a built-in.
const BUILTINS: &[(&str, usize, usize, Builtin)] = &[
    ("now", 0, 0, now),
    ("today", 0, 0, today),
    ("format", 1, 2, format),
    ("random", 0, 2, random),
    ("uuid", 0, 0, uuid),
    ("len", 1, 1, len),
    ("length", 1, 1, len),
    ("rnd", 0, 0, |a| random(a)),
    ("slice", 2, 3, slice),
    ("ucase", 1, 1, ucase),
    ("lcase", 1, 1, lcase),
    ("trim", 1, 1, |a| {
        Ok(Dynamic::from(display(&a[0]).trim().to_string()))
    }),
    ("left", 2, 2, left),
    ("right", 2, 2, right),
    ("mid", 2, 3, mid),
    ("instr", 2, 3, instr),
    ("replace", 3, 3, replace),
    ("split", 1, 2, split),
    ("join", 1, 2, join),
    ("val", 1, 1, |a| {
        Ok(value::parse_num(display(&a[0]).trim())
            .map(Num::into_dynamic)
            .unwrap_or(Dynamic::from_int(0)))
    }),
    ("str", 1, 1, |a| Ok(Dynamic::from(display(&a[0])))),
    ("isnull", 1, 1, |a| Ok(Dynamic::from_bool(a[0].is_unit()))),
    ("isempty", 1, 1, |a| Ok(Dynamic::from_bool(is_empty(&a[0])))),
    ("isnumber", 1, 1, |a| {
        Ok(Dynamic::from_bool(
            a[0].is_int()
                || a[0].is_float()
                || value::parse_num(display(&a[0]).trim()).is_some() && a[0].is_string(),
        ))
    }),
    ("first", 1, 1, |a| edge(&a[0], true)),
    ("last", 1, 1, |a| edge(&a[0], false)),
    ("tojson", 1, 1, |a| {
        Ok(Dynamic::from(value::to_json(&a[0]).to_string()))
    }),
    ("fromjson", 1, 1, fromjson),
    ("parse_json", 1, 2, |a| {
        // PARSE_JSON(text[, "a.b.c"]): the value, or the part at a dotted path.
        let mut v = fromjson(&a[..1])?;
        if let Some(path) = a.get(1) {
            for key in display(path).split('.').filter(|k| !k.is_empty()) {
                v = match v.read_lock::<Map>().and_then(|m| m.get(key).cloned()) {
                    Some(x) => x,
                    None => return Ok(Dynamic::UNIT),
                };
            }
        }
        Ok(v)
    }),
    ("abs", 1, 1, |a| match num(&a[0], "ABS")? {
        Num::Int(i) => Ok(Dynamic::from_int(i.saturating_abs())),
        Num::Float(f) => Ok(Dynamic::from_float(f.abs())),
    }),
    ("int", 1, 1, |a| {
        Ok(value::float_result(num(&a[0], "INT")?.as_f64().floor()))
    }),
    ("round", 1, 2, round),
    ("min", 2, 2, |a| pick(a, std::cmp::Ordering::Less)),
    ("max", 2, 2, |a| pick(a, std::cmp::Ordering::Greater)),
    ("contains", 2, 2, contains),
    ("upper", 1, 1, ucase),
    ("lower", 1, 1, lcase),
    ("ltrim", 1, 1, |a| {
        Ok(Dynamic::from(display(&a[0]).trim_start().to_string()))
    }),
    ("rtrim", 1, 1, |a| {
        Ok(Dynamic::from(display(&a[0]).trim_end().to_string()))
    }),
    ("nvl", 2, 2, coalesce),
    ("coalesce", 2, 2, coalesce),
    ("ifnull", 2, 2, coalesce),
    ("cint", 1, 1, |a| to_number(&a[0], "CINT", true)),
    ("cdbl", 1, 1, |a| to_number(&a[0], "CDBL", false)),
    ("to_number", 1, 1, |a| to_number(&a[0], "TO_NUMBER", false)),
    ("parseint", 1, 1, |a| to_number(&a[0], "PARSEINT", true)),
    ("parsefloat", 1, 1, |a| {
        to_number(&a[0], "PARSEFLOAT", false)
    }),
    ("floor", 1, 1, |a| {
        Ok(value::float_result(num(&a[0], "FLOOR")?.as_f64().floor()))
    }),
    ("ceil", 1, 1, ceil),
    ("ceiling", 1, 1, ceil),
    ("sgn", 1, 1, |a| {
        let x = num(&a[0], "SGN")?.as_f64();
        Ok(Dynamic::from_int(if x > 0.0 {
            1
        } else if x < 0.0 {
            -1
        } else {
            0
        }))
    }),
    ("pow", 2, 2, pow),
    ("power", 2, 2, pow),
    ("avg", 1, 5, avg),
    ("average", 1, 5, avg),
    ("year", 1, 1, |a| date_part(&a[0], "YEAR")),
    ("month", 1, 1, |a| date_part(&a[0], "MONTH")),
    ("day", 1, 1, |a| date_part(&a[0], "DAY")),
    ("hour", 1, 1, |a| date_part(&a[0], "HOUR")),
    ("minute", 1, 1, |a| date_part(&a[0], "MINUTE")),
    ("second", 1, 1, |a| date_part(&a[0], "SECOND")),
    ("weekday", 1, 1, |a| date_part(&a[0], "WEEKDAY")),
    ("isdate", 1, 1, |a| {
        Ok(Dynamic::from_bool(
            parse_datetime(&display(&a[0])).is_some(),
        ))
    }),
    ("format_time", 1, 2, |a| match a.get(1) {
        Some(p) => format(&[a[0].clone(), p.clone()]),
        None => format(&[a[0].clone(), Dynamic::from("HH:mm")]),
    }),
    ("typeof", 1, 1, |a| {
        Ok(Dynamic::from(value::type_name(&a[0])))
    }),
    ("isarray", 1, 1, |a| Ok(Dynamic::from_bool(a[0].is_array()))),
    ("isstring", 1, 1, |a| {
        Ok(Dynamic::from_bool(a[0].is_string()))
    }),
    ("reverse", 1, 1, |a| {
        if a[0].is_string() {
            return Ok(Dynamic::from(
                display(&a[0]).chars().rev().collect::<String>(),
            ));
        }
        let mut items = value::items(&a[0])?;
        items.reverse();
        Ok(Dynamic::from_array(items))
    }),
    ("unique", 1, 1, |a| {
        let mut out: Array = Vec::new();
        for x in value::items(&a[0])? {
            if !out.iter().any(|y| value::equals(y, &x)) {
                out.push(x);
            }
        }
        Ok(Dynamic::from_array(out))
    }),
    ("init", 1, 1, |a| {
        let mut items = value::items(&a[0]).unwrap_or_default();
        items.pop();
        Ok(Dynamic::from_array(items))
    }),
    ("choose", 2, 5, |a| {
        let i = int_arg(&a[0], "CHOOSE")?;
        Ok(usize::try_from(i)
            .ok()
            .and_then(|i| a.get(i))
            .filter(|_| i >= 1)
            .cloned()
            .unwrap_or(Dynamic::UNIT))
    }),
    ("ubound", 1, 1, |a| {
        Ok(Dynamic::from_int(count(&a[0]) as i64 - 1))
    }),
    ("lbound", 1, 1, |_| Ok(Dynamic::from_int(0))),
    ("count", 1, 1, |a| {
        Ok(Dynamic::from_int(count(&a[0]) as i64))
    }),
    ("sum", 1, 5, sum),
    ("iif", 3, 3, |a| {
        Ok(if value::truthy(&a[0]) {
            a[1].clone()
        } else {
            a[2].clone()
        })
    }),
    ("guid", 0, 0, uuid),
    ("sqr", 1, 1, sqrt),
    ("sqrt", 1, 1, sqrt),
    ("startswith", 2, 2, |a| {
        Ok(Dynamic::from_bool(
            display(&a[0]).starts_with(&display(&a[1])),
        ))
    }),
    ("endswith", 2, 2, |a| {
        Ok(Dynamic::from_bool(
            display(&a[0]).ends_with(&display(&a[1])),
        ))
    }),
    ("format_date", 1, 2, |a| match a.get(1) {
        Some(p) => format(&[a[0].clone(), p.clone()]),
        None => format(&[a[0].clone(), Dynamic::from("yyyy-MM-dd")]),
    }),
    ("dateadd", 3, 3, dateadd),
    ("add_days", 2, 2, |a| {
        dateadd(&[a[0].clone(), a[1].clone(), Dynamic::from("day")])
    }),
    ("days_between", 2, 2, |a| {
        datediff(&[a[0].clone(), a[1].clone(), Dynamic::from("day")])
    }),
    ("hours_between", 2, 2, |a| {
        datediff(&[a[0].clone(), a[1].clone(), Dynamic::from("hour")])
    }),
    ("datevalue", 1, 1, |a| {
        let (d, with_time) = date_arg(&a[0], "DATEVALUE")?;
        Ok(show_date(d, with_time))
    }),
    ("datediff", 2, 3, datediff),
    ("push", 2, 2, |a| {
        let mut items = value::items(&a[0]).unwrap_or_default();
        items.push(a[1].clone());
        Ok(Dynamic::from_array(items))
    }),
    ("pop", 1, 1, |a| {
        // The last item, as General Bots' POP gives it (the list is not changed).
        Ok(value::items(&a[0])
            .ok()
            .and_then(|mut items| items.pop())
            .unwrap_or(Dynamic::UNIT))
    }),
    ("values", 1, 1, |a| {
        Ok(match a[0].read_lock::<Map>() {
            Some(m) => Dynamic::from_array(m.values().cloned().collect()),
            None => Dynamic::from_array(value::items(&a[0]).unwrap_or_default()),
        })
    }),
    ("keys", 1, 1, |a| {
        Ok(match a[0].read_lock::<Map>() {
            Some(m) => {
                Dynamic::from_array(m.keys().map(|k| Dynamic::from(k.to_string())).collect())
            }
            None => Dynamic::from_array(Array::new()),
        })
    }),
];

/// Rhai-style methods (`s.len()`, `s.to_upper()`, `list.contains(x)`): the method name
/// and the built-in it stands for, called with the object as its first argument.
const METHODS: &[(&str, &str)] = &[
    ("len", "len"),
    ("length", "len"),
    ("size", "len"),
    ("contains", "contains"),
    ("to_upper", "ucase"),
    ("to_uppercase", "ucase"),
    ("to_lower", "lcase"),
    ("to_lowercase", "lcase"),
    ("trim", "trim"),
    ("starts_with", "startswith"),
    ("ends_with", "endswith"),
    ("split", "split"),
    ("replace", "replace"),
    ("is_empty", "isempty"),
    ("keys", "keys"),
    ("values", "values"),
    ("to_string", "str"),
    ("to_json", "tojson"),
    ("join", "join"),
    ("abs", "abs"),
    ("round", "round"),
    ("push", "push"),
    ("add", "push"),
    ("append", "push"),
    ("pop", "pop"),
    ("to_number", "to_number"),
    ("reverse", "reverse"),
];

/// Methods that change the list they are called on, used as statements, and the
/// built-in that gives the changed list: `list.push(x)` is `list = PUSH(list, x)`,
/// `list.pop()` is `list = INIT(list)`.
const UPDATING_METHODS: &[(&str, &str)] = &[
    ("push", "push"),
    ("add", "push"),
    ("append", "push"),
    ("pop", "init"),
];

/// The built-in a method name stands for.
pub fn method(name: &str) -> Option<&'static str> {
    METHODS.iter().find(|(m, _)| *m == name).map(|(_, b)| *b)
}

/// For a method that, used as a statement, changes its object: the built-in that gives
/// the changed value.
pub fn updating_method(name: &str) -> Option<&'static str> {
    UPDATING_METHODS
        .iter()
        .find(|(m, _)| *m == name)
        .map(|(_, b)| *b)
}

/// The names of every built-in.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|(n, ..)| *n)
}

/// The number of arguments a built-in takes, or `None` when there is no such built-in.
pub fn arity(name: &str) -> Option<(usize, usize)> {
    BUILTINS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, min, max, _)| (*min, *max))
}

fn call(f: Builtin, args: &[Dynamic]) -> RhaiResult {
    f(args).map_err(|m| {
        Box::new(EvalAltResult::ErrorRuntime(
            Dynamic::from(m),
            rhai::Position::NONE,
        ))
    })
}

pub fn register(engine: &mut Engine) {
    for &(name, min, max, f) in BUILTINS {
        let fname = format!("b_{name}");
        for n in min..=max {
            match n {
                0 => {
                    engine.register_fn(&fname, move || call(f, &[]));
                }
                1 => {
                    engine.register_fn(&fname, move |a: Dynamic| call(f, &[a]));
                }
                2 => {
                    engine.register_fn(&fname, move |a: Dynamic, b: Dynamic| call(f, &[a, b]));
                }
                3 => {
                    engine.register_fn(&fname, move |a: Dynamic, b: Dynamic, c: Dynamic| {
                        call(f, &[a, b, c])
                    });
                }
                4 => {
                    engine.register_fn(
                        &fname,
                        move |a: Dynamic, b: Dynamic, c: Dynamic, d: Dynamic| {
                            call(f, &[a, b, c, d])
                        },
                    );
                }
                _ => {
                    engine.register_fn(
                        &fname,
                        move |a: Dynamic, b: Dynamic, c: Dynamic, d: Dynamic, e: Dynamic| {
                            call(f, &[a, b, c, d, e])
                        },
                    );
                }
            }
        }
    }
}

fn host_fail(e: crate::basic::context::HostError) -> String {
    match e {
        crate::basic::context::HostError::Fail(m) => m,
        // Journaled built-ins never wait; a suspend here would be a host bug.
        crate::basic::context::HostError::Suspend => "internal: unexpected suspend".to_string(),
    }
}

fn now(_: &[Dynamic]) -> Result<Dynamic, String> {
    let t = call_host(|h| h.now()).map_err(host_fail)?;
    Ok(Dynamic::from(t.format("%Y-%m-%d %H:%M:%S").to_string()))
}

fn today(_: &[Dynamic]) -> Result<Dynamic, String> {
    let t = call_host(|h| h.now()).map_err(host_fail)?;
    Ok(Dynamic::from(t.format("%Y-%m-%d").to_string()))
}

fn uuid(_: &[Dynamic]) -> Result<Dynamic, String> {
    call_host(|h| h.uuid())
        .map(Dynamic::from)
        .map_err(host_fail)
}

fn num(v: &Dynamic, what: &str) -> Result<Num, String> {
    if v.is_unit() {
        return Err(format!("{what} needs a number, got NULL"));
    }
    value::as_num(v).ok_or_else(|| format!("{what} needs a number, got {}", value::type_name(v)))
}

fn int_arg(v: &Dynamic, what: &str) -> Result<i64, String> {
    Ok(num(v, what)?.as_f64().floor() as i64)
}

/// `RANDOM()` → [0, 1); `RANDOM(n)` → an integer 0..=n; `RANDOM(a, b)` → an integer a..=b.
fn random(a: &[Dynamic]) -> Result<Dynamic, String> {
    let r = call_host(|h| h.random()).map_err(host_fail)?;
    let (lo, hi) = match a.len() {
        0 => return Ok(Dynamic::from_float(r)),
        1 => (0, int_arg(&a[0], "RANDOM")?),
        _ => (int_arg(&a[0], "RANDOM")?, int_arg(&a[1], "RANDOM")?),
    };
    if hi < lo {
        return Err(format!(
            "RANDOM({lo}, {hi}): the upper bound is below the lower bound"
        ));
    }
    let span = (hi as i128 - lo as i128 + 1) as f64;
    Ok(Dynamic::from_int(
        lo.saturating_add((r * span).floor() as i64),
    ))
}

fn len(a: &[Dynamic]) -> Result<Dynamic, String> {
    let v = &a[0];
    let n = if let Some(arr) = v.read_lock::<Array>() {
        arr.len()
    } else if let Some(m) = v.read_lock::<Map>() {
        m.len()
    } else {
        display(v).chars().count()
    };
    Ok(Dynamic::from_int(n as i64))
}

fn chars(v: &Dynamic) -> Vec<char> {
    display(v).chars().collect()
}

fn left(a: &[Dynamic]) -> Result<Dynamic, String> {
    let c = chars(&a[0]);
    let n = int_arg(&a[1], "LEFT")?.clamp(0, c.len() as i64) as usize;
    Ok(Dynamic::from(c[..n].iter().collect::<String>()))
}

fn right(a: &[Dynamic]) -> Result<Dynamic, String> {
    let c = chars(&a[0]);
    let n = int_arg(&a[1], "RIGHT")?.clamp(0, c.len() as i64) as usize;
    Ok(Dynamic::from(c[c.len() - n..].iter().collect::<String>()))
}

/// `MID(s, start [, length])` with `start` 1-based.
fn mid(a: &[Dynamic]) -> Result<Dynamic, String> {
    let c = chars(&a[0]);
    let start = int_arg(&a[1], "MID")?;
    if start < 1 {
        return Err(format!(
            "MID: the start position must be 1 or more, got {start}"
        ));
    }
    let from = ((start - 1) as usize).min(c.len());
    let len = match a.get(2) {
        Some(l) => int_arg(l, "MID")?.max(0) as usize,
        None => c.len(),
    };
    let to = from.saturating_add(len).min(c.len());
    Ok(Dynamic::from(c[from..to].iter().collect::<String>()))
}

/// `INSTR(s, find)` or `INSTR(start, s, find)`: 1-based position, 0 when absent.
fn instr(a: &[Dynamic]) -> Result<Dynamic, String> {
    let (start, hay, needle) = if a.len() == 3 {
        (
            int_arg(&a[0], "INSTR")?.max(1) as usize,
            chars(&a[1]),
            chars(&a[2]),
        )
    } else {
        (1, chars(&a[0]), chars(&a[1]))
    };
    if needle.is_empty() {
        return Ok(Dynamic::from_int(if start <= hay.len() + 1 {
            start as i64
        } else {
            0
        }));
    }
    let found = (start - 1..hay.len())
        .find(|&i| hay[i..].starts_with(&needle))
        .map(|i| i as i64 + 1)
        .unwrap_or(0);
    Ok(Dynamic::from_int(found))
}

/// The largest string a built-in builds. The engine's own (smaller) string limit
/// rejects the result afterwards; this bound only keeps a built-in whose output grows
/// multiplicatively (`REPLACE`, `JOIN`) from exhausting memory before that check.
const MAX_BUILT_STRING_BYTES: usize = 16 << 20;

fn check_built_size(what: &str, bytes: usize) -> Result<(), String> {
    if bytes > MAX_BUILT_STRING_BYTES {
        return Err(format!(
            "{what}: the result would be {bytes} bytes, over the size limit of this server"
        ));
    }
    Ok(())
}

/// `REPLACE(s, find, with)`: every `find` replaced; an empty `find` changes nothing.
fn replace(a: &[Dynamic]) -> Result<Dynamic, String> {
    let (s, find, with) = (display(&a[0]), display(&a[1]), display(&a[2]));
    if find.is_empty() {
        return Ok(Dynamic::from(s));
    }
    let hits = s.matches(find.as_str()).count();
    let bytes = (s.len() - hits * find.len()).saturating_add(hits.saturating_mul(with.len()));
    check_built_size("REPLACE", bytes)?;
    Ok(Dynamic::from(s.replace(&find, &with)))
}

fn split(a: &[Dynamic]) -> Result<Dynamic, String> {
    let s = display(&a[0]);
    let sep = a.get(1).map(display).unwrap_or_else(|| ",".to_string());
    let parts: Array = if sep.is_empty() {
        s.chars().map(|c| Dynamic::from(c.to_string())).collect()
    } else {
        s.split(sep.as_str())
            .map(|p| Dynamic::from(p.to_string()))
            .collect()
    };
    Ok(Dynamic::from_array(parts))
}

fn join(a: &[Dynamic]) -> Result<Dynamic, String> {
    let sep = a.get(1).map(display).unwrap_or_else(|| ",".to_string());
    let items: Vec<String> = value::items(&a[0])?.iter().map(display).collect();
    let bytes = items
        .iter()
        .map(String::len)
        .sum::<usize>()
        .saturating_add(sep.len().saturating_mul(items.len().saturating_sub(1)));
    check_built_size("JOIN", bytes)?;
    Ok(Dynamic::from(items.join(&sep)))
}

fn is_empty(v: &Dynamic) -> bool {
    if v.is_unit() {
        return true;
    }
    if let Some(a) = v.read_lock::<Array>() {
        return a.is_empty();
    }
    if let Some(m) = v.read_lock::<Map>() {
        return m.is_empty();
    }
    v.is_string() && display(v).trim().is_empty()
}

/// FIRST/LAST: the first/last item of a list, or word of a string.
fn edge(v: &Dynamic, first: bool) -> Result<Dynamic, String> {
    if let Some(a) = v.read_lock::<Array>() {
        let item = if first { a.first() } else { a.last() };
        return Ok(item.cloned().unwrap_or(Dynamic::UNIT));
    }
    if v.is_unit() {
        return Ok(Dynamic::UNIT);
    }
    let s = display(v);
    let mut words = s.split_whitespace();
    let w = if first { words.next() } else { words.last() };
    Ok(w.map(|w| Dynamic::from(w.to_string()))
        .unwrap_or(Dynamic::UNIT))
}

fn fromjson(a: &[Dynamic]) -> Result<Dynamic, String> {
    let s = display(&a[0]);
    serde_json::from_str::<serde_json::Value>(&s)
        .map(|j| value::from_json(&j))
        .map_err(|e| format!("FROMJSON: not valid JSON ({e})"))
}

fn round(a: &[Dynamic]) -> Result<Dynamic, String> {
    let x = num(&a[0], "ROUND")?.as_f64();
    let places = match a.get(1) {
        Some(p) => int_arg(p, "ROUND")?.clamp(0, 15) as i32,
        None => 0,
    };
    let f = 10f64.powi(places);
    Ok(value::float_result((x * f).round() / f))
}

fn pick(a: &[Dynamic], want: std::cmp::Ordering) -> Result<Dynamic, String> {
    match value::compare(&a[0], &a[1])? {
        Some(o) if o == want => Ok(a[0].clone()),
        Some(_) => Ok(a[1].clone()),
        None => Ok(if a[0].is_unit() {
            a[1].clone()
        } else {
            a[0].clone()
        }),
    }
}

fn contains(a: &[Dynamic]) -> Result<Dynamic, String> {
    if let Some(arr) = a[0].read_lock::<Array>() {
        return Ok(Dynamic::from_bool(
            arr.iter().any(|x| value::equals(x, &a[1])),
        ));
    }
    if let Some(m) = a[0].read_lock::<Map>() {
        return Ok(Dynamic::from_bool(m.contains_key(display(&a[1]).as_str())));
    }
    Ok(Dynamic::from_bool(display(&a[0]).contains(&display(&a[1]))))
}

/// `SLICE(list, start[, end])`: items from `start` to before `end`, 0-based; a negative
/// position counts from the end (`SLICE(l, -3)` is the last three).
fn slice(a: &[Dynamic]) -> Result<Dynamic, String> {
    let items = value::items(&a[0])?;
    let n = items.len() as i64;
    let at = |v: &Dynamic| -> Result<usize, String> {
        let i = int_arg(v, "SLICE")?;
        Ok((if i < 0 { n + i } else { i }).clamp(0, n) as usize)
    };
    let from = at(&a[1])?;
    let to = match a.get(2) {
        Some(e) => at(e)?,
        None => n as usize,
    };
    Ok(Dynamic::from_array(if from < to {
        items[from..to].to_vec()
    } else {
        Vec::new()
    }))
}

fn ucase(a: &[Dynamic]) -> Result<Dynamic, String> {
    Ok(Dynamic::from(display(&a[0]).to_uppercase()))
}

fn lcase(a: &[Dynamic]) -> Result<Dynamic, String> {
    Ok(Dynamic::from(display(&a[0]).to_lowercase()))
}

fn ceil(a: &[Dynamic]) -> Result<Dynamic, String> {
    Ok(value::float_result(num(&a[0], "CEIL")?.as_f64().ceil()))
}

/// NVL/COALESCE/IFNULL: the value, or the default when it is NULL or empty text.
fn coalesce(a: &[Dynamic]) -> Result<Dynamic, String> {
    Ok(
        if a[0].is_unit() || (a[0].is_string() && display(&a[0]).is_empty()) {
            a[1].clone()
        } else {
            a[0].clone()
        },
    )
}

/// A number from text (`"42"`, `" 3.5 "`, `"3,5"`) or a number; whole with `int`
/// (rounded half away from zero, as CINT does).
fn to_number(v: &Dynamic, what: &str, int: bool) -> Result<Dynamic, String> {
    let n = match value::as_num(v).filter(|_| !v.is_unit() && !v.is_string()) {
        Some(n) => n,
        None => {
            let text = display(v);
            value::parse_num(text.trim())
                .or_else(|| value::parse_num(&text.trim().replace(',', ".")))
                .ok_or_else(|| format!("{what}: '{text}' is not a number"))?
        }
    };
    Ok(if int {
        Dynamic::from_int(n.as_f64().round() as i64)
    } else {
        n.into_dynamic()
    })
}

fn pow(a: &[Dynamic]) -> Result<Dynamic, String> {
    let x = num(&a[0], "POW")?.as_f64();
    let y = num(&a[1], "POW")?.as_f64();
    Ok(value::float_result(x.powf(y)))
}

/// AVG(list) or AVG(a, b, …): the mean of the numbers (NULL items left out; none → 0).
fn avg(a: &[Dynamic]) -> Result<Dynamic, String> {
    let items = if a.len() == 1 {
        value::items(&a[0]).unwrap_or_else(|_| vec![a[0].clone()])
    } else {
        a.to_vec()
    };
    let nums: Vec<f64> = items
        .iter()
        .filter(|x| !x.is_unit())
        .map(|x| num(x, "AVG").map(Num::as_f64))
        .collect::<Result<_, _>>()?;
    if nums.is_empty() {
        return Ok(Dynamic::from_int(0));
    }
    Ok(value::float_result(
        nums.iter().sum::<f64>() / nums.len() as f64,
    ))
}

/// YEAR, MONTH, DAY, HOUR, MINUTE, SECOND of a date; WEEKDAY is 1 (Sunday) to 7.
fn date_part(v: &Dynamic, what: &str) -> Result<Dynamic, String> {
    use chrono::{Datelike, Timelike};
    let (d, _) = date_arg(v, what)?;
    Ok(Dynamic::from_int(match what {
        "YEAR" => d.year() as i64,
        "MONTH" => d.month() as i64,
        "DAY" => d.day() as i64,
        "HOUR" => d.hour() as i64,
        "MINUTE" => d.minute() as i64,
        "SECOND" => d.second() as i64,
        _ => d.weekday().num_days_from_sunday() as i64 + 1,
    }))
}

/// The number of items of a list or map; a string or other value counts as one, NULL as
/// none.
fn count(v: &Dynamic) -> usize {
    if let Some(arr) = v.read_lock::<Array>() {
        arr.len()
    } else if let Some(m) = v.read_lock::<Map>() {
        m.len()
    } else if v.is_unit() {
        0
    } else {
        1
    }
}

/// `SUM(list)` or `SUM(a, b, …)`: the total of the numbers (NULL items count as 0).
fn sum(a: &[Dynamic]) -> Result<Dynamic, String> {
    let items = if a.len() == 1 {
        value::items(&a[0]).unwrap_or_else(|_| vec![a[0].clone()])
    } else {
        a.to_vec()
    };
    let mut total = Dynamic::from_int(0);
    for item in items.iter().filter(|x| !x.is_unit()) {
        let n = num(item, "SUM")?.into_dynamic();
        total = value::add(&total, &n)?;
    }
    Ok(total)
}

fn sqrt(a: &[Dynamic]) -> Result<Dynamic, String> {
    let x = num(&a[0], "SQRT")?.as_f64();
    if x < 0.0 {
        return Err(format!("SQRT of a negative number ({x})"));
    }
    Ok(value::float_result(x.sqrt()))
}

/// A date or date-time as scripts hold them: `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD`,
/// RFC 3339, or `DD/MM/YYYY`. The flag is true when it had a time of day.
fn parse_datetime(text: &str) -> Option<(chrono::NaiveDateTime, bool)> {
    let t = text.trim();
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok())
        .or_else(|| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M").ok())
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|d| d.naive_utc())
        })
        .map(|d| (d, true))
        .or_else(|| {
            super::conversation::parse_date(t)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| (d, false))
        })
}

/// A date unit as `DATEADD`/`DATEDIFF` take it: VB letters (`yyyy q m d ww h n s`) or
/// words (`year`, `months`, `day`, …).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum DateUnit {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
}

fn date_unit(v: &Dynamic) -> Option<DateUnit> {
    if !v.is_string() {
        return None;
    }
    let u = display(v).trim().to_ascii_lowercase();
    let u = u.strip_suffix('s').filter(|x| x.len() > 1).unwrap_or(&u);
    Some(match u {
        "yyyy" | "yy" | "y" | "year" => DateUnit::Year,
        "q" | "quarter" => DateUnit::Quarter,
        "m" | "mm" | "month" => DateUnit::Month,
        "ww" | "w" | "week" => DateUnit::Week,
        "d" | "dd" | "day" => DateUnit::Day,
        "h" | "hh" | "hour" => DateUnit::Hour,
        "n" | "mi" | "minute" | "min" => DateUnit::Minute,
        "s" | "ss" | "second" | "sec" => DateUnit::Second,
        _ => return None,
    })
}

/// In General Bots' argument order (the unit last) `"m"` means minutes, as General Bots
/// has it; in VB's order (the unit first) it means months, as VB has it.
fn gb_unit(unit: DateUnit, written: &Dynamic) -> DateUnit {
    let w = display(written).trim().to_ascii_lowercase();
    if unit == DateUnit::Month && w == "m" {
        DateUnit::Minute
    } else {
        unit
    }
}

fn date_arg(v: &Dynamic, what: &str) -> Result<(chrono::NaiveDateTime, bool), String> {
    parse_datetime(&display(v)).ok_or_else(|| format!("{what}: '{}' is not a date", display(v)))
}

fn show_date(d: chrono::NaiveDateTime, with_time: bool) -> Dynamic {
    Dynamic::from(if with_time {
        d.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        d.format("%Y-%m-%d").to_string()
    })
}

/// `DATEADD(date, amount, unit)`, in VB's order `DATEADD(unit, amount, date)`, or in
/// older General Bots' `DATEADD(date, unit, amount)`: the unit is recognised wherever it
/// is. The result has a time of day when the date had one
/// or the unit is smaller than a day.
fn dateadd(a: &[Dynamic]) -> Result<Dynamic, String> {
    let (unit, amount, date) = match (date_unit(&a[0]), date_unit(&a[2]), date_unit(&a[1])) {
        (Some(u), ..) => (u, &a[1], &a[2]),
        (None, Some(u), _) => (gb_unit(u, &a[2]), &a[1], &a[0]),
        // The older General Bots order: `DATEADD date, "days", 3`.
        (None, None, Some(u)) => (gb_unit(u, &a[1]), &a[2], &a[0]),
        (None, None, None) => {
            return Err(format!(
                "DATEADD needs a unit such as \"day\", \"month\" or \"hour\", got '{}' and '{}'",
                display(&a[0]),
                display(&a[2])
            ))
        }
    };
    let (d, with_time) = date_arg(date, "DATEADD")?;
    let n = num(amount, "DATEADD")?.as_f64();
    let whole = n.trunc() as i64;
    let shifted = match unit {
        DateUnit::Year | DateUnit::Quarter | DateUnit::Month => {
            let months = whole.saturating_mul(match unit {
                DateUnit::Year => 12,
                DateUnit::Quarter => 3,
                _ => 1,
            });
            let m = chrono::Months::new(months.unsigned_abs().min(u32::MAX as u64) as u32);
            if months >= 0 {
                d.checked_add_months(m)
            } else {
                d.checked_sub_months(m)
            }
        }
        _ => {
            let secs = n * match unit {
                DateUnit::Week => 604_800.0,
                DateUnit::Day => 86_400.0,
                DateUnit::Hour => 3_600.0,
                DateUnit::Minute => 60.0,
                _ => 1.0,
            };
            if !secs.is_finite() || secs.abs() > 1e13 {
                None
            } else {
                d.checked_add_signed(chrono::Duration::milliseconds((secs * 1000.0) as i64))
            }
        }
    }
    .ok_or_else(|| "DATEADD: the date is out of range".to_string())?;
    let with_time = with_time
        || matches!(unit, DateUnit::Hour | DateUnit::Minute | DateUnit::Second)
        || (n.fract() != 0.0);
    Ok(show_date(shifted, with_time))
}

/// `DATEDIFF(start, end, unit)`, or in VB's order `DATEDIFF(unit, start, end)`: as in VB,
/// years, quarters, months and days count the boundaries crossed from `start` to `end`;
/// weeks, hours, minutes and seconds count whole units elapsed (negative when `end` is
/// earlier).
fn datediff(a: &[Dynamic]) -> Result<Dynamic, String> {
    if a.len() == 2 {
        // Two dates: the days between them.
        return datediff(&[a[0].clone(), a[1].clone(), Dynamic::from("day")]);
    }
    let (unit, from, to) = match (date_unit(&a[0]), date_unit(&a[2])) {
        (Some(u), _) => (u, &a[1], &a[2]),
        (None, Some(u)) => (gb_unit(u, &a[2]), &a[0], &a[1]),
        (None, None) => {
            return Err(format!(
                "DATEDIFF needs a unit such as \"day\", \"month\" or \"hour\", got '{}' and '{}'",
                display(&a[0]),
                display(&a[2])
            ))
        }
    };
    let (from, _) = date_arg(from, "DATEDIFF")?;
    let (to, _) = date_arg(to, "DATEDIFF")?;
    use chrono::Datelike;
    let months =
        (to.year() as i64 - from.year() as i64) * 12 + to.month() as i64 - from.month() as i64;
    let secs = (to - from).num_seconds();
    let quarter = |d: &chrono::NaiveDateTime| d.year() as i64 * 4 + (d.month() as i64 - 1) / 3;
    let n = match unit {
        DateUnit::Year => to.year() as i64 - from.year() as i64,
        DateUnit::Quarter => quarter(&to) - quarter(&from),
        DateUnit::Month => months,
        DateUnit::Week => secs / 604_800,
        DateUnit::Day => (to.date() - from.date()).num_days(),
        DateUnit::Hour => secs / 3_600,
        DateUnit::Minute => secs / 60,
        DateUnit::Second => secs,
    };
    Ok(Dynamic::from_int(n))
}

/// `FORMAT(x, pattern)`: numbers with `0`, `#`, `,` and `.` patterns (`"#,##0.00"`,
/// `"0%"`); dates and times with `yyyy MM dd HH mm ss`.
fn format(a: &[Dynamic]) -> Result<Dynamic, String> {
    let Some(pat) = a.get(1).map(display) else {
        // One argument: the value as text.
        return Ok(Dynamic::from(display(&a[0])));
    };
    let v = &a[0];
    let is_date_pattern = ["yyyy", "yy", "dd", "MM", "HH", "mm", "ss"]
        .iter()
        .any(|p| pat.contains(p));
    if is_date_pattern {
        let text = display(v);
        let (dt, _) =
            parse_datetime(&text).ok_or_else(|| format!("FORMAT: '{text}' is not a date"))?;
        let fmt = pat
            .replace("yyyy", "%Y")
            .replace("yy", "%y")
            .replace("MM", "%m")
            .replace("dd", "%d")
            .replace("HH", "%H")
            .replace("mm", "%M")
            .replace("ss", "%S");
        return Ok(Dynamic::from(dt.format(&fmt).to_string()));
    }
    let Some(n) = value::as_num(v).filter(|_| !v.is_unit()) else {
        return Ok(Dynamic::from(display(v)));
    };
    let mut x = n.as_f64();
    let percent = pat.ends_with('%');
    if percent {
        x *= 100.0;
    }
    let body = pat.trim_end_matches('%');
    let decimals = body.split_once('.').map(|(_, d)| d.len()).unwrap_or(0);
    let grouped = body.contains(',');
    // Half away from zero, as ROUND does (`{:.N}` alone would round 2.5 to 2).
    let rounded = if decimals <= 15 {
        let f = 10f64.powi(decimals as i32);
        let r = (x.abs() * f).round() / f;
        if r.is_finite() {
            r
        } else {
            x.abs()
        }
    } else {
        x.abs()
    };
    let text = format!("{:.*}", decimals, rounded);
    let (int_part, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let int_part = if grouped {
        let digits: Vec<char> = int_part.chars().collect();
        let mut out = String::new();
        for (i, d) in digits.iter().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(*d);
        }
        out
    } else {
        int_part
    };
    let mut out = String::new();
    if x < 0.0 && text.chars().any(|c| c != '0' && c != '.') {
        out.push('-');
    }
    out.push_str(&int_part);
    if let Some(f) = frac {
        out.push('.');
        out.push_str(&f);
    }
    if percent {
        out.push('%');
    }
    Ok(Dynamic::from(out))
}
