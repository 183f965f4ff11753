//! Formatting shared by the pages: times, durations, JSON, status badges, URLs. The
//! templates get plain strings from here, so every page writes a time or a status the
//! same way (templates escape them).

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

/// `2026-12-02 14:03:07` (UTC).
pub fn time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// An optional time, or an empty string.
pub fn time_opt(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(time).unwrap_or_default()
}

/// A duration for people: `850 ms`, `4.2 s`, `3 min 10 s`, `2 h 5 min`, `3 d 4 h`.
pub fn duration(d: chrono::Duration) -> String {
    let ms = d.num_milliseconds();
    if ms < 0 {
        return format!("-{}", duration(-d));
    }
    let s = ms / 1000;
    match s {
        _ if ms < 1000 => format!("{ms} ms"),
        0..=59 => format!("{:.1} s", ms as f64 / 1000.0),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        3600..=86399 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86400, (s % 86400) / 3600),
    }
}

/// The time from `a` to `b` (or to now), for a duration column.
pub fn between(a: &DateTime<Utc>, b: &Option<DateTime<Utc>>) -> String {
    duration(b.unwrap_or_else(Utc::now) - *a)
}

/// `in 29 min 50 s` or `3 min 10 s ago`.
pub fn relative(t: &DateTime<Utc>) -> String {
    let d = *t - Utc::now();
    if d.num_milliseconds() >= 0 {
        format!("in {}", duration(d))
    } else {
        format!("{} ago", duration(-d))
    }
}

/// JSON on several lines, shortened past `max` characters.
pub fn json_pretty(v: &Json, max: usize) -> String {
    let s = serde_json::to_string_pretty(v).unwrap_or_default();
    shorten(&s, max)
}

/// JSON on one line, shortened past `max` characters.
pub fn json_line(v: &Json, max: usize) -> String {
    shorten(&v.to_string(), max)
}

/// `s` cut at `max` characters with an ellipsis.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// What an execution waits for, in words, from its `waiting_for`.
pub fn waiting(w: &Option<Json>) -> String {
    let Some(w) = w else {
        return String::new();
    };
    let text = |k: &str| w.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    match w.get("kind").and_then(Json::as_str) {
        Some("approval") => match w.get("approver").and_then(Json::as_str) {
            Some(a) => format!("approval by {a}"),
            None => "approval".into(),
        },
        Some("bot") => format!("bot {}", text("bot")),
        Some("timer") => match w
            .get("until")
            .and_then(Json::as_str)
            .and_then(|u| DateTime::parse_from_rfc3339(u).ok())
        {
            Some(u) => format!(
                "timer until {} ({})",
                time(&u.with_timezone(&Utc)),
                relative(&u.with_timezone(&Utc))
            ),
            None => "timer".into(),
        },
        Some("parallel") => {
            let pending: Vec<&str> = w
                .get("pending")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            format!("branches {}", pending.join(", "))
        }
        Some("event") => {
            let names: Vec<&str> = w
                .get("names")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            format!("event {}", names.join(" or "))
        }
        Some("message") => "a message (HEAR)".into(),
        Some(other) => other.to_string(),
        None => json_line(w, 80),
    }
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A query string of the non-empty pairs (with a leading `?`, or empty).
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in pairs {
        if !v.is_empty() {
            ser.append_pair(k, v);
            any = true;
        }
    }
    if any {
        format!("?{}", ser.finish())
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(chrono::Duration::milliseconds(850)), "850 ms");
        assert_eq!(duration(chrono::Duration::milliseconds(4200)), "4.2 s");
        assert_eq!(duration(chrono::Duration::seconds(190)), "3 min 10 s");
        assert_eq!(duration(chrono::Duration::seconds(7500)), "2 h 5 min");
        assert_eq!(
            duration(chrono::Duration::seconds(3 * 86400 + 4 * 3600)),
            "3 d 4 h"
        );
    }

    #[test]
    fn queries_leave_out_empty_values() {
        assert_eq!(
            query(&[("status", "failed"), ("bot", "")]),
            "?status=failed"
        );
        assert_eq!(query(&[("bot", "")]), "");
        assert_eq!(query(&[("name", "a b&c")]), "?name=a+b%26c");
    }

    #[test]
    fn waits_in_words() {
        let w = serde_json::json!({"kind": "approval", "key": "k", "approver": "m@x"});
        assert_eq!(waiting(&Some(w)), "approval by m@x");
        let w = serde_json::json!({"kind": "parallel", "key": "k", "pending": ["A", "B"]});
        assert_eq!(waiting(&Some(w)), "branches A, B");
        assert_eq!(shorten("abcdef", 3), "abc…");
    }
}
