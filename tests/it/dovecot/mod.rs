//! A real IMAP server for tests: Dovecot (Debian `dovecot-imapd`) started
//! with a throwaway configuration in a temp folder, listening on a free
//! loopback port, STARTTLS with a certificate from the test CA, one
//! password login, and a Maildir the test fills. Stopped when dropped.
//! With [`Dovecot::start_oauth2`] it also takes SASL XOAUTH2, checking
//! each token with a token-introspection service on loopback
//! ([`introspect`]). The folder `Sent` carries the RFC 6154 `\Sent`
//! attribute.
//!
//! When Dovecot is not installed the tests fail, saying how to get it:
//! `scripts/test.sh` installs it. They never pass silently without it.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{wait_for, TestPki};

pub mod introspect;

/// Where Debian installs the server.
const DOVECOT: &str = "/usr/sbin/dovecot";

pub struct Dovecot {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
    pub pki: TestPki,
    pub user: String,
    pub password: String,
}

impl Dovecot {
    /// Starts Dovecot with `messages` in the user's INBOX (as unread mail
    /// in `new/`).
    pub fn start(messages: &[Vec<u8>]) -> Dovecot {
        Dovecot::start_with(messages, None)
    }

    /// Starts Dovecot taking XOAUTH2 too, each token checked by POSTing
    /// it to `introspection_url` (e.g. [`introspect::Introspection`]'s).
    pub fn start_oauth2(messages: &[Vec<u8>], introspection_url: &str) -> Dovecot {
        Dovecot::start_with(messages, Some(introspection_url))
    }

    fn start_with(messages: &[Vec<u8>], introspection_url: Option<&str>) -> Dovecot {
        assert!(
            Path::new(DOVECOT).exists(),
            "Dovecot is not installed ({DOVECOT} is missing), so the IMAP tests cannot run. \
             Run the tests with scripts/test.sh, which installs the Debian package \
             dovecot-imapd when it is missing"
        );
        let pki = TestPki::generate();
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let cert = pki.server_cert();
        std::fs::write(root.join("cert.pem"), &cert.cert_pem).unwrap();
        std::fs::write(root.join("key.pem"), &cert.key_pem).unwrap();
        let user = "letters@example.org".to_string();
        // Spaces and symbols: the password must survive quoting intact.
        let password = "s3cret pass\"word%".to_string();
        std::fs::write(
            root.join("passwd"),
            format!("{user}:{{PLAIN}}{password}::::::\n"),
        )
        .unwrap();
        let maildir = root.join("Maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        for (i, m) in messages.iter().enumerate() {
            std::fs::write(
                maildir
                    .join("new")
                    .join(format!("{}.{i}.test", 1_700_000_000 + i)),
                m,
            )
            .unwrap();
        }
        let (uid, gid) = mail_owner(root);
        chown_all(&maildir, uid, gid);
        let port = free_port();
        let mut conf = config(root, port, uid, gid);
        if let Some(url) = introspection_url {
            std::fs::write(root.join("oauth2.conf"), oauth2_config(url)).unwrap();
            // First: the oauth2 passdb answers only the token mechanisms.
            conf.push_str(&format!(
                "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {}\n}}\n",
                root.join("oauth2.conf").display()
            ));
        }
        conf.push_str(&format!(
            "passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {}\n}}\n",
            root.join("passwd").display()
        ));
        std::fs::write(root.join("dovecot.conf"), conf).unwrap();
        let child = spawn(root);
        let mut server = Dovecot {
            dir,
            child,
            port,
            pki,
            user,
            password,
        };
        let up = wait_for(
            || TcpStream::connect(("127.0.0.1", port)).is_ok(),
            Duration::from_secs(20),
        );
        if !up {
            let _ = server.child.kill();
            panic!(
                "Dovecot did not start on port {port}; its log:\n{}",
                server.log()
            );
        }
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Takes the server away at once, with every session it serves (a
    /// crash, a network gone): the master and all its processes, found by
    /// their parent ids, are killed.
    pub fn stop(&mut self) {
        let mut pids = descendants(self.child.id());
        pids.push(self.child.id());
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(pids.iter().map(u32::to_string))
            .status();
        let _ = self.child.wait();
        let port = self.port;
        assert!(
            wait_for(
                || TcpStream::connect(("127.0.0.1", port)).is_err(),
                Duration::from_secs(20)
            ),
            "Dovecot still answers after SIGTERM"
        );
    }

    /// Starts it again, same configuration, same mail.
    pub fn restart(&mut self) {
        self.child = spawn(self.dir.path());
        let port = self.port;
        assert!(
            wait_for(
                || TcpStream::connect(("127.0.0.1", port)).is_ok(),
                Duration::from_secs(20)
            ),
            "Dovecot did not start again; its log:\n{}",
            self.log()
        );
    }

    /// Every message file in `folder` (`"Sent"`: Maildir++ `.Sent`) with
    /// its Maildir flags.
    pub fn files_in(&self, folder: &str) -> Vec<(Vec<u8>, Option<String>)> {
        message_files(&self.maildir().join(format!(".{folder}")))
    }

    /// The Maildir behind the INBOX.
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    /// Every message file in the INBOX with its Maildir flags (`None` for
    /// one still in `new/`, never looked at).
    pub fn files(&self) -> Vec<(Vec<u8>, Option<String>)> {
        message_files(&self.maildir())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    pub fn ca_file(&self) -> &Path {
        self.pki.ca_file()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Who owns the mail: Dovecot refuses to serve mail as root, so when the
/// tests run as root the mail belongs to the `dovecot` system user the
/// package creates; otherwise to whoever runs the tests.
fn mail_owner(root: &Path) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let me = std::fs::metadata(root).unwrap();
    if me.uid() != 0 {
        return (me.uid(), me.gid());
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"dovecot") && f.len() > 3)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .flatten()
        })
        .expect("the dovecot-imapd package creates a `dovecot` user")
}

fn chown_all(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_all(&entry.unwrap().path(), uid, gid);
        }
    }
}

/// Every process below `pid` (from /proc: the fourth field of `stat` is
/// the parent's id).
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents = std::collections::HashMap::<u32, Vec<u32>>::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(me) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The name in parentheses may hold spaces: split after its end.
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        if let Some(parent) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parents.entry(parent).or_default().push(me);
        }
    }
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for &c in parents.get(&p).into_iter().flatten() {
            out.push(c);
            todo.push(c);
        }
    }
    out
}

fn spawn(root: &Path) -> Child {
    Command::new(DOVECOT)
        .arg("-F")
        .arg("-c")
        .arg(root.join("dovecot.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dovecot")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().unwrap().port()
}

/// Dovecot 2.3 configuration: everything under `root`, nothing of the
/// machine's own configuration read.
fn config(root: &Path, port: u16, uid: u32, gid: u32) -> String {
    let r = root.display();
    format!(
        r#"
base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{r}/cert.pem
ssl_key = <{r}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login xoauth2 oauthbearer
first_valid_uid = 1
mail_location = maildir:{r}/Maildir
# Messages saved as they came (CRLF), so a test compares them byte for byte.
mail_save_crlf = yes
default_internal_user = dovecot
default_login_user = dovenull
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \Sent
    auto = create
  }}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={r}/home
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"#
    )
}

/// The oauth2 passdb's settings (Dovecot 2.3, "Open Authentication v2.0
/// database", doc.dovecot.org/2.3/configuration_manual/authentication/oauth2;
/// read 2026-12-05): RFC 7662 introspection by POST, the account from the
/// answer's `username`, and only `"active": true` tokens.
fn oauth2_config(url: &str) -> String {
    format!(
        "introspection_mode = post\n\
         introspection_url = {url}\n\
         force_introspection = yes\n\
         username_attribute = username\n\
         active_attribute = active\n\
         active_value = true\n"
    )
}

/// The message files of the Maildir folder `dir` (`new/` and `cur/`) with
/// their flags (`None` for one in `new/`), sorted; none if it does not
/// exist yet.
fn message_files(dir: &Path) -> Vec<(Vec<u8>, Option<String>)> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let flags = name.split_once(":2,").map(|(_, f)| f.to_string());
            out.push((std::fs::read(&path).unwrap(), flags));
        }
    }
    out.sort();
    out
}
