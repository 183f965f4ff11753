//! Scheduled scripts (`SET SCHEDULE`): keeping the `schedules` rows in step with the
//! packages at each load, and firing due ticks as workflow executions.
//!
//! Once per tick across instances: every instance's loop locks the due schedules of the
//! bots it has loaded (`FOR UPDATE SKIP LOCKED`), and in one transaction records the
//! tick in `schedule_runs` (whose key is bot, script and tick), inserts the tick's
//! execution and moves `next_at` on. Whichever instance commits first runs the tick;
//! any other finds it no longer due, and could not insert it again if it tried. The
//! execution is left for any instance's scheduler to claim, as a new workflow is, so a
//! crash after the commit loses nothing, and one before it leaves the tick due.
//! Nothing here depends on Redis: PostgreSQL decides, Redis only wakes.
//!
//! Catch-up: when ticks were missed (every instance was down), the next look runs one
//! execution, for the latest missed tick, and the schedule goes on from the first tick
//! after now.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

use super::Runtime;
use crate::basic::keywords::schedule;
use crate::db::executions::{self, NewExecution};
use crate::db::schedules::{self, Due};
use crate::db::states::ExecKind;
use crate::error::{Error, Result};

/// Due schedules fired in one transaction at most.
const BATCH: i64 = 32;

/// Stores the schedules of one bot's package: `scheduled` are its scripts with a
/// `SET SCHEDULE` (name, cron), `keep` those that did not compile this time, whose
/// schedule stays as it was. The others' schedules are removed.
pub fn store_for_bot(
    conn: &mut PgConnection,
    bot: &str,
    scheduled: &[(String, String)],
    keep: &[String],
) -> Result<()> {
    let now = Utc::now();
    let mut rows = Vec::with_capacity(scheduled.len());
    for (script, cron) in scheduled {
        let first = schedule::parse(cron)
            .and_then(|c| schedule::next_after(&c, now))
            .map_err(|e| Error::BadRequest(format!("{bot}/{script}.bas: {e}")))?;
        rows.push((script.clone(), cron.clone(), first));
    }
    conn.transaction(|conn| schedules::set_for_bot(conn, bot, &rows, keep))
}

/// The tick a script is started for, as its `tick` variable: `YYYY-MM-DD HH:MM:SS` in
/// UTC, as `NOW()` gives times.
fn tick_text(tick: DateTime<Utc>) -> String {
    tick.format("%Y-%m-%d %H:%M:%S").to_string()
}

impl Runtime {
    /// Fires the due schedules of the bots loaded here: one execution per due schedule,
    /// for its tick (see the module's doc). How many executions it created.
    pub fn fire_schedules(&self) -> Result<usize> {
        let bots: Vec<String> = self.bot_list().into_iter().map(|(b, _)| b).collect();
        if bots.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn()?;
        if !schedules::any_due(&mut conn, &bots)? {
            return Ok(0);
        }
        let started = conn.transaction::<_, Error, _>(|conn| {
            let mut started = 0;
            for due in schedules::lock_due(conn, &bots, BATCH)? {
                if self.fire(conn, &due)? {
                    started += 1;
                }
            }
            if started > 0 {
                // Instances without Redis hear of the new executions at the commit.
                crate::db::events::notify_wake(conn, "schedule")?;
            }
            Ok(started)
        })?;
        if started > 0 {
            self.bus.wake.notify_one();
            self.announce();
        }
        Ok(started)
    }

    /// Fires one due schedule in the caller's transaction. True when it started an
    /// execution; a tick that cannot start (the script no longer compiles, or is gone)
    /// is recorded with its error and the schedule moves on.
    fn fire(&self, conn: &mut PgConnection, due: &Due) -> Result<bool> {
        let row = &due.schedule;
        let (tick, next) = match schedule::parse(&row.cron)
            .and_then(|c| schedule::due_tick(&c, row.next_at, due.now))
        {
            Ok(t) => t,
            Err(e) => {
                // Checked when the package loaded; should it fail now, look again in an hour.
                let later = due.now + chrono::Duration::hours(1);
                schedules::advance(
                    conn,
                    &row.bot,
                    &row.script,
                    row.next_at,
                    later,
                    row.next_at,
                    None,
                    Some(&e),
                )?;
                return Ok(false);
            }
        };
        let started = match self.start_scheduled(conn, row, tick) {
            Ok(id) => Ok(id),
            Err(Error::BadRequest(e) | Error::NotFound(e)) => Err(e),
            Err(e) => return Err(e),
        };
        let (id, error) = match &started {
            Ok(id) => (*id, None),
            Err(e) => {
                tracing::warn!(bot = %row.bot, script = %row.script, "scheduled tick not started: {e}");
                (None, Some(e.as_str()))
            }
        };
        schedules::advance(
            conn,
            &row.bot,
            &row.script,
            row.next_at,
            next,
            tick,
            id,
            error,
        )?;
        if let Some(id) = id {
            tracing::info!(bot = %row.bot, script = %row.script, tick = %tick_text(tick), execution = %id, "schedule fired");
        }
        Ok(id.is_some())
    }

    /// Inserts the execution of a schedule's tick (for any instance's scheduler to run),
    /// unless that tick has run already: then `None`.
    fn start_scheduled(
        &self,
        conn: &mut PgConnection,
        row: &schedules::ScheduleRow,
        tick: DateTime<Utc>,
    ) -> Result<Option<Uuid>> {
        let (script, hash) = self.current_script(conn, &row.bot, &row.script)?;
        let compiled = self.compiled(conn, &hash)?;
        if compiled.schedule.is_none() {
            // The file lost its line since the last load: the schedule goes at the next
            // load, and this tick must not run a script that is no longer scheduled.
            return Err(Error::NotFound(format!(
                "{}/{}.bas has no SET SCHEDULE any more; its schedule goes at the next load",
                row.bot, row.script
            )));
        }
        let id = Uuid::now_v7();
        if !schedules::record_run(conn, &row.bot, &row.script, tick, id)? {
            return Ok(None);
        }
        let name = super::ops::workflow_name(&compiled, &script);
        let input = json!({
            "tick": tick_text(tick),
            "schedule": row.cron,
            "workflow_id": id,
        });
        let new = NewExecution::top(
            id,
            ExecKind::Workflow,
            &row.bot,
            (script, hash),
            Some(name),
            input,
        );
        executions::create(conn, &new, 0.0)?;
        Ok(Some(id))
    }
}

/// Fires due schedules until `shutdown` turns true: a look about every poll interval (one
/// indexed query when nothing is due). The looks of the instances are spread at random
/// within half an interval either way, so that no instance always comes first: the
/// ticks, and the work of firing them, fall to all of them.
pub async fn run(rt: Arc<Runtime>, mut shutdown: watch::Receiver<bool>) {
    use rand::Rng;
    let every = rt.config.poll_interval;
    loop {
        let pause = every.mul_f64(rand::thread_rng().gen_range(0.5..1.5));
        tokio::select! {
            _ = shutdown.changed() => {}
            _ = tokio::time::sleep(pause) => {}
        }
        if *shutdown.borrow() {
            return;
        }
        let rt2 = rt.clone();
        match tokio::task::spawn_blocking(move || rt2.fire_schedules()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("firing schedules failed: {e}"),
            Err(e) => tracing::error!("schedule task failed: {e}"),
        }
    }
}
