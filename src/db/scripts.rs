//! Bots and content-addressed script sources.

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::error::Result;

/// Records a bot as loaded.
pub fn upsert_bot(conn: &mut PgConnection, name: &str) -> Result<()> {
    crate::db::sql::sql(
        "INSERT INTO bots (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET loaded_at = now()",
    )
    .bind::<Text, _>(name)
    .execute(conn)?;
    Ok(())
}

/// Stores a script version; a version already stored is left as it is.
pub fn store(
    conn: &mut PgConnection,
    hash: &str,
    bot: &str,
    name: &str,
    source: &str,
) -> Result<()> {
    crate::db::sql::sql(
        "INSERT INTO scripts (hash, bot, name, source) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING",
    )
    .bind::<Text, _>(hash)
    .bind::<Text, _>(bot)
    .bind::<Text, _>(name)
    .bind::<Text, _>(source)
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct SourceRow {
    #[diesel(sql_type = Text)]
    source: String,
}

/// The source of a script version.
pub fn source(conn: &mut PgConnection, hash: &str) -> Result<Option<String>> {
    let rows: Vec<SourceRow> = crate::db::sql::sql("SELECT source FROM scripts WHERE hash = $1")
        .bind::<Text, _>(hash)
        .load(conn)?;
    Ok(rows.into_iter().next().map(|r| r.source))
}
