//! HTTPS is on, and it checks certificates: a connector talking to a server with a self-signed certificate
//! (Debian's `openssl s_server`) is refused for the certificate, not for the scheme.

use lizhi_connectors::access::CallError;
use lizhi_connectors::webhook::WebhookTarget;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn https_is_spoken_and_an_untrusted_certificate_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        assert!(std::env::var_os("CI").is_none(), "openssl is missing on CI");
        eprintln!("skipped: openssl is not installed");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
    let _server = Server(
        Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept", &port.to_string(), "-cert"])
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s_server"),
    );
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let target =
        WebhookTarget::new(&format!("https://127.0.0.1:{port}/hook"), "0123456789abcdef", Duration::from_secs(5))
            .expect("target");
    let failure = target.deliver("case.closed", "id-1", "{}", 1_772_758_800).await.expect_err("untrusted");
    // Refused before anything was sent, for the certificate.
    let CallError::Refused { code, message, .. } = &failure.error else { panic!("{failure:?}") };
    assert_eq!(code, "connect", "{message}");
    assert!(message.to_lowercase().contains("certificate") || message.contains("UnknownIssuer"), "{message}");
}
