//! "New workflow from a template": the workflow packages of `bottemplates/`, compiled into
//! the binary (so a server serving another bots folder still offers them), and writing
//! one of them as a new script into a loaded bot's package.

use std::path::Path;

use crate::error::Error;
use crate::workflow::Runtime;

/// A workflow template: one of the workflow packages of `bottemplates/`.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// Its name, the package's (`approval-chain`).
    pub name: &'static str,
    /// A title for a list.
    pub title: &'static str,
    /// What it does, in one line.
    pub description: &'static str,
    /// The script's text, as in its package.
    pub source: &'static str,
}

macro_rules! template {
    ($name:literal, $title:literal, $description:literal) => {
        Template {
            name: $name,
            title: $title,
            description: $description,
            source: include_str!(concat!(
                "../../bottemplates/",
                $name,
                ".gbai/",
                $name,
                ".gbdialog/start.bas"
            )),
        }
    };
}

const TEMPLATES: &[Template] = &[
    template!(
        "approval-chain",
        "Approval chain",
        "A request approved by the team lead, then finance above 1000, each with a deadline and someone to escalate to."
    ),
    template!(
        "order-refund",
        "Order refund",
        "Validate an order, ask a manager above an amount, then refund and restock in parallel."
    ),
    template!(
        "incident-escalation",
        "Incident escalation",
        "Page the on-call levels one after the other until one acknowledges, then wait for the resolution and publish it."
    ),
    template!(
        "employee-onboarding",
        "Employee onboarding",
        "Manager approval, a profile shared with the IT desk, accounts, equipment and training in parallel, a check-in on the first day."
    ),
    template!(
        "content-moderation",
        "Content moderation",
        "A classifier publishes or removes a post, or sends it to moderators who have a deadline."
    ),
    template!(
        "lead-qualification",
        "Lead qualification",
        "Score a lead, then hand hot ones to the sales bot through shared memory and follow warm ones up."
    ),
];

/// The templates, in the order a list shows them.
pub fn list() -> &'static [Template] {
    TEMPLATES
}

/// The template called `name`.
pub fn find(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

/// True for a name a new script may have: 1–64 lower-case letters, digits and `-`, not
/// starting or ending with `-` nor with two in a row. It is the form of a task's slug
/// (`bots::slug`), so that a `BOT "bot" "task"` can reach the script by its task.
pub fn valid_script_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && crate::bots::slug(name) == name
}

/// What [`create`] wrote.
#[derive(Debug, Clone)]
pub struct Created {
    /// The bot.
    pub bot: String,
    /// The new script's name (its file stem).
    pub script: String,
    /// Its version's hash (what a save starts from).
    pub hash: String,
    /// Its text: the template's, its workflow named after the script.
    pub source: String,
}

/// Writes `template` as `{bot}.gbdialog/{script}.bas` into the package of the loaded bot
/// `bot` and loads the package again, so that the script can be drawn and started at
/// once. A bad script name is a 400; an unknown bot or template a 404; a script the bot
/// already has is a 409 (never an overwrite).
pub fn create(rt: &Runtime, bot: &str, script: &str, template: &str) -> Result<Created, Error> {
    if !valid_script_name(script) {
        return Err(Error::BadRequest(format!(
            "'script' must be 1-64 lower-case letters, digits and single '-' between them \
             (a task's slug, as 'process-refund'), not '{script}'"
        )));
    }
    let t = find(template).ok_or_else(|| {
        let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
        Error::NotFound(format!(
            "no template '{template}'; there are {}",
            names.join(", ")
        ))
    })?;
    let package = rt
        .package(bot)
        .ok_or_else(|| Error::NotFound(format!("unknown bot '{bot}'")))?;
    if package.scripts.contains_key(script) {
        return Err(Error::Conflict(format!(
            "bot '{bot}' already has a script '{script}': choose another name"
        )));
    }
    let dialog = package.dir.join(format!("{}.gbdialog", package.name));
    let path = dialog.join(format!("{script}.bas"));
    std::fs::create_dir_all(&dialog)
        .map_err(|e| Error::Internal(format!("cannot create {}: {e}", dialog.display())))?;
    let source = named(t.source, script);
    write_new(&path, &source)?;
    let reloaded = crate::bots::Package::load(&package.dir)
        .map_err(|e| Error::Internal(format!("written, but the package does not load: {e}")))?;
    rt.load_packages(vec![reloaded])?;
    Ok(Created {
        bot: bot.to_string(),
        script: script.to_string(),
        hash: crate::basic::content_hash(&source),
        source,
    })
}

/// `source` with its `ORCHESTRATE WORKFLOW "…"` named `name` (the new script's name, so
/// its executions are listed under it), every other byte as it was.
fn named(source: &str, name: &str) -> String {
    let mut out = String::with_capacity(source.len() + name.len());
    let mut done = false;
    for line in source.split_inclusive('\n') {
        let t = line.trim_start();
        let head = "ORCHESTRATE WORKFLOW \"";
        if !done && t.len() > head.len() && t[..head.len()].eq_ignore_ascii_case(head) {
            let open = line.len() - t.len() + head.len();
            if let Some(close) = line[open..].find('"') {
                out.push_str(&line[..open]);
                out.push_str(name);
                out.push_str(&line[open + close..]);
                done = true;
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

/// Writes `text` to a new file at `path`: written beside (under a name of its own, so two
/// creations at once never mix), then linked into place, which fails when a file is there
/// already (a 409). So a reader never sees half a file and an existing one is never
/// replaced, even by a writer racing this one.
fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    let tmp = path.with_extension(format!("bas.{}.creating", uuid::Uuid::now_v7().simple()));
    let failed =
        |e: std::io::Error| Error::Internal(format!("cannot write {}: {e}", path.display()));
    std::fs::write(&tmp, text).map_err(failed)?;
    let placed = match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::Conflict(format!(
            "{} already exists: choose another name",
            path.display()
        ))),
        // A file system without hard links: moved into place after a last look.
        Err(_) if !path.exists() => std::fs::rename(&tmp, path).map_err(failed),
        Err(e) => Err(failed(e)),
    };
    // The name beside goes either way (the file lives on under `path` when placed).
    let _ = std::fs::remove_file(&tmp);
    placed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_workflow_is_named_after_its_script() {
        let src = "' about\n  orchestrate workflow \"approval-chain\" ' the chain\nEND WORKFLOW\n";
        assert_eq!(
            named(src, "purchase"),
            "' about\n  orchestrate workflow \"purchase\" ' the chain\nEND WORKFLOW\n"
        );
        for t in list() {
            let n = named(t.source, "x-1");
            assert!(n.contains("ORCHESTRATE WORKFLOW \"x-1\""), "{}", t.name);
            assert_eq!(n.lines().count(), t.source.lines().count());
        }
    }

    #[test]
    fn script_names_are_task_slugs() {
        for ok in ["start", "purchase-approval", "v2", "a-1-b"] {
            assert!(valid_script_name(ok), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in [
            "",
            "Start",
            "my_flow",
            "-x",
            "x-",
            "a--b",
            "a b",
            "../x",
            "x.bas",
            "é",
            long.as_str(),
        ] {
            assert!(!valid_script_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn every_template_is_embedded_and_is_a_workflow() {
        assert_eq!(list().len(), 6);
        for t in list() {
            assert_eq!(find(t.name).map(|f| f.name), Some(t.name));
            assert!(
                t.source
                    .contains(&format!("ORCHESTRATE WORKFLOW \"{}\"", t.name)),
                "{}",
                t.name
            );
            assert!(!t.description.is_empty() && !t.title.is_empty());
        }
        assert!(find("nothing").is_none());
    }

    #[test]
    fn creating_beside_never_replaces_a_file() {
        let dir = std::env::temp_dir().join(format!("tpl-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.bas");
        write_new(&path, "one").unwrap();
        assert!(matches!(write_new(&path, "two"), Err(Error::Conflict(_))));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "nothing left beside");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
