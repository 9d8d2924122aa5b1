//! `reconcile serve --listen unix:PATH` and `--until-stdin-closes`: how the
//! npm package's handler runs the server as its child, with no port.

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::harness::{repo, wait_for, TestDb};

fn serve(db: &TestDb, socket: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reconcile"));
    c.args(["serve", "--schema"])
        .arg(repo().join("schema"))
        .arg("--listen")
        .arg(format!("unix:{}", socket.display()))
        .env("DATABASE_URL", &db.url)
        .env_remove("ADMIN_TOKEN")
        .env_remove("RUN_MIGRATIONS_ON_BOOT");
    c
}

/// One HTTP/1.1 GET over the socket; the whole answer.
fn get(socket: &Path, path: &str) -> String {
    let mut s = UnixStream::connect(socket).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn serve_on_a_unix_socket_answers_replaces_a_stale_file_and_stops_when_stdin_closes() {
    let db = TestDb::new("serve_socket");
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("serve.sock");
    // A socket file left by a server that is gone.
    drop(UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());

    let mut child = serve(&db, &socket)
        .arg("--until-stdin-closes")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        wait_for(30, || UnixStream::connect(&socket).is_ok()),
        "the server did not listen on {}",
        socket.display()
    );
    let meta = std::fs::metadata(&socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    let answer = get(&socket, "/__admin/health");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"status\":\"ok\""), "{answer}");
    let answer = get(&socket, "/__admin/migrate/dry-run");
    assert!(
        answer.starts_with("HTTP/1.1 503"),
        "no ADMIN_TOKEN: {answer}"
    );

    // The parent goes: its end of the pipe closes, and the server stops.
    drop(child.stdin.take());
    let stopped = wait_for(20, || child.try_wait().unwrap().is_some());
    if !stopped {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stopped, "still running after stdin closed:\n{stderr}");
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("\"listen\":\"unix:{}\"", socket.display())),
        "{stderr}"
    );
    assert!(!socket.exists(), "the socket file is left behind");
}

#[test]
fn serve_refuses_a_path_that_is_not_a_socket_or_a_socket_in_use() {
    let db = TestDb::new("serve_socket_in_use");
    let dir = tempfile::tempdir().unwrap();

    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "keep me").unwrap();
    let out = serve(&db, &file).stdin(Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot listen"), "{stderr}");
    assert!(stderr.contains("not a socket"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");

    let live = dir.path().join("live.sock");
    let _held = UnixListener::bind(&live).unwrap();
    let out = serve(&db, &live).stdin(Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("address in use"), "{stderr}");
    assert!(live.exists(), "a live server's socket was removed");
}

/// The app holds `PORT` already: serve says so and how to put the endpoints
/// inside the app instead.
#[test]
fn serve_on_the_apps_port_says_how_to_share_it() {
    let db = TestDb::new("serve_port_in_use");
    let app = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = app.local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_reconcile"))
        .args(["serve", "--schema"])
        .arg(repo().join("schema"))
        .env("DATABASE_URL", &db.url)
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(line["msg"], "cannot listen");
    assert!(
        line["hint"]
            .as_str()
            .unwrap_or("")
            .contains("reconcileAdmin"),
        "{stderr}"
    );
}
