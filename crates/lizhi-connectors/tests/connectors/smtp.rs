//! SMTP against a real server: Python's `aiosmtpd` (PyPI), started by the test on a free port and
//! writing what it receives to a maildir. `.ci/run` installs it into a venv and sets `LIZHI_TEST_PYTHON`.

use chrono::Duration;
use lizhi_app::mail::{self, EmailPayload};
use lizhi_app::{App, Clock, FixedClock};
use lizhi_connectors::SmtpMailer;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

fn python() -> String {
    std::env::var("LIZHI_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A running aiosmtpd with its maildir; killed on drop.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

/// Starts aiosmtpd, or `None` (with a message) when it is not installed here; CI always has it.
fn start() -> Option<SmtpServer> {
    let ok = Command::new(python()).args(["-c", "import aiosmtpd"]).status().is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "aiosmtpd is missing on CI (LIZHI_TEST_PYTHON={})", python());
        eprintln!("skipping: aiosmtpd not installed for {} (pip install aiosmtpd)", python());
        return None;
    }
    let maildir = tempfile::tempdir().expect("maildir");
    let port = free_port();
    let mut child = Command::new(python())
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir.path().join("mail"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(SmtpServer { child, port, maildir });
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("aiosmtpd did not start on port {port}");
}

/// The messages in the maildir as (to, subject, body), decoded by Python's own e-mail parser.
fn received(server: &SmtpServer) -> Vec<(String, String, String)> {
    let script = "import mailbox,sys,json\nout=[]\nfor m in mailbox.Maildir(sys.argv[1]):\n    b=m.get_payload(decode=True).decode(m.get_content_charset() or 'utf-8')\n    import email.header\n    s=str(email.header.make_header(email.header.decode_header(m['subject'])))\n    out.append([m['to'],s,b])\nprint(json.dumps(out))";
    let out = Command::new(python())
        .args(["-c", script])
        .arg(server.maildir.path().join("mail"))
        .output()
        .expect("read maildir");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[tokio::test]
async fn chinese_mail_arrives_through_the_outbox_and_a_dead_server_means_retries_not_loss() {
    let Some(server) = start() else { return };
    let url = lizhi_store::testing::fresh_database_url().await.expect("db");
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let app = App::with_clock(App::open(&url, 2).await.expect("open").db, clock.clone());
    let smtp =
        SmtpMailer::new(&format!("smtp://127.0.0.1:{}", server.port), "离职系统 <hr@example.com>").expect("mailer");
    let enqueue = |key: &str, to: &str| {
        let app = app.clone();
        let (key, to) = (key.to_owned(), to.to_owned());
        async move {
            let payload = serde_json::json!(EmailPayload {
                subject: "离职系统 · 案件 #7 等待您的审批".into(),
                body: "案件 #7 等待您的审批（人力资源主管）。\n王喆".into(),
            })
            .to_string();
            let mut conn = app.db.acquire().await.expect("conn");
            lizhi_store::outbox::enqueue(&mut conn.conn(), mail::CHANNEL, &key, &to, &payload, app.clock.now())
                .await
                .expect("enqueue")
        }
    };
    assert!(enqueue("email:step:1:user:2", "wang@example.com").await);
    assert!(!enqueue("email:step:1:user:2", "wang@example.com").await, "the same effect twice is one mail");
    let run = mail::deliver_due(&app, &smtp).await.expect("deliver");
    assert_eq!((run.sent, run.retried, run.failed), (1, 0, 0));
    let mails = received(&server);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].0, "wang@example.com");
    assert_eq!(mails[0].1, "离职系统 · 案件 #7 等待您的审批");
    assert!(mails[0].2.contains("王喆"), "{}", mails[0].2);
    assert_eq!(mail::deliver_due(&app, &smtp).await.expect("again").sent, 0, "sent once");

    // A server that refuses connections: the mail stays queued with a later attempt, then gives up.
    let dead = SmtpMailer::new(&format!("smtp://127.0.0.1:{}", free_port()), "hr@example.com").expect("mailer");
    assert!(enqueue("email:item:9:overdue", "li@example.com").await);
    let run = mail::deliver_due(&app, &dead).await.expect("deliver");
    assert_eq!((run.sent, run.retried), (0, 1));
    assert_eq!(mail::deliver_due(&app, &dead).await.expect("too soon").retried, 0, "not before the backoff");
    for _ in 1..mail::MAX_ATTEMPTS {
        clock.advance(Duration::hours(7));
        mail::deliver_due(&app, &dead).await.expect("retry");
    }
    let mut conn = app.db.acquire().await.expect("conn");
    let counts = lizhi_store::outbox::counts(&mut conn.conn(), mail::CHANNEL).await.expect("counts");
    assert_eq!(counts, vec![("completed".to_owned(), 1), ("failed".to_owned(), 1)]);
    // Mail is not lost by a dead worker either: an expired lease is claimed again.
    assert!(enqueue("email:case:3:deadline", "zhao@example.com").await);
    let lease =
        lizhi_store::outbox::claim(&mut conn.conn(), mail::CHANNEL, 10, clock.now(), clock.now()).await.expect("claim");
    assert_eq!(lease.len(), 1, "claimed by a worker that then dies");
    clock.advance(Duration::seconds(1));
    assert_eq!(mail::deliver_due(&app, &smtp).await.expect("takeover").sent, 1);
    assert_eq!(received(&server).len(), 2);
}
