//! Standard Webhooks signing, verification, retry schedule and delivery. Delivery is tested
//! against real HTTP listeners on loopback (a thread answering canned responses), not a mock of
//! the client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use scimgate_sync::webhook::{
    DEFAULT_TOLERANCE, DeliveryError, DeliveryOutcome, MessageId, RetryPolicy, SecretError,
    SenderConfig, SignedHeaders, USER_AGENT, VerifyError, WebhookMessage, WebhookSecret,
    WebhookSender, retry_schedule, sign, signature_header, unix_now, verify,
};

// The vector shared by the Standard Webhooks reference libraries' test suites.
const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const VECTOR_TIMESTAMP: i64 = 1_614_265_330;
const VECTOR_BODY: &str = r#"{"test": 2432232314}"#;
const VECTOR_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// A second vector made by this crate (a 32-byte secret from `WebhookSecret::generate`, so the
// padded form is exercised, an id from `MessageId::new`, a non-ASCII body, two secrets) and
// confirmed with the Python reference library `standardwebhooks` 1.1.0's `Webhook.sign`.
const OURS_SECRET_NEW: &str = "whsec_MZCYjCFAnsu/xsFeN4+KLY9L+qsNzI411k6eGrLLJtM=";
const OURS_SECRET_OLD: &str = "whsec_qqKHORU9hqa2j8e8JavkkJ89d24Mk2DviEVnxnkqFbo=";
const OURS_ID: &str = "msg_01a233f60b39769fb2f958314511a019";
const OURS_TIMESTAMP: i64 = 1_754_000_000;
const OURS_BODY: &str = r#"{"type":"team.updated","data":{"name":"Équipe ☃"}}"#;
const OURS_HEADER: &str = "v1,0qNJ+JHXb4SuIjC/an18T8yPPR3XXrhGB6o7DaWxM3M= v1,zYAptZyA9bBOjPpWVMuaj1dQx0RLM5c0p/FDUyQon4Q=";

fn secret(s: &str) -> WebhookSecret {
    WebhookSecret::parse(s).unwrap()
}

fn headers<'a>(id: &'a str, timestamp: &'a str, signature: &'a str) -> SignedHeaders<'a> {
    SignedHeaders {
        id,
        timestamp,
        signature,
    }
}

// ------------------------------------------------------------------------------------------
// Secrets and ids
// ------------------------------------------------------------------------------------------

#[test]
fn secret_round_trips_and_is_never_debug_printed() {
    let s = WebhookSecret::generate().unwrap();
    let exposed = s.expose();
    assert!(exposed.starts_with("whsec_"), "{exposed}");
    // 32 bytes -> 44 base64 characters, padded.
    assert_eq!(exposed.len(), "whsec_".len() + 44);
    let again = WebhookSecret::parse(&exposed).unwrap();
    assert_eq!(again.expose(), exposed);
    let debug = format!("{s:?} {again:?}");
    assert!(!debug.contains(&exposed["whsec_".len()..]), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
    assert_ne!(WebhookSecret::generate().unwrap().expose(), exposed);
}

#[test]
fn secret_parse_rejects_anything_but_whsec() {
    assert_eq!(
        WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
        SecretError::MissingPrefix
    );
    assert_eq!(
        WebhookSecret::parse("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
        SecretError::MissingPrefix
    );
    assert_eq!(
        WebhookSecret::parse("whsec_not base64!").unwrap_err(),
        SecretError::InvalidBase64
    );
    // 12 bytes: below the spec's 24-byte minimum.
    assert_eq!(
        WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjU").unwrap_err(),
        SecretError::Length(12)
    );
    assert_eq!(
        WebhookSecret::parse("whsec_").unwrap_err(),
        SecretError::Length(0)
    );
    assert_eq!(
        WebhookSecret::from_bytes(&[7; 65]).unwrap_err(),
        SecretError::Length(65)
    );
    // The error text names the problem, never the secret.
    let message = WebhookSecret::parse("whsec_not base64!")
        .unwrap_err()
        .to_string();
    assert!(!message.contains("not base64!"), "{message}");
    // Padded and unpadded encodings of the same key are the same secret.
    let padded = secret(OURS_SECRET_NEW);
    let unpadded = secret(OURS_SECRET_NEW.trim_end_matches('='));
    assert_eq!(padded.expose(), unpadded.expose());
    assert!(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
            .parse::<WebhookSecret>()
            .is_ok()
    );
}

#[test]
fn message_ids_are_msg_uuidv7_and_unique() {
    let a = MessageId::new();
    let b = MessageId::new();
    assert_ne!(a, b);
    let hex = a.as_str().strip_prefix("msg_").unwrap();
    assert_eq!(hex.len(), 32);
    let uuid = uuid::Uuid::parse_str(hex).unwrap();
    assert_eq!(uuid.get_version_num(), 7);
    // Time-ordered: a later id sorts after an earlier one.
    assert!(b.as_str() > a.as_str());
    assert_eq!(MessageId::parse(a.as_str()).unwrap(), a);
    assert!(MessageId::parse(VECTOR_ID).is_ok());
    // The signed content is dot-delimited: a dot in an id is refused.
    for bad in ["", "msg_a.b", "msg a", "msg_é", &"x".repeat(257)] {
        assert!(MessageId::parse(bad).is_err(), "{bad:?}");
    }
    // Serialized as a plain string, checked on the way back in.
    assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
    assert!(serde_json::from_str::<MessageId>("\"msg_a.b\"").is_err());
}

#[test]
fn message_keeps_the_exact_compact_body() {
    let m = WebhookMessage::new(&serde_json::json!({"type": "team.updated", "n": 1})).unwrap();
    assert_eq!(m.body, r#"{"n":1,"type":"team.updated"}"#);
    let round: WebhookMessage = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(round, m);
}

// ------------------------------------------------------------------------------------------
// Signing and verification
// ------------------------------------------------------------------------------------------

#[test]
fn reference_vector_signs() {
    let id = MessageId::parse(VECTOR_ID).unwrap();
    let sig = sign(
        &secret(VECTOR_SECRET),
        &id,
        VECTOR_TIMESTAMP,
        VECTOR_BODY.as_bytes(),
    );
    assert_eq!(sig, VECTOR_SIGNATURE);
}

#[test]
fn reference_vector_verifies() {
    let h = headers(VECTOR_ID, "1614265330", VECTOR_SIGNATURE);
    verify(
        &[secret(VECTOR_SECRET)],
        &h,
        VECTOR_BODY.as_bytes(),
        VECTOR_TIMESTAMP,
        DEFAULT_TOLERANCE,
    )
    .unwrap();
}

#[test]
fn our_vector_matches_the_python_reference() {
    let id = MessageId::parse(OURS_ID).unwrap();
    let secrets = [secret(OURS_SECRET_NEW), secret(OURS_SECRET_OLD)];
    let header = signature_header(&secrets, &id, OURS_TIMESTAMP, OURS_BODY.as_bytes());
    assert_eq!(header, OURS_HEADER);
    let ts = OURS_TIMESTAMP.to_string();
    verify(
        &[secret(OURS_SECRET_OLD)],
        &headers(OURS_ID, &ts, &header),
        OURS_BODY.as_bytes(),
        OURS_TIMESTAMP,
        DEFAULT_TOLERANCE,
    )
    .unwrap();
}

#[test]
fn tampered_body_is_refused() {
    let h = headers(VECTOR_ID, "1614265330", VECTOR_SIGNATURE);
    let err = verify(
        &[secret(VECTOR_SECRET)],
        &h,
        br#"{"test": 2432232315}"#,
        VECTOR_TIMESTAMP,
        DEFAULT_TOLERANCE,
    )
    .unwrap_err();
    assert_eq!(err, VerifyError::NoMatchingSignature);
    // A changed id or timestamp is tampering too: both are signed.
    for h in [
        headers(
            "msg_p5jXN8AQM9LWM0D4loKWxJel",
            "1614265330",
            VECTOR_SIGNATURE,
        ),
        headers(VECTOR_ID, "1614265331", VECTOR_SIGNATURE),
    ] {
        assert_eq!(
            verify(
                &[secret(VECTOR_SECRET)],
                &h,
                VECTOR_BODY.as_bytes(),
                VECTOR_TIMESTAMP,
                DEFAULT_TOLERANCE
            ),
            Err(VerifyError::NoMatchingSignature)
        );
    }
}

#[test]
fn wrong_secret_is_refused() {
    let h = headers(VECTOR_ID, "1614265330", VECTOR_SIGNATURE);
    let err = verify(
        &[WebhookSecret::generate().unwrap()],
        &h,
        VECTOR_BODY.as_bytes(),
        VECTOR_TIMESTAMP,
        DEFAULT_TOLERANCE,
    )
    .unwrap_err();
    assert_eq!(err, VerifyError::NoMatchingSignature);
    // And no secret at all verifies nothing.
    assert_eq!(
        verify(
            &[],
            &h,
            VECTOR_BODY.as_bytes(),
            VECTOR_TIMESTAMP,
            DEFAULT_TOLERANCE
        ),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[test]
fn timestamps_outside_the_tolerance_are_refused() {
    let s = [secret(VECTOR_SECRET)];
    let h = headers(VECTOR_ID, "1614265330", VECTOR_SIGNATURE);
    let body = VECTOR_BODY.as_bytes();
    let tol = DEFAULT_TOLERANCE;
    assert_eq!(tol, Duration::from_secs(300));
    // Exactly at the edges: accepted.
    verify(&s, &h, body, VECTOR_TIMESTAMP + 300, tol).unwrap();
    verify(&s, &h, body, VECTOR_TIMESTAMP - 300, tol).unwrap();
    // One second past: refused, before any signature is looked at.
    assert_eq!(
        verify(&s, &h, body, VECTOR_TIMESTAMP + 301, tol),
        Err(VerifyError::TimestampTooOld)
    );
    assert_eq!(
        verify(&s, &h, body, VECTOR_TIMESTAMP - 301, tol),
        Err(VerifyError::TimestampTooNew)
    );
    // The real clock: the vector is from 2021.
    assert_eq!(
        verify(&s, &h, body, unix_now(), tol),
        Err(VerifyError::TimestampTooOld)
    );
    // A custom tolerance.
    verify(
        &s,
        &h,
        body,
        VECTOR_TIMESTAMP + 3600,
        Duration::from_secs(3600),
    )
    .unwrap();
    for bad in ["", "abc", "1614265330.5", "1e9"] {
        assert_eq!(
            verify(
                &s,
                &headers(VECTOR_ID, bad, VECTOR_SIGNATURE),
                body,
                VECTOR_TIMESTAMP,
                tol
            ),
            Err(VerifyError::InvalidTimestamp),
            "{bad:?}"
        );
    }
}

#[test]
fn rotated_secrets_verify_either_way() {
    let old = WebhookSecret::generate().unwrap();
    let new = WebhookSecret::generate().unwrap();
    let stranger = WebhookSecret::generate().unwrap();
    let id = MessageId::new();
    let now = unix_now();
    let ts = now.to_string();
    let body = br#"{"type":"team.updated"}"#;

    // The sender signs with both while rotating: a receiver knowing only one of them accepts.
    let both = signature_header(&[new.clone(), old.clone()], &id, now, body);
    assert_eq!(both.split(' ').count(), 2);
    for known in [&new, &old] {
        verify(
            std::slice::from_ref(known),
            &headers(id.as_str(), &ts, &both),
            body,
            now,
            DEFAULT_TOLERANCE,
        )
        .unwrap();
    }
    // The receiver rotates: it tries each of its secrets against a single signature.
    let only_old = sign(&old, &id, now, body);
    verify(
        &[stranger.clone(), new.clone(), old.clone()],
        &headers(id.as_str(), &ts, &only_old),
        body,
        now,
        DEFAULT_TOLERANCE,
    )
    .unwrap();
    // Neither side knows the other's secret: refused.
    assert_eq!(
        verify(
            &[stranger],
            &headers(id.as_str(), &ts, &both),
            body,
            now,
            DEFAULT_TOLERANCE
        ),
        Err(VerifyError::NoMatchingSignature)
    );
    // Unknown versions and junk entries are skipped, not fatal.
    let mixed = format!("v1a,AAAA garbage v1,!!! {only_old}");
    verify(
        &[old],
        &headers(id.as_str(), &ts, &mixed),
        body,
        now,
        DEFAULT_TOLERANCE,
    )
    .unwrap();
}

#[test]
fn header_without_any_v1_signature_is_refused() {
    let s = [secret(VECTOR_SECRET)];
    for sig in [
        "",
        "v1a,abc",
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ] {
        assert_eq!(
            verify(
                &s,
                &headers(VECTOR_ID, "1614265330", sig),
                VECTOR_BODY.as_bytes(),
                VECTOR_TIMESTAMP,
                DEFAULT_TOLERANCE
            ),
            Err(VerifyError::NoSignature),
            "{sig:?}"
        );
    }
}

#[test]
fn headers_from_a_lookup_name_the_missing_one() {
    let mut map: HashMap<&str, &str> = HashMap::new();
    map.insert("webhook-id", VECTOR_ID);
    map.insert("webhook-timestamp", "1614265330");
    assert_eq!(
        SignedHeaders::from_lookup(|n| map.get(n).copied()),
        Err(VerifyError::MissingHeader("webhook-signature"))
    );
    map.insert("webhook-signature", VECTOR_SIGNATURE);
    let h = SignedHeaders::from_lookup(|n| map.get(n).copied()).unwrap();
    assert_eq!(h, headers(VECTOR_ID, "1614265330", VECTOR_SIGNATURE));
}

// ------------------------------------------------------------------------------------------
// Retry schedule
// ------------------------------------------------------------------------------------------

#[test]
fn standard_schedule_follows_the_spec() {
    let mins = |m: u64| Duration::from_secs(m * 60);
    let hours = |h: u64| Duration::from_secs(h * 3600);
    let expected = [
        Duration::ZERO,
        Duration::from_secs(5),
        mins(5),
        mins(30),
        hours(2),
        hours(5),
        hours(10),
        hours(14),
        hours(20),
        hours(24),
    ];
    for (attempt, delay) in expected.iter().enumerate() {
        assert_eq!(
            retry_schedule(attempt as u32),
            Some(*delay),
            "after {attempt}"
        );
    }
    assert_eq!(retry_schedule(10), None);
    assert_eq!(retry_schedule(u32::MAX), None);
    let standard = RetryPolicy::standard();
    assert_eq!(standard.max_attempts(), 10);
    assert_eq!(RetryPolicy::default(), standard);
    for attempt in 0..12 {
        assert_eq!(standard.delay(attempt), retry_schedule(attempt));
    }
    // With jitter: never earlier, at most 10 % later.
    for attempt in 1..10 {
        let base = retry_schedule(attempt).unwrap();
        let d = standard.next_delay(attempt, None).unwrap();
        assert!(d >= base && d <= base + base / 10, "{attempt}: {d:?}");
    }
    assert_eq!(standard.next_delay(10, None), None);
}

#[test]
fn scaled_down_policies_for_tests() {
    let p = RetryPolicy::exponential(Duration::from_millis(10), 3, 4);
    assert_eq!(p.max_attempts(), 4);
    assert_eq!(p.next_delay(1, None), Some(Duration::from_millis(10)));
    assert_eq!(p.next_delay(2, None), Some(Duration::from_millis(30)));
    assert_eq!(p.next_delay(3, None), Some(Duration::from_millis(90)));
    assert_eq!(p.next_delay(4, None), None);
    assert_eq!(
        RetryPolicy::exponential(Duration::from_secs(1), 2, 1).next_delay(1, None),
        None
    );

    let q = RetryPolicy::from_delays([Duration::from_millis(1), Duration::from_millis(2)]);
    assert_eq!(q.max_attempts(), 3);
    assert_eq!(q.delay(0), Some(Duration::ZERO));
    assert_eq!(q.next_delay(2, None), Some(Duration::from_millis(2)));
    assert_eq!(q.next_delay(3, None), None);
}

#[test]
fn retry_after_is_a_floor_capped_at_the_longest_delay() {
    let p = RetryPolicy::from_delays([Duration::from_secs(5), Duration::from_secs(60)]);
    // Asked for longer than scheduled: honoured.
    assert_eq!(
        p.next_delay(1, Some(Duration::from_secs(30))),
        Some(Duration::from_secs(30))
    );
    // Asked for shorter than scheduled: the schedule wins.
    assert_eq!(
        p.next_delay(2, Some(Duration::from_secs(1))),
        Some(Duration::from_secs(60))
    );
    // Asked for a day: capped at the policy's longest delay.
    assert_eq!(
        p.next_delay(1, Some(Duration::from_secs(86_400))),
        Some(Duration::from_secs(60))
    );
    // But it never buys an attempt past the last.
    assert_eq!(p.next_delay(3, Some(Duration::from_secs(1))), None);
}

// ------------------------------------------------------------------------------------------
// Delivery, against real listeners
// ------------------------------------------------------------------------------------------

/// One request as the listener received it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// A loopback HTTP/1.1 listener on its own thread. Each connection gets one request read and
/// the canned response produced by `respond` (after `delay`), then is closed.
struct Listener {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Listener {
    fn start(respond: impl Fn(&Received) -> String + Send + 'static) -> Self {
        Self::start_with_delay(Duration::ZERO, respond)
    }

    fn start_with_delay(
        delay: Duration,
        respond: impl Fn(&Received) -> String + Send + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        // The thread ends with the test process (nextest runs each test in its own).
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if let Some(request) = read_request(&stream) {
                    log.lock().unwrap().push(request.clone());
                    thread::sleep(delay);
                    let mut stream = stream;
                    let _ = stream.write_all(respond(&request).as_bytes());
                    let _ = stream.flush();
                }
            }
        });
        Self { addr, received }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers
        .get("content-length")
        .map_or(Ok(0), |v| v.parse())
        .ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        path,
        headers,
        body,
    })
}

fn response(status_line: &str, extra_headers: &[(&str, &str)], body: &str) -> String {
    let mut out = format!("HTTP/1.1 {status_line}\r\n");
    for (name, value) in extra_headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    out
}

fn sender() -> WebhookSender {
    WebhookSender::new(SenderConfig::default()).unwrap()
}

fn message() -> WebhookMessage {
    WebhookMessage::new(&serde_json::json!({
        "type": "team.updated",
        "timestamp": "2026-01-01T00:00:00Z",
        "data": {"id": "7f0c", "name": "Équipe"}
    }))
    .unwrap()
}

#[tokio::test]
async fn delivered_on_204_with_headers_that_verify() {
    let listener = Listener::start(|_| response("204 No Content", &[], ""));
    let secrets = [
        WebhookSecret::generate().unwrap(),
        WebhookSecret::generate().unwrap(),
    ];
    let msg = message();
    let outcome = sender()
        .deliver(&listener.url("/hooks/scim"), &secrets, &msg)
        .await
        .unwrap();
    assert_eq!(outcome, DeliveryOutcome::Delivered { status: 204 });

    let received = listener.received();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/hooks/scim");
    assert_eq!(r.body, msg.body.as_bytes());
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["user-agent"], USER_AGENT);
    assert_eq!(USER_AGENT, concat!("scimgate/", env!("CARGO_PKG_VERSION")));
    assert_eq!(r.headers["webhook-id"], msg.id.as_str());
    let ts: i64 = r.headers["webhook-timestamp"].parse().unwrap();
    assert!((unix_now() - ts).abs() <= 5, "{ts}");
    // One signature per secret, and each secret alone verifies the exact bytes received.
    let sig = &r.headers["webhook-signature"];
    assert_eq!(sig.split(' ').count(), 2);
    let h = SignedHeaders::from_lookup(|n| r.headers.get(n).map(String::as_str)).unwrap();
    for s in &secrets {
        verify(
            std::slice::from_ref(s),
            &h,
            &r.body,
            unix_now(),
            DEFAULT_TOLERANCE,
        )
        .unwrap();
    }
    assert_eq!(
        verify(
            &[WebhookSecret::generate().unwrap()],
            &h,
            &r.body,
            unix_now(),
            DEFAULT_TOLERANCE
        ),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[tokio::test]
async fn any_2xx_is_delivered() {
    let listener = Listener::start(|_| response("200 OK", &[], "thanks"));
    let outcome = sender()
        .deliver(
            &listener.url("/"),
            &[WebhookSecret::generate().unwrap()],
            &message(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, DeliveryOutcome::Delivered { status: 200 });
}

#[tokio::test]
async fn retry_on_500_with_a_bounded_body_snippet() {
    let huge = format!("database on fire\n{}", "x".repeat(100_000));
    let listener = Listener::start(move |_| response("500 Internal Server Error", &[], &huge));
    let config = SenderConfig {
        max_error_body: 64,
        ..SenderConfig::default()
    };
    let outcome = WebhookSender::new(config)
        .unwrap()
        .deliver(
            &listener.url("/"),
            &[WebhookSecret::generate().unwrap()],
            &message(),
        )
        .await
        .unwrap();
    let DeliveryOutcome::Retry {
        status,
        reason,
        retry_after,
    } = outcome
    else {
        panic!("expected a retry, got {outcome:?}");
    };
    assert_eq!(status, Some(500));
    assert_eq!(retry_after, None);
    assert!(
        reason.starts_with("HTTP 500 Internal Server Error: database on fire"),
        "{reason}"
    );
    assert!(!reason.contains('\n'), "{reason}");
    assert!(reason.len() < 150, "{} bytes: {reason}", reason.len());
}

#[tokio::test]
async fn retry_on_a_closed_port() {
    // Bind then drop: the port is (almost certainly) closed for the duration of the test.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}/hook?token=s3cr3t");
    let outcome = sender()
        .deliver(&url, &[WebhookSecret::generate().unwrap()], &message())
        .await
        .unwrap();
    let DeliveryOutcome::Retry {
        status,
        reason,
        retry_after,
    } = outcome
    else {
        panic!("expected a retry, got {outcome:?}");
    };
    assert_eq!(status, None);
    assert_eq!(retry_after, None);
    assert!(reason.starts_with("connection failed"), "{reason}");
    // The endpoint URL (which may carry a token) stays out of the log line.
    assert!(!reason.contains("s3cr3t"), "{reason}");
}

#[tokio::test]
async fn retry_on_a_timeout() {
    let listener = Listener::start_with_delay(Duration::from_secs(3), |_| {
        response("204 No Content", &[], "")
    });
    let config = SenderConfig {
        timeout: Duration::from_millis(300),
        ..SenderConfig::default()
    };
    let started = std::time::Instant::now();
    let outcome = WebhookSender::new(config)
        .unwrap()
        .deliver(
            &listener.url("/"),
            &[WebhookSecret::generate().unwrap()],
            &message(),
        )
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let DeliveryOutcome::Retry { status, reason, .. } = outcome else {
        panic!("expected a retry, got {outcome:?}");
    };
    assert_eq!(status, None);
    assert!(reason.starts_with("timed out after 300ms"), "{reason}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    // The request did reach the endpoint: a timeout is not proof it was not processed, which is
    // why the id stays the same on the retry.
    assert_eq!(listener.received().len(), 1);
}

#[tokio::test]
async fn retry_after_is_honoured_on_429_and_503_only() {
    for (status_line, code, expected) in [
        ("429 Too Many Requests", 429, Some(Duration::from_secs(120))),
        (
            "503 Service Unavailable",
            503,
            Some(Duration::from_secs(120)),
        ),
        ("502 Bad Gateway", 502, None),
    ] {
        let listener =
            Listener::start(move |_| response(status_line, &[("retry-after", "120")], "slow down"));
        let outcome = sender()
            .deliver(
                &listener.url("/"),
                &[WebhookSecret::generate().unwrap()],
                &message(),
            )
            .await
            .unwrap();
        let DeliveryOutcome::Retry {
            status,
            retry_after,
            reason,
        } = outcome
        else {
            panic!("expected a retry, got {outcome:?}");
        };
        assert_eq!(status, Some(code));
        assert_eq!(retry_after, expected, "{status_line}");
        assert!(reason.contains("slow down"), "{reason}");
        // What the caller does with it: wait at least that long.
        let wait = RetryPolicy::standard().next_delay(1, retry_after).unwrap();
        assert!(
            wait >= retry_after.unwrap_or(Duration::from_secs(5)),
            "{wait:?}"
        );
    }
    // An HTTP-date (or junk) is not a number of seconds: ignored, not fatal.
    let listener = Listener::start(|_| {
        response(
            "429 Too Many Requests",
            &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")],
            "",
        )
    });
    let outcome = sender()
        .deliver(
            &listener.url("/"),
            &[WebhookSecret::generate().unwrap()],
            &message(),
        )
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            DeliveryOutcome::Retry {
                status: Some(429),
                retry_after: None,
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn gone_on_410() {
    let listener = Listener::start(|_| response("410 Gone", &[], "endpoint disabled"));
    let outcome = sender()
        .deliver(
            &listener.url("/"),
            &[WebhookSecret::generate().unwrap()],
            &message(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, DeliveryOutcome::Gone { status: 410 });
}

#[tokio::test]
async fn redirect_is_not_followed() {
    let target = Listener::start(|_| response("204 No Content", &[], ""));
    let location = target.url("/elsewhere");
    let redirecting =
        Listener::start(move |_| response("302 Found", &[("location", &location)], ""));
    let outcome = sender()
        .deliver(
            &redirecting.url("/hook"),
            &[WebhookSecret::generate().unwrap()],
            &message(),
        )
        .await
        .unwrap();
    let DeliveryOutcome::Retry { status, reason, .. } = outcome else {
        panic!("expected a retry, got {outcome:?}");
    };
    assert_eq!(status, Some(302));
    assert!(reason.contains("not followed"), "{reason}");
    assert!(reason.contains("/elsewhere"), "{reason}");
    assert_eq!(redirecting.received().len(), 1);
    // Give a (wrongly) followed redirect time to land before counting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(target.received().len(), 0);
}

#[tokio::test]
async fn misconfiguration_is_an_error_not_a_retry() {
    let s = [WebhookSecret::generate().unwrap()];
    let m = message();
    assert!(matches!(
        sender().deliver("http://127.0.0.1:9/", &[], &m).await,
        Err(DeliveryError::NoSecrets)
    ));
    for bad in [
        "not a url",
        "ftp://example.com/",
        "/relative",
        "unix:/run/x.sock",
    ] {
        assert!(
            matches!(
                sender().deliver(bad, &s, &m).await,
                Err(DeliveryError::InvalidUrl { .. })
            ),
            "{bad}"
        );
    }
    let strict = WebhookSender::new(SenderConfig {
        https_only: true,
        ..SenderConfig::default()
    })
    .unwrap();
    assert!(matches!(
        strict.deliver("http://127.0.0.1:9/", &s, &m).await,
        Err(DeliveryError::InvalidUrl { expected: "https" })
    ));
}

/// Prints one freshly signed message as JSON, for checking against another implementation:
/// `cargo nextest run -p scimgate-sync --test webhook --run-ignored only --no-capture
/// print_a_freshly_signed_message`, then feed the line to the reference library's `verify`.
#[test]
#[ignore = "a tool for interoperability checks by hand"]
fn print_a_freshly_signed_message() {
    let s = WebhookSecret::generate().unwrap();
    let m = message();
    let now = unix_now();
    let header = signature_header(std::slice::from_ref(&s), &m.id, now, m.body.as_bytes());
    println!(
        "{}",
        serde_json::json!({
            "secret": s.expose(),
            "webhook-id": m.id,
            "webhook-timestamp": now.to_string(),
            "webhook-signature": header,
            "body": m.body,
        })
    );
}
