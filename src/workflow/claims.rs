//! Publishing an event and claiming what it wakes or starts for the publishing
//! instance, as far as that instance has free run slots (README, How it works: "no hop between
//! instances"). The statements are in `db::events` and `db::executions`; this is the
//! orchestration around them: run slots, claims, the handler executions, and telling
//! the other instances about what was left unclaimed.

use serde_json::Value as Json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::db::events;
use crate::db::executions::{self, ExecRow, NewExecution};
use crate::db::leases;
use crate::db::states::ExecStatus;
use crate::error::Result;
use diesel::PgConnection;

/// An execution claimed for this instance, with its run slot; woken executions come with
/// their row and journal, read by the claim, so their run starts without a query.
#[derive(Debug)]
pub struct Claimed {
    /// The claimed execution.
    pub id: Uuid,
    /// The run slot it holds.
    pub permit: OwnedSemaphorePermit,
    /// Its row and journal as the claim read them, when the claim read them.
    pub loaded: Option<Box<(ExecRow, Json)>>,
    /// Its end is announced to the other instances (it was woken or started by an event
    /// or a decision, and someone may await its result elsewhere).
    pub announce_end: bool,
}

/// What publishing did: the event, and executions to wake or start.
#[derive(Debug, Default)]
pub struct Published {
    /// The event's id.
    pub id: i64,
    /// Executions it woke.
    pub woken: usize,
    /// Handler executions it started.
    pub handlers: usize,
    /// Woken executions and new handler executions claimed for the publisher, each with
    /// its run slot: the publisher runs them right after its commit.
    pub claimed: Vec<Claimed>,
    /// Some execution became runnable without being claimed: other instances must hear.
    pub unclaimed: bool,
}

/// Lets the publishing instance run what its event wakes, as far as it has free run
/// slots: those executions are claimed in the publishing transaction, so they need no
/// trip through another instance's scheduler (no claim transaction, no wake-up hop).
/// What finds no free slot is left for any instance to claim.
pub struct Claimer<'a> {
    /// This instance's name in leases.
    pub owner: &'a str,
    /// How long a claim lasts without renewal.
    pub lease_secs: f64,
    /// The instance's run slots.
    pub permits: &'a std::sync::Arc<Semaphore>,
}

impl Claimer<'_> {
    /// A free run slot, if there is one.
    pub fn slot(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }
}

/// Where an event comes from: the publishing bot and execution (none for the API), the
/// conversation its handlers belong to, and its link in a chain of `ON EVENT` handlers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Source<'a> {
    /// The publishing bot.
    pub bot: Option<&'a str>,
    /// The publishing execution.
    pub execution: Option<Uuid>,
    /// The conversation the handlers it starts belong to.
    pub conversation: Option<Uuid>,
    /// Its link in a chain of `ON EVENT` handlers (0 outside one).
    pub chain: i32,
}

/// Stores an event, wakes the executions waiting for its name and starts one execution
/// per `ON EVENT` handler of that name, claiming what it can for `claimer`. Call inside
/// a transaction.
pub fn publish(
    conn: &mut PgConnection,
    name: &str,
    payload: &Json,
    source: Source,
    claimer: Option<&Claimer>,
) -> Result<Published> {
    events::lock_names(conn, &[name.to_string()])?;
    publish_locked(conn, name, payload, source, claimer)
}

/// [`publish`] in a transaction that holds the lock of `name` already
/// (`events::lock_names`).
pub fn publish_locked(
    conn: &mut PgConnection,
    name: &str,
    payload: &Json,
    source: Source,
    claimer: Option<&Claimer>,
) -> Result<Published> {
    let conversation_id = source.conversation;
    let stored = events::store(
        conn,
        name,
        payload,
        source.bot,
        source.execution,
        source.chain,
    )?;
    let event = stored.event;
    let mut out = Published {
        id: event.id,
        ..Default::default()
    };
    // Waiters in id order, so that publishers waking overlapping sets lock rows alike.
    // A delivering wait gets the event in its journal as it is woken.
    let value = event.to_script_value();
    for (id, deliver) in stored.waiters {
        let slot = claimer.and_then(|c| c.slot());
        let claim = slot.as_ref().and(claimer).map(|c| (c.owner, c.lease_secs));
        let deliver = deliver.as_deref().map(|k| (k, &value));
        let woken = leases::wake_if_waiting(conn, id, claim, deliver)?;
        record_wake(conn, &mut out, id, slot, woken)?;
    }
    start_handlers(
        conn,
        &event,
        stored.handlers,
        name,
        conversation_id,
        claimer,
        &mut out,
    )?;
    // Other instances learn of what was left unclaimed (`Published::unclaimed`) from the
    // caller: inside its transaction (a NOTIFY sent at commit) or, for the API's
    // publishes, after the commit (`Runtime::wake_elsewhere`).
    Ok(out)
}

/// Records in `out` what waking waiter `id` did: `woken` is what the wake statement
/// returned (`None`: it was not waiting; else its row and journal when claimed, for the
/// run slot `slot`). One that was not waiting any more is told to run again if running.
fn record_wake(
    conn: &mut PgConnection,
    out: &mut Published,
    id: Uuid,
    slot: Option<OwnedSemaphorePermit>,
    woken: Option<Option<(ExecRow, Json)>>,
) -> Result<()> {
    match woken {
        Some(loaded) => {
            match (slot, loaded) {
                (Some(permit), Some(row)) => out.claimed.push(Claimed {
                    id,
                    permit,
                    loaded: Some(Box::new(row)),
                    announce_end: true,
                }),
                _ => out.unclaimed = true,
            }
            out.woken += 1;
        }
        None => {
            if let Some(status) = executions::lock_status(conn, id)? {
                leases::wake_locked(conn, id, status)?;
                out.unclaimed |= status == ExecStatus::Waiting;
                out.woken += 1;
            }
        }
    }
    Ok(())
}

/// Starts one execution per `ON EVENT` handler of the stored `event`, claimed for
/// `claimer` as far as its slots go.
fn start_handlers(
    conn: &mut PgConnection,
    event: &events::EventRow,
    handlers: Vec<events::Handler>,
    name: &str,
    conversation_id: Option<Uuid>,
    claimer: Option<&Claimer>,
    out: &mut Published,
) -> Result<()> {
    for h in handlers {
        let id = Uuid::now_v7();
        if !events::deliver(conn, event.id, &h, id)? {
            continue;
        }
        // A paused bot's handler is stored, for the scheduler once the bot is resumed.
        let slot = claimer.filter(|_| !h.paused).and_then(|c| c.slot());
        let new = NewExecution::handler(
            id,
            h.bot,
            h.script,
            h.script_hash,
            h.entry,
            name,
            event.to_script_value(),
            conversation_id,
        )
        .owned_by(slot.as_ref().and(claimer).map(|c| c.owner.to_string()));
        executions::create(conn, &new, claimer.map_or(0.0, |c| c.lease_secs))?;
        match slot {
            Some(permit) => out.claimed.push(Claimed {
                id,
                permit,
                loaded: None,
                announce_end: true,
            }),
            None => out.unclaimed |= !h.paused,
        }
        out.handlers += 1;
    }
    Ok(())
}

/// One publish of a batch (see [`publish_batch`]).
pub struct ToPublish<'a> {
    /// The event's name.
    pub name: &'a str,
    /// Its payload.
    pub payload: &'a Json,
    /// Claims what it wakes or starts, as far as the slots go.
    pub claimer: Option<Claimer<'a>>,
}

/// Publishes a batch of events from outside any execution, in a transaction that holds
/// the locks of all their names already (`events::lock_names`) and forbids hash and merge
/// joins (see `leases::wake_many`): each event is stored in turn (so their ids follow
/// the batch's order), then every execution they wake is made runnable in one
/// statement, rows in id order; then each one's handlers are started. The outcome is
/// the same as publishing each in turn with [`publish_locked`].
pub fn publish_batch(conn: &mut PgConnection, batch: &[ToPublish]) -> Result<Vec<Published>> {
    let mut stored = Vec::with_capacity(batch.len());
    for p in batch {
        stored.push(events::store(conn, p.name, p.payload, None, None, 0)?);
    }
    let values: Vec<Json> = stored.iter().map(|s| s.event.to_script_value()).collect();
    // Every waiter of the batch (each wait row was removed by one store only), by id.
    let mut waiters: Vec<(Uuid, usize, Option<String>)> = stored
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.waiters.iter().map(move |(id, d)| (*id, i, d.clone())))
        .collect();
    waiters.sort_by_key(|w| w.0);
    let mut slots = Vec::with_capacity(waiters.len());
    let mut to_wake = Vec::with_capacity(waiters.len());
    for (id, i, deliver) in &waiters {
        let claimer = batch[*i].claimer.as_ref();
        let slot = claimer.and_then(|c| c.slot());
        let claim = slot.as_ref().and(claimer).map(|c| (c.owner, c.lease_secs));
        slots.push(slot);
        to_wake.push(leases::ToWake {
            id: *id,
            claim,
            deliver: deliver.as_deref().map(|k| (k, &values[*i])),
        });
    }
    let mut woken = if to_wake.is_empty() {
        Default::default()
    } else {
        leases::wake_many(conn, &to_wake)?
    };
    let mut out: Vec<Published> = stored
        .iter()
        .map(|s| Published {
            id: s.event.id,
            ..Default::default()
        })
        .collect();
    for ((id, i, _), slot) in waiters.into_iter().zip(slots) {
        record_wake(conn, &mut out[i], id, slot, woken.remove(&id))?;
    }
    for ((p, s), o) in batch.iter().zip(stored).zip(out.iter_mut()) {
        start_handlers(
            conn,
            &s.event,
            s.handlers,
            p.name,
            None,
            p.claimer.as_ref(),
            o,
        )?;
    }
    Ok(out)
}
