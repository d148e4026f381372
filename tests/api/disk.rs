//! A full or read-only disk under the database (issues 8 and 9): chats keep flowing, logout takes
//! effect at once, writes get a clear 503, and Haven recovers once there is space again; a
//! database it cannot write is refused at start. The disk is a tiny tmpfs, which needs root:
//! required where CI runs (as root), skipped loudly elsewhere.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use haven::Role;

use crate::common::{spawn_app_with, TestApp};
use crate::support::*;

/// A tmpfs of a fixed size mounted on a fresh temporary directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

impl Tmpfs {
    /// Mounts a tmpfs of `size`; `None` (after saying so loudly) where that is not possible
    /// and not required. Where CI=true and the test runs as root, failing to mount fails.
    fn mount(size: &str, test: &str) -> Option<Tmpfs> {
        let required = std::env::var("CI").is_ok_and(|v| v == "true") && running_as_root();
        let skip = |why: String| {
            assert!(
                !required,
                "{test}: CI runs as root, the tmpfs is required: {why}"
            );
            eprintln!("\n*** SKIPPED {test}: {why} (needs root and `mount -t tmpfs`) ***\n");
            None
        };
        if !running_as_root() {
            return skip("not running as root".into());
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status();
        match status {
            Ok(s) if s.success() => Some(Tmpfs { dir }),
            other => skip(format!("mount -t tmpfs failed: {other:?}")),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Remounts read-only.
    fn read_only(&self) {
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "remount read-only");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes a file until the disk is full; its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler");
    let block = vec![0u8; 16 * 1024];
    loop {
        if file.write_all(&block).and_then(|_| file.flush()).is_err() {
            break;
        }
    }
    // Fill the last partial block too.
    while file.write_all(&[0u8; 512]).is_ok() {}
    path
}

fn sessions_on_disk(data_dir: &Path) -> i64 {
    let db = rusqlite::Connection::open(data_dir.join("haven.db")).expect("database opens");
    db.query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
        .unwrap()
}

async fn spawn_on(data_dir: &Path) -> TestApp {
    let data_dir = data_dir.to_path_buf();
    spawn_app_with(move |c| {
        c.server.data_dir = data_dir;
        c.server.store_wait_ms = 1_000;
    })
    .await
}

fn add_staff(data_dir: &Path, username: &str, display: &str) {
    haven::store::Store::open(data_dir)
        .expect("store opens")
        .add_staff(username, display, Role::Advocate, PASSWORD)
        .expect("staff added");
}

#[tokio::test]
async fn a_full_disk_keeps_chats_flowing_logout_at_once_503_for_writes_and_recovers() {
    let test = "a_full_disk_keeps_chats_flowing";
    let Some(disk) = Tmpfs::mount("4m", test) else {
        return;
    };
    let data = disk.path().join("data");
    std::fs::create_dir(&data).unwrap();
    add_staff(&data, "disk-sam-1", "Advocate Sam");
    add_staff(&data, "disk-pat-2", "Advocate Pat");
    let app = spawn_on(&data).await;
    let sam_cookie = app.login("disk-sam-1", PASSWORD).await;
    let mut sam = connect_staff(&app, "disk-sam-1", "Advocate Sam", &sam_cookie).await;
    sam.set_available(true).await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    let pat = app.login("disk-pat-2", PASSWORD).await;
    let sessions = sessions_on_disk(&data);

    // Empty the write-ahead log into the database file, so that the next write must grow it,
    // then take every last byte.
    let db = rusqlite::Connection::open(data.join("haven.db")).unwrap();
    db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(db);
    let filler = fill(disk.path());

    // Chats never touch the disk.
    exchange(&mut chatter, &mut sam, &chat_id, "disk-full").await;
    // A write is refused clearly and quickly.
    let started = Instant::now();
    let (status, body) = try_login(&app, "disk-sam-1", PASSWORD).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "store_unavailable", "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Logout takes effect at once although the database cannot record it.
    assert_eq!(logout(&app, &pat).await.status(), 204);
    assert_eq!(me(&app, &pat).await.status(), 401, "refused from memory");
    exchange(&mut chatter, &mut sam, &chat_id, "after-logout").await;

    // Space again: the database catches up with the logout, and writes work.
    std::fs::remove_file(filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sessions_on_disk(&data) != sessions - 1 {
        assert!(
            Instant::now() < deadline,
            "the logout never reached the database"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(me(&app, &pat).await.status(), 401);
    let (status, body) = try_login(&app, "disk-pat-2", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    exchange(&mut chatter, &mut sam, &chat_id, "recovered").await;
}

#[tokio::test]
async fn a_database_on_a_read_only_disk_is_refused_at_start_with_a_clear_message() {
    let test = "a_database_on_a_read_only_disk_is_refused_at_start";
    let Some(disk) = Tmpfs::mount("4m", test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("haven.toml");
    let config = format!(
        "[server]\nbind = \"127.0.0.1:0\"\ndata_dir = {:?}\n",
        disk.path().join("data")
    );
    std::fs::write(&config_path, config).unwrap();
    // A database that exists and works …
    staff_add(
        &config_path,
        "ro-sam-1",
        "advocate",
        "Advocate Sam",
        PASSWORD,
    );
    // … on a disk that has become read-only.
    disk.read_only();
    let output = haven_command(&config_path)
        .arg("serve")
        .output()
        .expect("run haven serve");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "serve must refuse: {said}");
    assert!(said.contains("cannot be written"), "{said}");
    assert!(said.contains("haven.db"), "names the file: {said}");
}
