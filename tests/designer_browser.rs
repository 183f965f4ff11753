//! The designer in a real browser: headless Chromium (Debian's package) driven by
//! playwright-core (`tests/browser/designer.mjs`). A HUMAN APPROVAL is dragged from the
//! palette onto the edge between the seed workflow's first two steps, its empty
//! approver shows as an error and goes when it is filled, the diff is reviewed and the
//! file saved; a run of the new version then waits at the new node and completes once
//! approved, watched on the graph. Here: the file on disk differs from the original by
//! the inserted line only, and the run did go through that approval.
//!
//! Screenshots go to `target/tmp/console-screenshots/` beside the console's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{BotDir, Options, Server};

const ADMIN: &str = "designer-admin-token";

#[test]
fn a_script_writer_inserts_an_approval_by_dragging_and_watches_a_run_pass_it() {
    common::browser::setup();

    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let file = bots
        .path
        .join("customer-support-workflow.gbai/customer-support-workflow.gbdialog/start.bas");
    let original = std::fs::read_to_string(&file).unwrap();
    let s = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            admin_token: Some(ADMIN.into()),
            ..Default::default()
        },
    );

    let stdout = common::browser::run(
        "designer.mjs",
        &[("BASE", &s.base), ("TOKEN", ADMIN)],
        || s.log_text(),
    );
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("the browser script printed no {name}:\n{stdout}"))
            .to_string()
    };
    let inserted = field("inserted");
    let wf = field("workflow");

    // The file on disk is the original with one line more: the inserted approval, right
    // after the first step, indented like it.
    let saved = std::fs::read_to_string(&file).unwrap();
    let (o, n): (Vec<&str>, Vec<&str>) = (
        original.split_inclusive('\n').collect(),
        saved.split_inclusive('\n').collect(),
    );
    assert_eq!(n.len(), o.len() + 1, "saved:\n{saved}");
    let at = o
        .iter()
        .position(|l| l.contains("STEP 1: BOT \"classifier\""))
        .unwrap()
        + 1;
    assert_eq!(n[at].trim_end(), inserted.trim_end());
    assert_eq!(
        n[at].trim_end(),
        "  STEP 6: HUMAN APPROVAL FROM \"ops@example.com\""
    );
    let mut without = n.clone();
    without.remove(at);
    assert_eq!(without.concat(), original, "other lines changed");

    // The run went through the new approval, decided in the browser script, and completed.
    let (_, done) = s.get_auth(&format!("/api/workflows/{wf}/result?timeout=30"), ADMIN);
    assert_eq!(done["status"], "completed", "{done}");
    let (_, a) = s.get_auth(&format!("/api/approvals?workflow={wf}"), ADMIN);
    let approvals = a["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 1, "{a}");
    assert_eq!(approvals[0]["approver"], "ops@example.com", "{a}");
    assert_eq!(approvals[0]["status"], "approved", "{a}");
    // The script made from a template is in the package on disk.
    let made = std::fs::read_to_string(
        bots.path
            .join("support.gbai/support.gbdialog/moderate-posts.bas"),
    )
    .unwrap();
    assert!(made.contains("ORCHESTRATE WORKFLOW"), "{made}");

    common::browser::assert_shots(&[
        "designer-edit",
        "designer-diagnostic",
        "designer-review",
        "designer-run-waiting",
        "designer-run-completed",
        "designer-from-template",
    ]);
}
