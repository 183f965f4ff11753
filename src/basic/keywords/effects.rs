//! What each host function touches, declared beside its name, and what each compiled
//! entry therefore uses.
//!
//! The durable runtime needs to know which scripts use the database *while they run*:
//! only those need a transaction of their own; the others share the group commit
//! (`workflow::group`). That is decided from these declarations and the calls in the
//! compiled program ([`EntryEffects::of`]), never from a list kept somewhere else. A
//! test fails when the engine has a registered function without a declaration, so a
//! new keyword cannot be added without saying what it touches.

use rhai::{Engine, AST};

/// What a host function touches while the script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing outside the run: it computes, or answers from the journal and records
    /// its value, which is written at the run's commit (`TALK`, `NOW()`, `STEP`).
    None,
    /// May suspend the run, recording what for; nothing is written before the commit
    /// (`HEAR`, `WAIT`, a step's backoff).
    Wait,
    /// Reaches the world outside the database (the server log for `PRINT`): at least
    /// once, not part of the transaction.
    Outside,
    /// Reads or writes the database in the run's transaction while the script runs
    /// (memory, events, approvals): the run needs a transaction of its own.
    Database,
    /// Starts child executions (`BOT`, `PARALLEL`). A run that shares the group commit
    /// runs them inline, on its own thread, and their outcomes are written with its own
    /// (`workflow::group`), as long as their scripts allow that too; otherwise the run
    /// is done again in a transaction of its own, where children are rows it inserts.
    Child,
}

impl Effect {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Every function the engine has registered, with its effect. Keywords are `k_…`,
/// built-ins `b_…`, operators `op_…` (see `codegen`).
pub const DECLARED: &[(&str, Effect)] = &[
    // conversation.rs
    ("k_talk", Effect::None),
    ("k_print", Effect::Outside),
    ("k_sleep", Effect::Wait),
    ("k_hear", Effect::Wait),
    ("k_hear_menu", Effect::Wait),
    // memory.rs
    ("k_memory_get", Effect::Database),
    // GET CONFIG reads the loaded package; the value is journaled at commit.
    ("k_config", Effect::None),
    ("k_memory_set", Effect::Database),
    ("k_set_context", Effect::Database),
    ("k_share_memory", Effect::Database),
    ("k_share_memory_all", Effect::Database),
    ("k_sync_memory", Effect::Database),
    // workflow.rs
    ("k_in_workflow", Effect::None),
    ("k_start_workflow", Effect::Database),
    ("k_step_begin", Effect::None),
    ("k_step_failed", Effect::Wait),
    ("k_step_end", Effect::None),
    ("k_bot", Effect::Child),
    ("k_approval", Effect::Database),
    ("k_parallel", Effect::Child),
    ("k_return", Effect::None),
    // events.rs
    ("k_publish", Effect::Database),
    ("k_wait_event", Effect::Database),
    // catalog.rs: a keyword this server does not provide fails the run.
    ("k_unavailable", Effect::None),
    ("k_throw", Effect::None),
    // http.rs: the request leaves the server (at least once; its answer is journaled).
    ("k_http", Effect::Outside),
    ("k_set_header", Effect::None),
    ("k_clear_headers", Effect::None),
    // data.rs: reads and writes the bot's tables in the run's transaction.
    ("k_data", Effect::Database),
    // mail.rs: the message leaves the server (at least once; its Message-ID is journaled).
    ("k_send_mail", Effect::Outside),
    // engine.rs: the operators with BASIC semantics.
    ("op_add", Effect::None),
    ("op_sub", Effect::None),
    ("op_mul", Effect::None),
    ("op_div", Effect::None),
    ("op_intdiv", Effect::None),
    ("op_mod", Effect::None),
    ("op_pow", Effect::None),
    ("op_concat", Effect::None),
    ("op_concat_all", Effect::None),
    ("op_eq", Effect::None),
    ("op_ne", Effect::None),
    ("op_lt", Effect::None),
    ("op_gt", Effect::None),
    ("op_le", Effect::None),
    ("op_ge", Effect::None),
    ("op_truthy", Effect::None),
    ("op_neg", Effect::None),
    ("op_index", Effect::None),
    ("op_set_path", Effect::None),
    ("op_iter", Effect::None),
    ("op_num", Effect::None),
    ("op_for_continues", Effect::None),
    ("op_merge", Effect::None),
];

/// The declared effect of a function, if it has a declaration. A built-in (`b_…`) is
/// declared by its row in `builtins.rs`, whose contract is that every built-in computes,
/// or asks the host for a journaled value written at the commit (NOW, TODAY, RANDOM,
/// RND, UUID, GUID): [`Effect::None`].
pub fn declared(name: &str) -> Option<Effect> {
    if let Some(builtin) = name.strip_prefix("b_") {
        return super::builtins::arity(builtin).map(|_| Effect::None);
    }
    DECLARED.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// True for the names of functions this crate registers (the prefixes of `codegen`).
fn is_host_function(name: &str) -> bool {
    ["k_", "b_", "op_"].iter().any(|p| name.starts_with(p))
}

/// The bit of [`EntryEffects`] that says the entry writes bot memory.
const WRITES_MEMORY: u8 = 1 << 7;

/// The effects one compiled entry may have: the union of the declarations of the host
/// functions its code calls (user procedures and closures included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryEffects(u8);

impl EntryEffects {
    /// The effects of the calls in a compiled program. A call of a host function
    /// without a declaration counts as [`Effect::Database`], the safe side; calls of
    /// user procedures (`p_…`, whose bodies are walked too) and of Rhai's own functions
    /// touch nothing.
    pub fn of(ast: &AST) -> EntryEffects {
        let mut bits = 0u8;
        ast.walk(&mut |path: &[rhai::ASTNode]| {
            let name = match path.last() {
                Some(rhai::ASTNode::Expr(rhai::Expr::FnCall(f, _)))
                | Some(rhai::ASTNode::Expr(rhai::Expr::MethodCall(f, _)))
                | Some(rhai::ASTNode::Stmt(rhai::Stmt::FnCall(f, _))) => Some(f.name.as_str()),
                _ => None,
            };
            if let Some(name) = name.filter(|n| is_host_function(n)) {
                bits |= declared(name).unwrap_or(Effect::Database).bit();
                if name == "k_memory_set" {
                    bits |= WRITES_MEMORY;
                }
            }
            true
        });
        EntryEffects(bits)
    }

    /// True when the entry writes bot memory (`SET BOT MEMORY`): its reads of bot memory
    /// then hold the key until the run commits, so that a read-modify-write is atomic.
    pub fn writes_memory(self) -> bool {
        self.0 & WRITES_MEMORY != 0
    }

    /// True when some call of the entry has this effect.
    pub fn uses(self, effect: Effect) -> bool {
        self.0 & effect.bit() != 0
    }
}

/// The names of the functions registered on `engine` by this crate (not Rhai's
/// standard packages).
pub fn registered(engine: &Engine) -> Vec<String> {
    let mut names = engine.collect_fn_metadata(None, |f| Some(f.metadata.name.to_string()), false);
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::basic::engine::{new_engine, Limits};

    #[test]
    fn every_registered_function_declares_its_effect() {
        let engine = new_engine(&Limits::default());
        let names = registered(&engine);
        assert!(names.iter().any(|n| n == "k_talk"), "registered: {names:?}");
        let missing: Vec<&String> = names.iter().filter(|n| declared(n).is_none()).collect();
        assert!(
            missing.is_empty(),
            "registered without an effect declaration in basic/keywords/effects.rs: {missing:?}"
        );
        // A declaration of nothing registered is a stale one.
        let stale: Vec<&str> = DECLARED
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !names.iter().any(|r| r == n))
            .collect();
        assert!(stale.is_empty(), "declared but not registered: {stale:?}");
    }

    fn effects(source: &str) -> EntryEffects {
        let engine = new_engine(&Limits::default());
        let script = crate::basic::compile(&engine, source, &Limits::default())
            .map_err(|d| d.to_string())
            .unwrap();
        script.entries[0].effects
    }

    #[test]
    fn entries_record_the_effects_of_their_calls() {
        let pure = effects("x = 1\nTALK x + 1\nSTEP 1: y = NOW()\n");
        assert!(!pure.uses(Effect::Database));
        assert!(pure.uses(Effect::None));
        assert!(effects("SET BOT MEMORY \"a\", 1\n").uses(Effect::Database));
        assert!(effects("HEAR x\n").uses(Effect::Wait));
        // Inside a procedure too.
        let in_sub = effects("SUB s()\n  PUBLISH EVENT \"e\"\nEND SUB\nCALL s()\n");
        assert!(in_sub.uses(Effect::Database));
    }
}
