//! Idempotent starts (`workflow_start_keys`): each `Idempotency-Key` a client gave
//! `POST /api/workflows`, the hash of the request it first came with, and the id of the
//! workflow it starts.
//!
//! The protocol ([`record`], then [`lock`] in a transaction held while the workflow
//! starts): the key is committed with the id the workflow will have *before* the
//! workflow is created, so whatever fails afterwards (the start, the answer, the whole
//! server), a retry finds the same id and either sees that workflow or starts it under
//! that id. Retries racing one another queue on the key's row lock, so only one of them
//! ever creates the workflow.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use uuid::Uuid;

use crate::error::Result;

/// What a key is bound to.
#[derive(QueryableByName, Debug, Clone, PartialEq)]
pub struct StartKey {
    #[diesel(sql_type = Text)]
    /// The hash of the request the key first came with.
    pub request_hash: String,
    #[diesel(sql_type = SqlUuid)]
    /// The workflow the key starts.
    pub execution_id: Uuid,
}

/// Binds `key` to a request with `request_hash` and the workflow id `proposed`, unless
/// it is bound already (then nothing changes: the first binding stays). Run it on its
/// own, outside a transaction, so that the binding is committed before the start.
pub fn record(
    conn: &mut PgConnection,
    key: &str,
    request_hash: &str,
    proposed: Uuid,
) -> Result<()> {
    crate::db::sql::sql(
        "INSERT INTO workflow_start_keys (key, request_hash, execution_id) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind::<Text, _>(key)
    .bind::<Text, _>(request_hash)
    .bind::<SqlUuid, _>(proposed)
    .execute(conn)?;
    Ok(())
}

/// What `key` is bound to, with its row locked until the end of the transaction `conn`
/// is in (others locking it wait).
pub fn lock(conn: &mut PgConnection, key: &str) -> Result<Option<StartKey>> {
    Ok(crate::db::sql::sql(
        "SELECT request_hash, execution_id FROM workflow_start_keys WHERE key = $1 FOR UPDATE",
    )
    .bind::<Text, _>(key)
    .load::<StartKey>(conn)?
    .into_iter()
    .next())
}
