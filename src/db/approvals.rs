//! Human approval requests (`approvals`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Double, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::db::states::ApprovalStatus;
use crate::error::Result;

#[derive(QueryableByName, Debug, Clone, serde::Serialize)]
/// A human approval request as stored.
pub struct ApprovalRow {
    #[diesel(sql_type = SqlUuid)]
    /// The request's id.
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    /// The execution that waits for it.
    pub execution_id: Uuid,
    #[diesel(sql_type = Text)]
    /// The journal key its decision is written under.
    pub key: String,
    #[diesel(sql_type = Nullable<Text>)]
    /// The step it was asked in.
    pub step: Option<String>,
    #[diesel(sql_type = Text)]
    /// Who is asked.
    pub approver: String,
    #[serde(skip)]
    #[diesel(sql_type = Text)]
    /// The secret that lets the approver decide without the admin token.
    pub token: String,
    #[diesel(sql_type = Nullable<Text>)]
    /// The message shown to the approver.
    pub message: Option<String>,
    #[diesel(sql_type = Text)]
    /// Pending, or how it was decided.
    pub status: ApprovalStatus,
    #[diesel(sql_type = Nullable<Double>)]
    /// `TIMEOUT` in seconds, if any.
    pub timeout_secs: Option<f64>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    /// When it times out.
    pub deadline: Option<DateTime<Utc>>,
    #[diesel(sql_type = Jsonb)]
    /// The approvers to escalate to, in order (a JSON list).
    pub escalate_to: Json,
    #[diesel(sql_type = Nullable<Text>)]
    /// Who decided it.
    pub decided_by: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    /// The decider's comment.
    pub comment: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    /// When it was asked.
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, execution_id, key, step, approver, token, message, status, timeout_secs, deadline, \
    escalate_to, decided_by, comment, decided_at, created_at";

/// A new approval request.
#[derive(Debug, Clone)]
pub struct NewApproval {
    /// The request's id.
    pub id: Uuid,
    /// The execution that waits for it.
    pub execution_id: Uuid,
    /// The journal key its decision is written under.
    pub key: String,
    /// The step it is asked in.
    pub step: Option<String>,
    /// Who is asked.
    pub approver: String,
    /// The approver's secret (sent in the `approval_requested` event).
    pub token: String,
    /// The message shown to the approver.
    pub message: Option<String>,
    /// `TIMEOUT` in seconds, if any.
    pub timeout_secs: Option<f64>,
    /// When it times out.
    pub deadline: Option<DateTime<Utc>>,
    /// The approvers to escalate to, in order (a JSON list).
    pub escalate_to: Json,
}

/// Stores a new pending request.
pub fn create(conn: &mut PgConnection, a: &NewApproval) -> Result<()> {
    crate::db::sql::sql(
        "INSERT INTO approvals (id, execution_id, key, step, approver, token, message, status, timeout_secs, deadline, escalate_to) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10)",
    )
    .bind::<SqlUuid, _>(a.id)
    .bind::<SqlUuid, _>(a.execution_id)
    .bind::<Text, _>(&a.key)
    .bind::<Nullable<Text>, _>(a.step.as_deref())
    .bind::<Text, _>(&a.approver)
    .bind::<Text, _>(&a.token)
    .bind::<Nullable<Text>, _>(a.message.as_deref())
    .bind::<Nullable<Double>, _>(a.timeout_secs)
    .bind::<Nullable<Timestamptz>, _>(a.deadline)
    .bind::<Jsonb, _>(&a.escalate_to)
    .execute(conn)?;
    Ok(())
}

/// One request by id.
pub fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<ApprovalRow>> {
    let rows: Vec<ApprovalRow> =
        crate::db::sql::sql(format!("SELECT {COLUMNS} FROM approvals WHERE id = $1"))
            .bind::<SqlUuid, _>(id)
            .load(conn)?;
    Ok(rows.into_iter().next())
}

/// Requests for the API, filtered, newest first.
pub fn list(
    conn: &mut PgConnection,
    approver: Option<&str>,
    status: Option<&str>,
    execution: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ApprovalRow>> {
    Ok(diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM approvals WHERE ($1::text IS NULL OR approver = $1) \
         AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR execution_id = $3) \
         ORDER BY created_at DESC LIMIT $4"
    ))
    .bind::<Nullable<Text>, _>(approver)
    .bind::<Nullable<Text>, _>(status)
    .bind::<Nullable<SqlUuid>, _>(execution)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)?)
}

/// Moves a pending request to a final status; false when it was no longer pending.
pub fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: ApprovalStatus,
    by: Option<&str>,
    comment: Option<&str>,
) -> Result<bool> {
    let n = crate::db::sql::sql(
        "UPDATE approvals SET status = $2, decided_by = $3, comment = $4, decided_at = now() \
         WHERE id = $1 AND status = 'pending'",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(status.as_str())
    .bind::<Nullable<Text>, _>(by)
    .bind::<Nullable<Text>, _>(comment)
    .execute(conn)?;
    Ok(n == 1)
}

/// Cancels the pending requests of an execution.
pub fn cancel_for(conn: &mut PgConnection, execution: Uuid) -> Result<()> {
    crate::db::sql::sql(
        "UPDATE approvals SET status = 'cancelled', decided_at = now() WHERE execution_id = $1 AND status = 'pending'",
    )
    .bind::<SqlUuid, _>(execution)
    .execute(conn)?;
    Ok(())
}
