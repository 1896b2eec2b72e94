//! Observability of a real deployment (issue 5 point 4): `serve scim`, `serve authz` and
//! `serve sync` processes on a fresh PostgreSQL database and a private Redis, exporting spans
//! over OTLP/HTTP to a receiver in this test.
//!
//! - `a_scim_writes_trace_continues_into_the_sync_job_in_another_process`: the IdP's
//!   `traceparent` becomes the parent of the SCIM request's server span; the job it announces
//!   carries the trace through Redis, and the worker's pass is a child in the same trace; the
//!   JSON log lines of both processes carry that trace id.
//! - `metrics_show_requests_tokens_queue_and_jobs`: each part's `/metrics` has the series
//!   docs/operations.md tells operators to watch, with bounded labels.
//!
//! Needs PostgreSQL (see `api/databases.rs`) and `redis-server` on the PATH.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "api/databases.rs"]
mod databases;
#[allow(dead_code)]
#[path = "faults/deployment.rs"]
mod deployment;
#[allow(dead_code)]
#[path = "faults/idp.rs"]
mod idp;
#[allow(dead_code)]
#[path = "faults/processes.rs"]
mod processes;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::{Value, json};

use crate::deployment::{Deployment, eventually, with_database};
use crate::processes::Scimgate;

const WITHIN: Duration = Duration::from_secs(30);

/// One exported span with the `service.name` of the process that sent it.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    span: Span,
}

impl Received {
    fn trace_id(&self) -> String {
        hex(&self.span.trace_id)
    }

    fn attribute(&self, key: &str) -> Option<String> {
        self.span
            .attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.as_ref()?.value.as_ref())
            .map(|v| match v {
                AnyValue::StringValue(s) => s.clone(),
                AnyValue::IntValue(i) => i.to_string(),
                other => format!("{other:?}"),
            })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An OTLP/HTTP receiver (`POST /v1/traces`, protobuf) on a port of its own: a plain
/// HTTP/1.1 server on a thread, keeping every span it is sent.
#[derive(Debug, Clone)]
struct OtlpReceiver {
    port: u16,
    spans: Arc<Mutex<Vec<Received>>>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl OtlpReceiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let me = Self {
            port: listener.local_addr().unwrap().port(),
            spans: Arc::default(),
            paths: Arc::default(),
        };
        let shared = me.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || shared.serve(stream));
            }
        });
        me
    }

    /// Requests on one (keep-alive) connection until the client closes it.
    fn serve(&self, stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut out = stream;
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                return;
            }
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            self.paths.lock().unwrap().push(path);
            let request = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
            let mut spans = self.spans.lock().unwrap();
            for rs in request.resource_spans {
                let service = rs
                    .resource
                    .iter()
                    .flat_map(|r| &r.attributes)
                    .find(|a| a.key == "service.name")
                    .and_then(|a| match a.value.as_ref()?.value.as_ref()? {
                        AnyValue::StringValue(s) => Some(s.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                for ss in rs.scope_spans {
                    for span in ss.spans {
                        spans.push(Received {
                            service: service.clone(),
                            span,
                        });
                    }
                }
            }
            drop(spans);
            // An empty ExportTraceServiceResponse is an empty protobuf message.
            let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
            if out.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    }

    fn spans(&self) -> Vec<Received> {
        self.spans.lock().unwrap().clone()
    }
}

fn log_level(env: &mut processes::Env) {
    env.set("SCIMGATE__LOG__LEVEL", "info");
}

/// A process of the deployment under its own `service.name`.
async fn part(d: &Deployment, name: &str, part: &str, otlp: Option<&OtlpReceiver>) -> Scimgate {
    let mut env = d.env.clone();
    env.set(
        "SCIMGATE__TELEMETRY__SERVICE_NAME",
        &format!("scimgate-{name}"),
    );
    if let Some(r) = otlp {
        env.set(
            "SCIMGATE__TELEMETRY__OTLP_ENDPOINT",
            &format!("http://127.0.0.1:{}", r.port),
        );
        // Export within moments instead of the default 5 s.
        env.set("OTEL_BSP_SCHEDULE_DELAY", "100");
    }
    Scimgate::serve(&env, name, part).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scim_writes_trace_continues_into_the_sync_job_in_another_process() {
    with_database(|url| async move {
        let otlp = OtlpReceiver::start();
        let mut d = Deployment::start_with(&url, log_level).await;
        // The deployment's own SCIM process exports nothing: replace it with one that does.
        d.scim = part(&d, "scim", "scim", Some(&otlp)).await;
        let worker = part(&d, "sync", "sync", Some(&otlp)).await;

        let http = reqwest::Client::new();
        let scim = format!("{}/scim/v2", d.scim.base_url());
        let user: Value = http
            .post(format!("{scim}/Users"))
            .bearer_auth(&d.token)
            .json(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "ada@example.com",
                "active": true,
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // The IdP's own trace (W3C Trace Context §3.2): version, trace id, parent id, sampled.
        let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
        let parent_id = "00f067aa0ba902b7";
        let res = http
            .post(format!("{scim}/Groups"))
            .bearer_auth(&d.token)
            .header("traceparent", format!("00-{trace_id}-{parent_id}-01"))
            .json(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Engineering",
                "members": [{ "value": user["id"] }],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);

        let mut pass: Option<Received> = None;
        eventually("the worker's span in the request's trace", WITHIN, || {
            let spans = otlp.spans();
            pass = spans
                .iter()
                .find(|s| {
                    s.service == "scimgate-sync"
                        && s.span.name == "sync tenant"
                        && s.trace_id() == trace_id
                })
                .cloned();
            let names: Vec<_> = spans
                .iter()
                .map(|s| format!("{}:{}:{}", s.service, s.span.name, s.trace_id()))
                .collect();
            std::future::ready(
                pass.as_ref()
                    .map(|_| ())
                    .ok_or(format!("spans so far: {names:?}")),
            )
        })
        .await;
        let pass = pass.unwrap();
        let spans = otlp.spans();
        assert!(otlp.paths.lock().unwrap().iter().all(|p| p == "/v1/traces"));

        // The request's server span: a child of the IdP's span, named by its route.
        let request = spans
            .iter()
            .find(|s| {
                s.service == "scimgate-scim"
                    && s.trace_id() == trace_id
                    && s.attribute("http.route").is_some()
            })
            .unwrap_or_else(|| panic!("no server span of the request in {spans:#?}"));
        assert_eq!(hex(&request.span.parent_span_id), parent_id);
        assert_eq!(request.span.name, "POST /scim/v2/Groups");
        assert_eq!(
            request.attribute("http.response.status_code").as_deref(),
            Some("201")
        );
        assert_eq!(
            request.attribute("http.request.method").as_deref(),
            Some("POST")
        );
        // SpanKind::Server = 2, Consumer = 5 (opentelemetry-proto trace.proto).
        assert_eq!(request.span.kind, 2);
        assert_eq!(pass.span.kind, 5);

        // The worker's pass hangs under a span of the SCIM process in that trace.
        let scim_span_ids: Vec<String> = spans
            .iter()
            .filter(|s| s.service == "scimgate-scim" && s.trace_id() == trace_id)
            .map(|s| hex(&s.span.span_id))
            .collect();
        assert!(
            scim_span_ids.contains(&hex(&pass.span.parent_span_id)),
            "the pass's parent {} is none of the request's spans {scim_span_ids:?}",
            hex(&pass.span.parent_span_id)
        );
        assert_eq!(
            pass.attribute("tenant").as_deref(),
            Some(d.tenant.to_string().as_str())
        );

        // JSON logs: both processes' lines about this change carry the trace id.
        let trace_of = |e: &Value| e["openTelemetry"]["traceId"].as_str().map(str::to_owned);
        let served = d
            .scim
            .log_events()
            .into_iter()
            .find(|e| e["message"] == "served" && e["route"] == "/scim/v2/Groups")
            .unwrap_or_else(|| panic!("no access-log line: {}", d.scim.log_tail()));
        assert_eq!(trace_of(&served).as_deref(), Some(trace_id), "{served}");
        let synced = worker
            .log_events()
            .into_iter()
            .filter(|e| e["message"] == "tenant synced")
            .find(|e| trace_of(e).as_deref() == Some(trace_id));
        assert!(
            synced.is_some(),
            "no synced line in the trace: {}",
            worker.log_tail()
        );
    })
    .await;
}

/// The samples of a Prometheus text exposition: `name{labels}` → value, and `# TYPE` lines.
fn parse_metrics(text: &str) -> (BTreeMap<String, f64>, BTreeMap<String, String>) {
    let mut samples = BTreeMap::new();
    let mut types = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            types.insert(name.to_owned(), kind.to_owned());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let (series, value) = line.rsplit_once(' ').unwrap();
            samples.insert(series.to_owned(), value.parse().unwrap());
        }
    }
    (samples, types)
}

async fn metrics_of(p: &Scimgate) -> (BTreeMap<String, f64>, BTreeMap<String, String>) {
    let res = reqwest::get(format!("{}/metrics", p.base_url()))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    parse_metrics(&res.text().await.unwrap())
}

/// The value of the one sample whose series starts with `name{` and has every label.
fn sample(samples: &BTreeMap<String, f64>, name: &str, labels: &[&str]) -> Option<f64> {
    samples
        .iter()
        .find(|(series, _)| {
            (series.as_str() == name || series.starts_with(&format!("{name}{{")))
                && labels.iter().all(|l| series.contains(l))
        })
        .map(|(_, v)| *v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_requests_tokens_queue_and_jobs() {
    with_database(|url| async move {
        let mut d = Deployment::start(&url).await;
        let authz = part(&d, "authz", "authz", None).await;
        let worker = part(&d, "sync", "sync", None).await;
        let client = d
            .env
            .cli(&["client", "create", "--tenant", "acme", "--json"]);
        let http = reqwest::Client::new();

        // Tokens: one issued, one refused for a wrong secret.
        let token = |secret: String| {
            http.post(format!("{}/oauth/token", authz.base_url()))
                .basic_auth(client["client_id"].as_str().unwrap(), Some(secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
        };
        assert_eq!(
            token(client["client_secret"].as_str().unwrap().to_owned())
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(token("wrong".to_owned()).await.unwrap().status(), 401);

        // SCIM: a refused credential, then writes that make sync jobs.
        let scim = format!("{}/scim/v2", d.scim.base_url());
        let refused = http
            .get(format!("{scim}/Users"))
            .bearer_auth("scimgate_nope")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
        let mut idp = d.idp();
        let users = idp.create_users("m", 3).await;
        idp.create_group("Engineering", &users).await;

        let (s, types) = metrics_of(&d.scim).await;
        assert!(
            sample(
                &s,
                "scimgate_http_requests_total",
                &[
                    r#"method="POST""#,
                    r#"route="/scim/v2/Groups""#,
                    r#"status="201""#
                ]
            ) >= Some(1.0),
            "{s:#?}"
        );
        assert!(
            sample(
                &s,
                "scimgate_http_requests_total",
                &[r#"route="/scim/v2/Users""#, r#"status="401""#]
            ) >= Some(1.0)
        );
        assert_eq!(types["scimgate_http_request_duration_seconds"], "histogram");
        assert!(
            sample(
                &s,
                "scimgate_http_request_duration_seconds_bucket",
                &[r#"route="/scim/v2/Bulk""#, r#"le="+Inf""#]
            ) >= Some(1.0)
        );
        assert!(
            sample(
                &s,
                "scimgate_scim_credentials_refused_total",
                &[r#"reason="unknown""#]
            ) >= Some(1.0)
        );
        assert!(sample(&s, "scimgate_build_info", &[]).is_some());
        // Labels are route patterns, never ids (unbounded, and they name people).
        let text: String = s.keys().cloned().collect();
        for id in users
            .iter()
            .map(|u| u.as_str().to_owned())
            .chain([d.tenant.to_string()])
        {
            assert!(!text.contains(&id), "an id in a label: {id}");
        }

        let (a, _) = metrics_of(&authz).await;
        assert_eq!(
            sample(
                &a,
                "scimgate_oauth_tokens_issued_total",
                &[r#"grant_type="client_credentials""#]
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(
                &a,
                "scimgate_oauth_tokens_refused_total",
                &[r#"error="invalid_client""#]
            ),
            Some(1.0)
        );

        // The worker's series, once it has done a job.
        let deadline = std::time::Instant::now() + WITHIN;
        let w = loop {
            let (w, types) = metrics_of(&worker).await;
            let done = sample(&w, "scimgate_sync_jobs_total", &[r#"outcome="done""#]);
            if done >= Some(1.0) {
                assert_eq!(types["scimgate_sync_job_latency_seconds"], "histogram");
                break w;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no job done within {WITHIN:?}: {w:#?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(sample(&w, "scimgate_sync_job_latency_seconds_count", &[]) >= Some(1.0));
        assert!(sample(&w, "scimgate_sync_pass_duration_seconds_count", &[]) >= Some(1.0));
        for state in ["ready", "in_flight", "retrying"] {
            assert!(
                sample(
                    &w,
                    "scimgate_sync_queue_depth",
                    &[&format!(r#"state="{state}""#)]
                )
                .is_some(),
                "{state}"
            );
        }
        assert_eq!(sample(&w, "scimgate_sync_dead_letters", &[]), Some(0.0));
        assert_eq!(sample(&w, "scimgate_sync_queue_up", &[]), Some(1.0));

        // Redis gone: the worker's scrape still answers, and says so.
        d.redis.kill();
        let (w, _) = metrics_of(&worker).await;
        assert_eq!(sample(&w, "scimgate_sync_queue_up", &[]), Some(0.0));
    })
    .await;
}
