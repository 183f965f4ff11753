//! Scheduling: `SET SCHEDULE "cron"` at the top of a script runs the script on that
//! schedule. The schedule is a cron expression as General Bots writes it — five fields
//! (`"0 9 * * *"`), or six with a leading seconds field (`"*/2 * * * * *"`) — or one of
//! General Bots' plain-English forms (`"every 15 minutes"`, `"every day at 9am"`),
//! translated here to cron. A schedule that is neither is a compile error at the string.
//!
//! The statement is a declaration (like `TABLE`): running it does nothing. The compile
//! records it in `CompiledScript::schedule`; the package load stores it
//! (`workflow::schedules`), and the instances fire its ticks. Cron fields are read in
//! UTC, so that every instance agrees on when a tick is due.

use chrono::{DateTime, Utc};
use croner::parser::{CronParser, Seconds, Year};

use crate::basic::ast::{Stmt, StmtKind};
use crate::basic::codegen::Codegen;
use crate::basic::diagnostics::{Diagnostic, Span};
use crate::basic::parser::{PResult, Parser};
use crate::basic::tokenizer::{StrPart, Tok};

/// The plain-English forms accepted, as the error for an unknown one lists them.
const FORMS: &str = "\"every minute\", \"every N minutes\", \"every N seconds\", \
     \"every hour\", \"every N hours\", \"every hour from 9 to 17\", \"every day\", \
     \"every week\", \"every month\", \"every year\", \"hourly\", \"daily\", \"weekly\", \
     \"monthly\", \"yearly\", \"at 9am\", \"at 9:30pm\", \"at 14:00\", \"at noon\", \
     \"at midnight\", \"every day at 9am\", \"every monday [at 9am]\", \
     \"weekdays [at 8am]\", \"weekends [at 10am]\", \"business hours\", \
     \"every N minutes during business hours\"";

impl Parser {
    /// True at `SET SCHEDULE …` or `SET_SCHEDULE …` (not `SET schedule = …`).
    pub(crate) fn at_schedule_statement(&self) -> bool {
        (self.at_words(&["set", "schedule"]) && !self.peek_n(2).is_sym("="))
            || (self.at_word("set_schedule") && !self.peek_n(1).is_sym("="))
    }

    /// `SET SCHEDULE "cron or plain English"` (also `SET_SCHEDULE`, and with parentheses).
    /// `SET SCHEDULE when, "script"` — General Bots' form that schedules another script
    /// from inside code — parses, and is not available here.
    pub(crate) fn schedule_statement(&mut self, span: Span) -> PResult<Option<StmtKind>> {
        if !(self.eat_words(&["set", "schedule"]) || self.eat_word("set_schedule")) {
            return Ok(None);
        }
        let parens = self.eat_sym("(");
        let t = self.peek().clone();
        let text = match &t.tok {
            Tok::Str(parts) => match parts.as_slice() {
                [] => String::new(),
                [StrPart::Text(s)] => s.clone(),
                _ => {
                    return Err(Diagnostic::error(
                        t.span,
                        "SET SCHEDULE takes plain text, without ${…}: the schedule is read \
                         when the package loads, not when the script runs",
                    ))
                }
            },
            _ => {
                return Err(self.unexpected(
                    "expected the schedule as a string after SET SCHEDULE \
                     (\"0 9 * * *\", \"every day at 9am\")",
                ))
            }
        };
        self.advance();
        if self.at_sym(",") {
            // The other script and its time: kept for nothing, the statement fails when run.
            return Ok(Some(
                self.unavailable_args("SET SCHEDULE of another script"),
            ));
        }
        if parens {
            self.expect_sym(")", "to close SET SCHEDULE(")?;
        }
        let cron = to_cron(&text).map_err(|m| Diagnostic::error(t.span, m))?;
        if !self.at_top_level() {
            return Err(Diagnostic::error(
                span,
                "SET SCHEDULE belongs at the top level of the script (it schedules the whole \
                 file), not inside a block",
            ));
        }
        Ok(Some(StmtKind::Schedule(cron)))
    }
}

impl Codegen<'_> {
    /// A schedule runs as nothing: it is a declaration, read when the package loads.
    pub(crate) fn schedule_stmt(&mut self, _s: &Stmt) {}
}

/// The script's schedule: its first top-level `SET SCHEDULE`, with the position of the
/// statement. Warns at a `SET SCHEDULE` below other statements (it is easily missed
/// there, and General Bots reads it only at the top) and at a second one (ignored).
pub fn declared(body: &[Stmt], warnings: &mut Vec<Diagnostic>) -> Option<(String, Span)> {
    let mut found: Option<(String, Span)> = None;
    let mut code_before = false;
    for s in body {
        match &s.kind {
            StmtKind::Schedule(cron) => {
                if let Some((_, first)) = &found {
                    warnings.push(Diagnostic::warning(
                        s.span,
                        format!(
                            "a second SET SCHEDULE: a script has one schedule, the one at line \
                             {}; this one is ignored",
                            first.line
                        ),
                    ));
                    continue;
                }
                if code_before {
                    warnings.push(Diagnostic::warning(
                        s.span,
                        "SET SCHEDULE below other statements: it schedules the whole file \
                         all the same; put it at the top of the script, where readers look",
                    ));
                }
                found = Some((cron.clone(), s.span));
            }
            StmtKind::Declaration => {}
            _ => code_before = true,
        }
    }
    found
}

/// A schedule as the script writes it → its cron expression (five fields, or six with
/// seconds first), checked. The error says what is wrong and which forms are accepted.
pub fn to_cron(text: &str) -> Result<String, String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let normal = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.is_empty() {
        return Err(format!(
            "SET SCHEDULE needs a schedule: a cron expression (\"0 9 * * *\", or six fields \
             with seconds first) or one of {FORMS}"
        ));
    }
    let cron_like = normal.starts_with(|c: char| c.is_ascii_digit() || "*?@".contains(c));
    let cron = if cron_like {
        normal.clone()
    } else {
        match plain_english(&words)? {
            Some(cron) => cron,
            None => {
                return Err(format!(
                    "SET SCHEDULE: \"{normal}\" is not a schedule this server knows; write a \
                     cron expression (\"0 9 * * *\", or six fields with seconds first: \
                     \"*/30 * * * * *\") or one of {FORMS}"
                ))
            }
        }
    };
    let fields = cron.split(' ').count();
    if !cron.starts_with('@') && fields != 5 && fields != 6 {
        return Err(format!(
            "SET SCHEDULE: \"{cron}\" has {fields} field{}; a cron expression has five \
             (minute hour day-of-month month day-of-week) or six (seconds first)",
            if fields == 1 { "" } else { "s" }
        ));
    }
    let parsed = parse(&cron)?;
    // A pattern that can never happen (`0 0 31 2 *`) is a mistake, not a schedule.
    if parsed.find_next_occurrence(&Utc::now(), false).is_err() {
        return Err(format!("SET SCHEDULE: \"{cron}\" never happens"));
    }
    Ok(cron)
}

/// A cron expression as [`to_cron`] returns it, parsed.
pub fn parse(cron: &str) -> Result<croner::Cron, String> {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(cron)
        .map_err(|e| {
            // croner's messages start with the kind of error ("Component error: …").
            let text = e.to_string();
            let text = text.split_once(": ").map_or(text.as_str(), |(_, m)| m);
            format!(
                "SET SCHEDULE: \"{cron}\" is not a valid cron expression ({})",
                text.trim_end_matches('.').to_lowercase()
            )
        })
}

/// The tick to run for a schedule whose next run was due at `due` (≤ `now`), and the
/// next run after it. When ticks were missed (the server was down, or busy for more than
/// one period), the tick is the latest one at or before `now`: one catch-up run, not one
/// per missed tick. The next run is the first tick after `now`.
pub fn due_tick(
    cron: &croner::Cron,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let latest = cron
        .find_previous_occurrence(&now, true)
        .map_err(|e| e.to_string())?;
    let tick = latest.max(due);
    let next = cron
        .find_next_occurrence(&now.max(tick), false)
        .map_err(|e| e.to_string())?;
    Ok((tick, next))
}

/// The first tick of a schedule after `now`.
pub fn next_after(cron: &croner::Cron, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    cron.find_next_occurrence(&now, false)
        .map_err(|e| e.to_string())
}

/// General Bots' plain-English schedules → cron. `None` when the words are no known form;
/// an error when they are one with a value out of range (`every 90 minutes`).
fn plain_english(words: &[String]) -> Result<Option<String>, String> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    // `… at TIME` ends the day-like forms.
    let (head, time) = match words.iter().position(|w| *w == "at") {
        Some(i) => (&words[..i], Some(time_of_day(&words[i + 1..].concat())?)),
        None => (&words[..], None),
    };
    let (minute, hour) = time.unwrap_or((0, 0));
    let daily = |dow: &str| Some(format!("{minute} {hour} * * {dow}"));
    let cron = match head {
        [] if time.is_some() => daily("*"),
        ["every", "day" | "night"] | ["daily"] | ["everyday"] => daily("*"),
        ["every", "week"] | ["weekly"] => daily("0"),
        ["every", "month"] | ["monthly"] => Some(format!("{minute} {hour} 1 * *")),
        ["every", "year"] | ["yearly"] | ["annually"] => Some(format!("{minute} {hour} 1 1 *")),
        ["weekdays"] | ["every", "weekday"] => daily("1-5"),
        ["weekends"] | ["every", "weekend"] => daily("0,6"),
        ["every", day] if weekday(day).is_some() => weekday(day).and_then(daily),
        _ if time.is_some() => None,
        ["every", "second"] => Some("* * * * * *".into()),
        ["every", "minute"] => Some("* * * * *".into()),
        ["every", "hour"] | ["hourly"] => Some("0 * * * *".into()),
        ["every", n, unit] if n.parse::<u32>().is_ok() => {
            let n = count(n)?;
            match *unit {
                "second" | "seconds" | "sec" | "secs" => {
                    Some(format!("*/{} * * * * *", step(n, 59, "seconds")?))
                }
                "minute" | "minutes" | "min" | "mins" => {
                    Some(format!("*/{} * * * *", step(n, 59, "minutes")?))
                }
                "hour" | "hours" => Some(format!("0 */{} * * *", step(n, 23, "hours")?)),
                _ => None,
            }
        }
        ["every", "hour", "from", a, "to", b] => {
            let (a, b) = (hour_of(a)?, hour_of(b)?);
            if a > b {
                return Err(format!(
                    "SET SCHEDULE: \"every hour from {a} to {b}\": the first hour comes after the last"
                ));
            }
            Some(format!("0 {a}-{b} * * *"))
        }
        ["business", "hours"] | ["every", "hour", "during", "business", "hours"] => {
            Some("0 9-17 * * 1-5".into())
        }
        ["every", n, "minutes" | "minute" | "min" | "mins", "during", "business", "hours"]
            if n.parse::<u32>().is_ok() =>
        {
            Some(format!(
                "*/{} 9-17 * * 1-5",
                step(count(n)?, 59, "minutes")?
            ))
        }
        _ => None,
    };
    Ok(cron)
}

/// The number in `every N …`.
fn count(word: &str) -> Result<u32, String> {
    word.parse::<u32>().map_err(|_| {
        format!("SET SCHEDULE: \"{word}\" is not a number (as in \"every 5 minutes\")")
    })
}

/// `every N unit` as a cron step: 1 to `max`.
fn step(n: u32, max: u32, unit: &str) -> Result<u32, String> {
    if (1..=max).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "SET SCHEDULE: every {n} {unit}: the number must be from 1 to {max} (write a cron \
             expression for other periods)"
        ))
    }
}

fn hour_of(word: &str) -> Result<u32, String> {
    match word.parse::<u32>() {
        Ok(h) if h <= 23 => Ok(h),
        _ => Err(format!(
            "SET SCHEDULE: \"{word}\" is not an hour from 0 to 23"
        )),
    }
}

/// Cron's day of the week (0 = Sunday) of a day's name or its three-letter abbreviation.
fn weekday(word: &str) -> Option<&'static str> {
    const DAYS: [(&str, &str); 7] = [
        ("sunday", "0"),
        ("monday", "1"),
        ("tuesday", "2"),
        ("wednesday", "3"),
        ("thursday", "4"),
        ("friday", "5"),
        ("saturday", "6"),
    ];
    DAYS.iter()
        .find(|(name, _)| *name == word || (word.len() == 3 && name.starts_with(word)))
        .map(|(_, n)| *n)
}

/// A time of day (`9am`, `9:30pm`, `14:00`, `9`, `noon`, `midnight`) → (minute, hour).
fn time_of_day(text: &str) -> Result<(u32, u32), String> {
    let bad = || {
        format!(
            "SET SCHEDULE: \"at {text}\" is not a time of day; write it as 9am, 9:30pm, 14:00, \
             noon or midnight"
        )
    };
    match text {
        "noon" => return Ok((0, 12)),
        "midnight" => return Ok((0, 0)),
        _ => {}
    }
    let (clock, half) = if let Some(c) = text.strip_suffix("am") {
        (c, Some(false))
    } else if let Some(c) = text.strip_suffix("pm") {
        (c, Some(true))
    } else {
        (text, None)
    };
    let (h, m) = match clock.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h, m),
        Some(_) => return Err(bad()),
        None => (clock, "0"),
    };
    let (Ok(h), Ok(m)) = (h.parse::<u32>(), m.parse::<u32>()) else {
        return Err(bad());
    };
    if m > 59 {
        return Err(bad());
    }
    let hour = match half {
        Some(pm) if (1..=12).contains(&h) => h % 12 + if pm { 12 } else { 0 },
        Some(_) => return Err(bad()),
        None if h <= 23 => h,
        None => return Err(bad()),
    };
    Ok((m, hour))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_expressions_pass_through() {
        assert_eq!(to_cron("0 9 * * *").unwrap(), "0 9 * * *");
        assert_eq!(to_cron("  */2  * * * * * ").unwrap(), "*/2 * * * * *");
        assert_eq!(to_cron("0 9-17 * * MON-FRI").unwrap(), "0 9-17 * * MON-FRI");
        assert_eq!(to_cron("@daily").unwrap(), "@daily");
    }

    #[test]
    fn plain_english_becomes_cron() {
        for (text, cron) in [
            ("every minute", "* * * * *"),
            ("every 5 minutes", "*/5 * * * *"),
            ("Every 30 Seconds", "*/30 * * * * *"),
            ("every hour", "0 * * * *"),
            ("hourly", "0 * * * *"),
            ("every 6 hours", "0 */6 * * *"),
            ("every day", "0 0 * * *"),
            ("daily", "0 0 * * *"),
            ("every week", "0 0 * * 0"),
            ("monthly", "0 0 1 * *"),
            ("yearly", "0 0 1 1 *"),
            ("at 9am", "0 9 * * *"),
            ("at 9:30am", "30 9 * * *"),
            ("at 2pm", "0 14 * * *"),
            ("at 12am", "0 0 * * *"),
            ("at 12pm", "0 12 * * *"),
            ("at 14:00", "0 14 * * *"),
            ("at noon", "0 12 * * *"),
            ("at midnight", "0 0 * * *"),
            ("every day at 2am", "0 2 * * *"),
            ("every day at 6:30 pm", "30 18 * * *"),
            ("every monday", "0 0 * * 1"),
            ("every friday at 5pm", "0 17 * * 5"),
            ("weekdays", "0 0 * * 1-5"),
            ("every weekday at 8am", "0 8 * * 1-5"),
            ("weekends at 10am", "0 10 * * 0,6"),
            ("every hour from 9 to 17", "0 9-17 * * *"),
            ("business hours", "0 9-17 * * 1-5"),
            (
                "every 15 minutes during business hours",
                "*/15 9-17 * * 1-5",
            ),
        ] {
            assert_eq!(to_cron(text).as_deref(), Ok(cron), "{text}");
        }
    }

    #[test]
    fn bad_schedules_say_what_is_accepted() {
        let e = to_cron("61 * * * *").unwrap_err();
        assert!(e.contains("not a valid cron expression"), "{e}");
        let e = to_cron("0 9 * *").unwrap_err();
        assert!(e.contains("has 4 fields"), "{e}");
        let e = to_cron("0 0 9 * * * 2030").unwrap_err();
        assert!(e.contains("has 7 fields"), "{e}");
        let e = to_cron("every full moon").unwrap_err();
        assert!(
            e.contains("every N minutes") && e.contains("cron expression"),
            "{e}"
        );
        let e = to_cron("every 90 minutes").unwrap_err();
        assert!(e.contains("from 1 to 59"), "{e}");
        let e = to_cron("at 25:00").unwrap_err();
        assert!(e.contains("not a time of day"), "{e}");
        let e = to_cron("every 5 minutes at 9am").unwrap_err();
        assert!(e.contains("not a schedule"), "{e}");
        let e = to_cron("0 0 31 2 *").unwrap_err();
        assert!(e.contains("never happens"), "{e}");
        assert!(to_cron("").is_err());
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_due_tick_runs_once_and_missed_ticks_collapse_into_the_latest() {
        let c = parse("*/2 * * * * *").unwrap();
        // On time (a little late): that tick, then the next one.
        let (tick, next) =
            due_tick(&c, at("2026-01-01T00:00:10Z"), at("2026-01-01T00:00:10.3Z")).unwrap();
        assert_eq!(
            (tick, next),
            (at("2026-01-01T00:00:10Z"), at("2026-01-01T00:00:12Z"))
        );
        // Down from :10 to :31: one run for :30, the latest missed tick; next :32.
        let (tick, next) =
            due_tick(&c, at("2026-01-01T00:00:10Z"), at("2026-01-01T00:00:31Z")).unwrap();
        assert_eq!(
            (tick, next),
            (at("2026-01-01T00:00:30Z"), at("2026-01-01T00:00:32Z"))
        );
        let daily = parse("0 9 * * *").unwrap();
        let (tick, next) = due_tick(
            &daily,
            at("2026-01-01T09:00:00Z"),
            at("2026-01-05T12:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            (tick, next),
            (at("2026-01-05T09:00:00Z"), at("2026-01-06T09:00:00Z"))
        );
        assert_eq!(
            next_after(&daily, at("2026-01-05T09:00:00Z")).unwrap(),
            at("2026-01-06T09:00:00Z")
        );
    }
}
