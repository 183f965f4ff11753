//! The console at scale (`--only console`): with a million finished executions in the
//! tables, how long the workflow list, a filtered list and a workflow's page take to
//! render, from the request to the last byte, over a keep-alive connection.

use std::time::Instant;

use diesel::RunQueryDsl;

use super::http::Http;
use super::report::{percentile, sorted};
use super::scale::fill_finished_executions;
use crate::instance::Instance;

/// Timed requests per page (after as many untimed ones).
const ROUNDS: usize = 60;

/// The medians (ms): the list, a filtered list, a workflow's page.
pub struct ConsoleTimes {
    /// `GET /workflows`, median (ms).
    pub list_p50_ms: f64,
    /// `GET /workflows?status=failed&bot=…&until=…`, median (ms).
    pub filtered_p50_ms: f64,
    /// `GET /workflows/{id}` of one with steps and journal, median (ms).
    pub detail_p50_ms: f64,
    /// The page 10,000 rows deep (keyset), median (ms).
    pub deep_page_p50_ms: f64,
    /// Executions in the table while measuring.
    pub executions: i64,
}

#[derive(diesel::QueryableByName)]
struct Picked {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    bot: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Fills the database of `inst` up to `n` finished workflow executions (those already
/// there count), then times the pages.
pub async fn console_pages(inst: &Instance, url: &str, n: i64) -> Result<ConsoleTimes, String> {
    let addr = inst.addr.ok_or("no address")?;
    let url = url.to_string();
    let (detail_id, bot, deep_id, executions) = tokio::task::spawn_blocking(move || {
        let mut conn = crate::db::connect(&url)?;
        let have: Vec<Picked> = diesel::sql_query(
            "SELECT '' AS id, '' AS bot, count(*) AS n FROM workflow_executions WHERE kind = 'workflow'",
        )
        .load(&mut conn)
        .map_err(|e| e.to_string())?;
        let have = have.first().map(|p| p.n).unwrap_or(0);
        if have < n {
            fill_finished_executions(&mut conn, n - have).map_err(|e| e.to_string())?;
        }
        // A workflow with steps and journal entries, a bot with failures, and the id
        // 10,000 rows down the list.
        let pick: Vec<Picked> = diesel::sql_query(
            "SELECT (SELECT s.execution_id::text FROM workflow_steps s ORDER BY s.execution_id DESC LIMIT 1) AS id, \
             (SELECT bot FROM workflow_executions WHERE kind = 'workflow' AND status = 'failed' \
              ORDER BY id DESC LIMIT 1) AS bot, (SELECT count(*) FROM workflow_executions) AS n",
        )
        .load(&mut conn)
        .map_err(|e| e.to_string())?;
        let deep: Vec<Picked> = diesel::sql_query(
            "SELECT id::text AS id, bot, 0::bigint AS n FROM workflow_executions WHERE kind = 'workflow' \
             ORDER BY id DESC OFFSET 10000 LIMIT 1",
        )
        .load(&mut conn)
        .map_err(|e| e.to_string())?;
        let p = pick.into_iter().next().ok_or("no workflow with steps to show, or no failed one")?;
        let d = deep.into_iter().next().ok_or("fewer than 10,000 workflows")?;
        Ok::<_, String>((p.id, p.bot, d.id, p.n))
    })
    .await
    .map_err(|e| e.to_string())??;

    let mut http = Http::connect(addr).await.map_err(|e| e.to_string())?;
    let list_p50_ms = time(&mut http, "/workflows".to_string()).await?;
    let filtered_p50_ms = time(
        &mut http,
        format!("/workflows?status=failed&bot={bot}&until=2999-01-01T00:00"),
    )
    .await?;
    let detail_p50_ms = time(&mut http, format!("/workflows/{detail_id}")).await?;
    let deep_page_p50_ms = time(&mut http, format!("/workflows?after={deep_id}")).await?;
    Ok(ConsoleTimes {
        list_p50_ms,
        filtered_p50_ms,
        detail_p50_ms,
        deep_page_p50_ms,
        executions,
    })
}

/// The median time (ms) of `GET path`, over [`ROUNDS`] requests after as many untimed.
async fn time(http: &mut Http, path: String) -> Result<f64, String> {
    let mut ms = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS * 2 {
        let t = Instant::now();
        let (status, body) = http
            .request("GET", &path, None)
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        if status != 200 || !body.contains("</html>") {
            let start: String = body.chars().take(300).collect();
            return Err(format!("GET {path}: {status} {start}"));
        }
        if round >= ROUNDS {
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok(percentile(&sorted(ms), 0.5))
}
