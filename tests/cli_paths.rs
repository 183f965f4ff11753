//! `check` and `run` on what users give them: the bots of every path given count for
//! `check`'s delegation warnings (`check bottemplates mine.gbai`), and `run` of a package
//! runs its `start.bas`; a folder that is no package is a clear error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn botserver(args: &[&str], input: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_botserver"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn check_counts_the_bots_of_every_path_given() {
    let dir = std::env::temp_dir().join(format!("botserver-cli-{}", std::process::id()));
    let dialog = dir.join("mine.gbai").join("mine.gbdialog");
    std::fs::create_dir_all(&dialog).unwrap();
    std::fs::write(
        dialog.join("start.bas"),
        "ORCHESTRATE WORKFLOW \"w\"\n  STEP 1: BOT \"classifier\" \"analyze complaint\"\n  STEP 2: BOT \"nobody\" \"x\"\nEND WORKFLOW\n",
    )
    .unwrap();
    let mine = dir.join("mine.gbai");
    let (code, out) = botserver(&["check", "bottemplates", mine.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("unknown bot 'classifier'"), "{out}");
    assert!(out.contains("unknown bot 'nobody'"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_of_a_package_runs_its_start_script() {
    let pkg = Path::new("bottemplates").join("support.gbai");
    let (code, out) = botserver(&["run", pkg.to_str().unwrap()], "Ana\n");
    assert!(out.contains("What is your name?"), "{out}");
    assert!(!out.contains("Is a directory"), "{out}");
    let _ = code;
    let (code, out) = botserver(&["run", "bottemplates"], "");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("a folder; give a .bas file or a NAME.gbai package"),
        "{out}"
    );
}
