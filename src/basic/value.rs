//! BASIC values on top of Rhai's `Dynamic`: display, truthiness, conversion to and from
//! JSON (the form values take in the journal, in memory and on the API), and the
//! operators with BASIC's rules (`+` concatenates when either side is a string, `/` is
//! exact division, NULL compares equal only to NULL).

use rhai::{Array, Dynamic, Map, FLOAT, INT};
use serde_json::Value as Json;

/// The text of a value as BASIC shows it: `8` not `8.0`, `9.5`, NULL as an empty string.
pub fn display(v: &Dynamic) -> String {
    if v.is_unit() {
        return String::new();
    }
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        return s.to_string();
    }
    if let Ok(n) = v.as_int() {
        return n.to_string();
    }
    if let Ok(f) = v.as_float() {
        return display_float(f);
    }
    if let Ok(b) = v.as_bool() {
        return if b { "true" } else { "false" }.to_string();
    }
    if let Ok(c) = v.as_char() {
        return c.to_string();
    }
    shown_json(to_json(v)).to_string()
}

/// Rounds to 15 significant digits, as BASICs and spreadsheets show numbers, so that
/// binary rounding noise stays hidden: 0.1 + 0.2 shows `0.3`, 1.1 * 100 shows `110`.
fn shown(f: FLOAT) -> FLOAT {
    if f.is_finite() {
        format!("{f:.14e}").parse::<FLOAT>().unwrap_or(f)
    } else {
        f
    }
}

/// A list or map as shown to the user: JSON with its numbers shown as [`display`] does
/// (`TOJSON` and storage keep them exact).
fn shown_json(j: Json) -> Json {
    match j {
        Json::Number(n) if n.is_f64() => {
            let f = shown(n.as_f64().unwrap_or(0.0));
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Json::from(f as i64)
            } else {
                serde_json::Number::from_f64(f)
                    .map(Json::Number)
                    .unwrap_or(Json::Null)
            }
        }
        Json::Array(a) => Json::Array(a.into_iter().map(shown_json).collect()),
        Json::Object(o) => Json::Object(o.into_iter().map(|(k, v)| (k, shown_json(v))).collect()),
        other => other,
    }
}

pub fn display_float(f: FLOAT) -> String {
    let f = shown(f);
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// NULL, FALSE, 0 and "" are false; everything else is true.
pub fn truthy(v: &Dynamic) -> bool {
    if v.is_unit() {
        return false;
    }
    if let Ok(b) = v.as_bool() {
        return b;
    }
    if let Ok(n) = v.as_int() {
        return n != 0;
    }
    if let Ok(f) = v.as_float() {
        return f != 0.0;
    }
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        return !s.is_empty();
    }
    true
}

pub fn type_name(v: &Dynamic) -> &'static str {
    if v.is_unit() {
        "NULL"
    } else if v.is_int() || v.is_float() {
        "number"
    } else if v.is_string() || v.is_char() {
        "string"
    } else if v.is_bool() {
        "boolean"
    } else if v.is_array() {
        "list"
    } else if v.is_map() {
        "map"
    } else {
        "value"
    }
}

pub fn to_json(v: &Dynamic) -> Json {
    if v.is_unit() {
        return Json::Null;
    }
    if let Ok(b) = v.as_bool() {
        return Json::Bool(b);
    }
    if let Ok(n) = v.as_int() {
        return Json::from(n);
    }
    if let Ok(f) = v.as_float() {
        // Integral floats are stored as integers so that 150.0 and 150 are one value.
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            return Json::from(f as i64);
        }
        return serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::Null);
    }
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        return Json::String(s.to_string());
    }
    if let Ok(c) = v.as_char() {
        return Json::String(c.to_string());
    }
    if let Some(a) = v.read_lock::<Array>() {
        return Json::Array(a.iter().map(to_json).collect());
    }
    if let Some(m) = v.read_lock::<Map>() {
        return Json::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect());
    }
    Json::String(display(v))
}

pub fn from_json(j: &Json) -> Dynamic {
    match j {
        Json::Null => Dynamic::UNIT,
        Json::Bool(b) => Dynamic::from_bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => Dynamic::from_float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Dynamic::from(s.clone()),
        Json::Array(a) => Dynamic::from_array(a.iter().map(from_json).collect()),
        Json::Object(o) => {
            let mut m = Map::new();
            for (k, v) in o {
                m.insert(k.as_str().into(), from_json(v));
            }
            Dynamic::from_map(m)
        }
    }
}

/// A number view of a value: ints stay ints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(INT),
    Float(FLOAT),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    pub fn into_dynamic(self) -> Dynamic {
        match self {
            Num::Int(i) => Dynamic::from_int(i),
            Num::Float(f) => Dynamic::from_float(f),
        }
    }
}

/// The number in a value: numbers as they are, numeric strings parsed, NULL as 0.
pub fn as_num(v: &Dynamic) -> Option<Num> {
    if v.is_unit() {
        return Some(Num::Int(0));
    }
    if let Ok(n) = v.as_int() {
        return Some(Num::Int(n));
    }
    if let Ok(f) = v.as_float() {
        return Some(Num::Float(f));
    }
    if let Ok(b) = v.as_bool() {
        return Some(Num::Int(b as INT));
    }
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        return parse_num(s.trim());
    }
    None
}

pub fn parse_num(s: &str) -> Option<Num> {
    if let Ok(i) = s.parse::<INT>() {
        return Some(Num::Int(i));
    }
    match s.parse::<FLOAT>() {
        Ok(f) if f.is_finite() && !s.is_empty() && !s.contains(['i', 'I', 'n', 'N']) => {
            Some(Num::Float(f))
        }
        _ => None,
    }
}

/// A float result, shown as an integer when it is one.
pub fn float_result(f: FLOAT) -> Dynamic {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Dynamic::from_int(f as INT)
    } else {
        Dynamic::from_float(f)
    }
}

fn is_stringish(v: &Dynamic) -> bool {
    v.is_string() || v.is_char()
}

/// Equality as BASIC sees it.
pub fn equals(a: &Dynamic, b: &Dynamic) -> bool {
    if a.is_unit() || b.is_unit() {
        return a.is_unit() && b.is_unit();
    }
    if is_stringish(a) && is_stringish(b) {
        return display(a) == display(b);
    }
    let numeric = |v: &Dynamic| v.is_int() || v.is_float();
    if numeric(a) || numeric(b) {
        if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
            if (numeric(a) || is_stringish(a)) && (numeric(b) || is_stringish(b)) {
                return match (x, y) {
                    (Num::Int(x), Num::Int(y)) => x == y,
                    _ => x.as_f64() == y.as_f64(),
                };
            }
        }
        return false;
    }
    if let (Ok(x), Ok(y)) = (a.as_bool(), b.as_bool()) {
        return x == y;
    }
    to_json(a) == to_json(b)
}

/// Ordering for `< > <= >=`: numbers numerically, strings by text; `None` when the
/// two cannot be compared (NULL, or a number with a non-numeric string).
pub fn compare(a: &Dynamic, b: &Dynamic) -> Result<Option<std::cmp::Ordering>, String> {
    if a.is_unit() || b.is_unit() {
        return Ok(None);
    }
    if is_stringish(a) && is_stringish(b) {
        return Ok(Some(display(a).cmp(&display(b))));
    }
    match (as_num(a), as_num(b)) {
        (Some(Num::Int(x)), Some(Num::Int(y))) => Ok(Some(x.cmp(&y))),
        (Some(x), Some(y)) => Ok(x.as_f64().partial_cmp(&y.as_f64())),
        _ => Err(format!(
            "cannot compare {} with {}",
            type_name(a),
            type_name(b)
        )),
    }
}

fn arith_err(op: &str, a: &Dynamic, b: &Dynamic) -> String {
    format!(
        "cannot apply '{op}' to {} and {}",
        type_name(a),
        type_name(b)
    )
}

/// `+`: concatenation when either side is a string, else addition.
pub fn add(a: &Dynamic, b: &Dynamic) -> Result<Dynamic, String> {
    if is_stringish(a) || is_stringish(b) {
        let mut s = display(a);
        s.push_str(&display(b));
        return Ok(Dynamic::from(s));
    }
    if let (Some(mut x), Some(y)) = (
        a.read_lock::<Array>().map(|x| x.clone()),
        b.read_lock::<Array>(),
    ) {
        x.extend(y.iter().cloned());
        return Ok(Dynamic::from_array(x));
    }
    arith(a, b, "+", |x, y| x.checked_add(y), |x, y| x + y)
}

pub fn arith(
    a: &Dynamic,
    b: &Dynamic,
    op: &str,
    int_op: fn(INT, INT) -> Option<INT>,
    float_op: fn(FLOAT, FLOAT) -> FLOAT,
) -> Result<Dynamic, String> {
    let bad = |v: &Dynamic| v.is_array() || v.is_map();
    if bad(a) || bad(b) {
        return Err(arith_err(op, a, b));
    }
    match (as_num(a), as_num(b)) {
        (Some(Num::Int(x)), Some(Num::Int(y))) => match int_op(x, y) {
            Some(r) => Ok(Dynamic::from_int(r)),
            None => Ok(float_result(float_op(x as FLOAT, y as FLOAT))),
        },
        (Some(x), Some(y)) => {
            let r = float_op(x.as_f64(), y.as_f64());
            if r.is_finite() {
                Ok(Dynamic::from_float(r))
            } else {
                Err(format!("'{op}' gives a number out of range"))
            }
        }
        _ => Err(arith_err(op, a, b)),
    }
}

/// Iteration over a value: a list's items, a map's values, a string's characters.
pub fn items(v: &Dynamic) -> Result<Array, String> {
    if v.is_unit() {
        return Ok(Array::new());
    }
    if let Some(a) = v.read_lock::<Array>() {
        return Ok(a.clone());
    }
    if let Some(m) = v.read_lock::<Map>() {
        return Ok(m.values().cloned().collect());
    }
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        return Ok(s.chars().map(|c| Dynamic::from(c.to_string())).collect());
    }
    Err(format!("cannot loop over a {}", type_name(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_display_as_basic_does() {
        assert_eq!(display(&Dynamic::from_float(8.0)), "8");
        assert_eq!(display(&Dynamic::from_float(9.5)), "9.5");
        assert_eq!(display(&Dynamic::from_int(-3)), "-3");
        assert_eq!(display(&Dynamic::from_float(0.1 + 0.2)), "0.3");
        assert_eq!(display(&Dynamic::from_float(1.1 * 100.0)), "110");
        assert_eq!(
            display(&Dynamic::from_float(1.0 / 3.0)),
            "0.333333333333333"
        );
        assert_eq!(display(&Dynamic::UNIT), "");
        let list = Dynamic::from_array(vec![Dynamic::from_float(0.1 + 0.2), Dynamic::from_int(2)]);
        assert_eq!(display(&list), "[0.3,2]");
    }

    #[test]
    fn plus_concatenates_with_a_string() {
        let r = add(&Dynamic::from("a"), &Dynamic::from_int(1)).unwrap();
        assert_eq!(display(&r), "a1");
        let r = add(&Dynamic::from_int(1), &Dynamic::from_float(0.5)).unwrap();
        assert_eq!(display(&r), "1.5");
    }

    #[test]
    fn null_equals_only_null() {
        assert!(equals(&Dynamic::UNIT, &Dynamic::UNIT));
        assert!(!equals(&Dynamic::UNIT, &Dynamic::from("")));
        assert!(equals(&Dynamic::from_int(2), &Dynamic::from_float(2.0)));
        assert!(equals(&Dynamic::from("5"), &Dynamic::from_int(5)));
    }
}
