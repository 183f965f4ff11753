//! The kinds and states stored as text columns, as Rust enums, and the one place that
//! converts between the two. The database keeps its `CHECK` constraints (a test below
//! holds the enums and the migration to the same spellings); everywhere else in Rust a
//! status is an enum, never a string literal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use uuid::Uuid;

/// A text that is none of an enum's spellings.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown {what} '{text}'")]
pub struct UnknownState {
    what: &'static str,
    text: String,
}

/// An enum stored as its lower-case text: `as_str`, `FromStr`, `Display`, serde and
/// Diesel's `Text` in both directions.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident ($what:literal) {
        $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vm])* $variant),+
        }

        impl $name {
            /// Every value, in the order of the database's `CHECK` constraint.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the database and shown by the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownState;
            fn from_str(s: &str) -> Result<Self, UnknownState> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownState { what: $what, text: s.to_string() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(bytes)?;
                Ok(text.parse()?)
            }
        }
    };
}

text_enum! {
    /// What an execution is (`workflow_executions.kind`).
    ExecKind ("execution kind") {
        /// A dialog with a user (`start.bas` through the conversation API).
        Conversation = "conversation",
        /// A workflow started through the API or by `ORCHESTRATE WORKFLOW`.
        Workflow = "workflow",
        /// A task delegated with `BOT`.
        Task = "task",
        /// A branch of `PARALLEL`.
        Branch = "branch",
        /// An `ON EVENT` handler run for one event.
        Handler = "handler",
    }
}

impl ExecKind {
    /// True for the kinds that may use the workflow keywords (`STEP`, `BOT`, …).
    pub fn in_workflow(self) -> bool {
        matches!(self, ExecKind::Workflow | ExecKind::Task | ExecKind::Branch)
    }
}

text_enum! {
    /// Where an execution is (`workflow_executions.status`).
    ExecStatus ("execution status") {
        /// Runnable or being run (by the `owner` holding its lease).
        Running = "running",
        /// Suspended until what `waiting_for` says arrives (or `wake_at`).
        Waiting = "waiting",
        /// Ended with a result.
        Completed = "completed",
        /// Ended with an error (an operator may retry or cancel it).
        Failed = "failed",
        /// Stopped by an operator.
        Cancelled = "cancelled",
    }
}

impl ExecStatus {
    /// True when the execution has ended: it runs no more by itself (a failed one may
    /// still be retried or cancelled by an operator).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ExecStatus::Completed | ExecStatus::Failed | ExecStatus::Cancelled
        )
    }
}

text_enum! {
    /// Where a step is (`workflow_steps.status`).
    StepStatus ("step status") {
        /// Begun and not ended.
        Running = "running",
        /// Its execution waits inside it.
        Waiting = "waiting",
        /// An attempt failed and another one follows after the backoff.
        Retrying = "retrying",
        /// Ended with its result.
        Completed = "completed",
        /// Its tries are spent.
        Failed = "failed",
    }
}

impl StepStatus {
    /// True when the step has ended (its row gets `finished_at`).
    pub fn is_terminal(self) -> bool {
        matches!(self, StepStatus::Completed | StepStatus::Failed)
    }
}

text_enum! {
    /// What a step mostly does, for the workflow views (`workflow_steps.kind`): the
    /// first waiting keyword in it, else `task`.
    StepKind ("step kind") {
        /// Computation and non-waiting keywords only.
        Task = "task",
        /// A `WAIT`.
        Delay = "delay",
        /// A `BOT` delegation.
        Bot = "bot",
        /// A `HUMAN APPROVAL`.
        Approval = "approval",
        /// A `PARALLEL`.
        Parallel = "parallel",
        /// A `WAIT FOR EVENT`.
        Event = "event",
    }
}

text_enum! {
    /// Where an approval request is (`approvals.status`).
    ApprovalStatus ("approval status") {
        /// Asked and not decided.
        Pending = "pending",
        /// Approved by the approver (or the admin).
        Approved = "approved",
        /// Rejected by the approver (or the admin).
        Rejected = "rejected",
        /// Its timeout passed with nobody left to escalate to.
        Timeout = "timeout",
        /// Its timeout passed and the next approver was asked.
        Escalated = "escalated",
        /// Its execution failed or was cancelled.
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// Who wrote a transcript line (`messages.direction`).
    Direction ("message direction") {
        /// The user's message.
        User = "user",
        /// A `TALK`.
        Bot = "bot",
    }
}

/// What a waiting execution waits for (`workflow_executions.waiting_for`, shown by the
/// API): tagged by `kind`, with the journal key whose entry will end the wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum WaitingFor {
    /// The user's next message (`HEAR`).
    Message {
        /// The `HEAR`'s key.
        key: String,
    },
    /// A timer (`WAIT`, a step's backoff).
    Timer {
        /// The timer's key.
        key: String,
        /// When it is due.
        #[serde(with = "rfc3339")]
        until: DateTime<Utc>,
    },
    /// A delegated child (`BOT`).
    Bot {
        /// The `BOT`'s key (where the child's result goes).
        key: String,
        /// The child's bot.
        bot: String,
        /// The child's id.
        child: Json,
    },
    /// A decision (`HUMAN APPROVAL`).
    Approval {
        /// The approval's key (where the decision goes).
        key: String,
        /// The pending request.
        approval_id: Option<Uuid>,
        /// Who is asked.
        approver: Option<String>,
    },
    /// The branches of a `PARALLEL` that have not ended.
    Parallel {
        /// The `PARALLEL`'s key.
        key: String,
        /// The labels of the branches still running.
        pending: Vec<String>,
    },
    /// An event of one of these names (`WAIT FOR EVENT`).
    Event {
        /// The wait's key.
        key: String,
        /// The names it waits for.
        names: Vec<String>,
    },
}

impl WaitingFor {
    /// The column's value.
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }

    /// The key a message would answer, when a stored `waiting_for` is a `HEAR`.
    pub fn message_key(stored: Option<&Json>) -> Option<String> {
        match stored.map(WaitingFor::deserialize) {
            Some(Ok(WaitingFor::Message { key })) => Some(key),
            _ => None,
        }
    }

    /// True when a stored `waiting_for` is a `HEAR`.
    pub fn is_message(stored: Option<&Json>) -> bool {
        stored.and_then(|w| w.get("kind")).and_then(|k| k.as_str()) == Some("message")
    }
}

mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spellings inside `CHECK (column IN (…))` of the migrations.
    fn checked(column: &str) -> Vec<String> {
        let sql = include_str!("../../migrations/2026-01-25-091800_workflow_orchestration/up.sql");
        let start = format!("{column} TEXT NOT NULL CHECK ({column} IN (");
        let at = sql.find(&start).map(|i| i + start.len()).unwrap_or(0);
        let list = &sql[at..at + sql[at..].find("))").unwrap_or(0)];
        list.split(',')
            .map(|s| s.trim().trim_matches('\'').to_string())
            .collect()
    }

    fn texts<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|v| f(*v).to_string()).collect()
    }

    #[test]
    fn enums_match_the_check_constraints() {
        assert_eq!(texts(ExecKind::ALL, ExecKind::as_str), checked("kind"));
        let statuses = checked("status");
        // Two tables have a `status` CHECK: executions first, approvals second.
        assert_eq!(texts(ExecStatus::ALL, ExecStatus::as_str), statuses);
        let sql = include_str!("../../migrations/2026-01-25-091800_workflow_orchestration/up.sql");
        let approvals = &sql[sql.find("CREATE TABLE approvals").unwrap_or(0)..];
        for s in ApprovalStatus::ALL {
            assert!(approvals.contains(&format!("'{}'", s.as_str())), "{s}");
        }
        assert_eq!(
            texts(Direction::ALL, Direction::as_str),
            checked("direction")
        );
    }

    #[test]
    fn terminal_states() {
        let ended: Vec<_> = ExecStatus::ALL.iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(
            ended,
            [
                &ExecStatus::Completed,
                &ExecStatus::Failed,
                &ExecStatus::Cancelled
            ]
        );
        assert!(!ExecStatus::Waiting.is_terminal());
        assert_eq!(
            "waiting".parse::<ExecStatus>().ok(),
            Some(ExecStatus::Waiting)
        );
        assert!("done".parse::<ExecStatus>().is_err());
    }

    #[test]
    fn waiting_for_is_tagged_by_kind() {
        let w = WaitingFor::Parallel {
            key: "k".into(),
            pending: vec!["a".into()],
        };
        assert_eq!(
            w.to_json(),
            serde_json::json!({ "kind": "parallel", "key": "k", "pending": ["a"] })
        );
        let stored = serde_json::json!({ "kind": "message", "key": "k" });
        assert_eq!(WaitingFor::message_key(Some(&stored)).as_deref(), Some("k"));
        assert!(WaitingFor::is_message(Some(&stored)));
        assert_eq!(WaitingFor::message_key(None), None);
    }
}
