//! Logs, traces and metrics.
//!
//! - Logs: text or JSON on stderr, filtered by `log.level` (or `RUST_LOG`); JSON lines carry
//!   the OpenTelemetry trace and span ids of the span they were written in.
//! - Traces: every `tracing` span is an OpenTelemetry span (so logs always carry trace ids and
//!   sync jobs always carry their request's `traceparent`); they are exported over OTLP/HTTP
//!   only when `telemetry.otlp_endpoint` is set.
//! - Metrics: the `metrics` facade, rendered for Prometheus on `/metrics` (see [`prometheus`]).

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{Log, Telemetry};

/// Flushes the spans still buffered when dropped (at the end of `main`).
#[derive(Debug)]
pub struct Guard {
    provider: SdkTracerProvider,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("warning: flushing traces at exit: {e}");
        }
    }
}

/// The OTLP/HTTP traces URL for a configured endpoint: a collector's base URL (port 4318) gets
/// the signal path `/v1/traces` appended, as the OTLP exporter specification does for
/// `OTEL_EXPORTER_OTLP_ENDPOINT`; a URL already naming a path is used as it is.
pub fn traces_url(endpoint: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(endpoint.trim())
        .map_err(|e| anyhow::anyhow!("telemetry.otlp_endpoint {endpoint:?} is not a URL: {e}"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "http" | "https"),
        "telemetry.otlp_endpoint must be an http:// or https:// URL (OTLP over HTTP), not {endpoint:?}"
    );
    let text = url.as_str().trim_end_matches('/');
    Ok(if url.path() == "/" || url.path().is_empty() {
        format!("{text}/v1/traces")
    } else {
        text.to_owned()
    })
}

/// Installs the log subscriber and the tracer. Call once, before the runtime starts (the OTLP
/// exporter's blocking client must not be built inside it). A second call (tests) keeps the
/// first subscriber.
pub fn init(log: &Log, telemetry: &Telemetry) -> anyhow::Result<Guard> {
    let mut builder = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name(telemetry.service_name.clone())
                .with_attribute(opentelemetry::KeyValue::new(
                    "service.version",
                    env!("CARGO_PKG_VERSION"),
                ))
                .build(),
        )
        // A request that arrives sampled (or not) keeps its caller's decision.
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            telemetry.sample_ratio,
        ))));
    let endpoint = telemetry
        .otlp_endpoint
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    if let Some(endpoint) = endpoint {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(traces_url(endpoint)?)
            .with_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| anyhow::anyhow!("telemetry.otlp_endpoint: {e}"))?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer("scimgate");

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&log.level));
    let logs = if log.format.eq_ignore_ascii_case("json") {
        json_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_opentelemetry_ids(true)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed()
    };
    let result = tracing_subscriber::registry()
        // Spans (and the events in them) at info and above become OpenTelemetry spans, whatever
        // the log level: a quiet log must not cut the traces.
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
        )
        .with(logs.with_filter(filter))
        .try_init();
    drop(result);
    Ok(Guard { provider })
}

struct Headers<'a>(&'a actix_web::http::header::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .keys()
            .map(actix_web::http::header::HeaderName::as_str)
            .collect()
    }
}

/// Makes `span` the child of the W3C trace context a request carries (`traceparent`,
/// `tracestate`), if any.
pub fn adopt_request_context(span: &tracing::Span, headers: &actix_web::http::header::HeaderMap) {
    let cx = TraceContextPropagator::new().extract(&Headers(headers));
    if cx.span().span_context().is_valid() {
        drop(span.set_parent(cx));
    }
}

struct One(Option<String>);

impl Injector for One {
    fn set(&mut self, key: &str, value: String) {
        if key == "traceparent" {
            self.0 = Some(value);
        }
    }
}

/// The W3C `traceparent` of the current span (W3C Trace Context §3.2), if it has a valid one.
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    let mut carrier = One(None);
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.0
}

/// Continues the traces of the jobs a sync pass serves: the span becomes the child of the first
/// job's request and links to the others' (a batch consumer, OpenTelemetry's messaging
/// conventions).
pub fn adopt_job_contexts(span: &tracing::Span, traceparents: &[&str]) {
    let propagator = TraceContextPropagator::new();
    let mut contexts = traceparents.iter().filter_map(|tp| {
        let carrier =
            std::collections::HashMap::from([("traceparent".to_owned(), (*tp).to_owned())]);
        let cx = propagator.extract(&carrier);
        let sc = cx.span().span_context().clone();
        sc.is_valid().then_some((cx, sc))
    });
    if let Some((cx, _)) = contexts.next() {
        drop(span.set_parent(cx));
    }
    for (_, sc) in contexts.take(127) {
        span.add_link(sc);
    }
}

/// Histogram buckets in seconds: requests are fast, a sync from a write to its effect is not.
const REQUEST_BUCKETS: &[f64] = &[
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const SYNC_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0,
];

/// The process's Prometheus recorder, installed on first use (the `metrics` facade has one
/// global recorder; in tests several servers in one process share it).
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = [
            ("scimgate_http_request_duration_seconds", REQUEST_BUCKETS),
            ("scimgate_sync_job_latency_seconds", SYNC_BUCKETS),
            ("scimgate_sync_pass_duration_seconds", SYNC_BUCKETS),
        ]
        .into_iter()
        .try_fold(PrometheusBuilder::new(), |b, (name, buckets)| {
            b.set_buckets_for_metric(Matcher::Full(name.to_owned()), buckets)
        })
        // Only empty bucket lists are refused; these are constants.
        .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed: /metrics stays empty");
        }
        describe();
        metrics::gauge!("scimgate_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        handle
    })
}

/// HELP lines of every series (docs/operations.md "What to watch" explains them).
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        "scimgate_build_info",
        "Always 1; the version label names the build"
    );
    describe_counter!(
        "scimgate_http_requests_total",
        "HTTP requests answered, by method, route pattern and status"
    );
    describe_histogram!(
        "scimgate_http_request_duration_seconds",
        Unit::Seconds,
        "Time from request to response, by method and route pattern"
    );
    describe_counter!(
        "scimgate_oauth_tokens_issued_total",
        "Access tokens issued by the token endpoint, by grant type"
    );
    describe_counter!(
        "scimgate_oauth_tokens_refused_total",
        "Token requests refused, by OAuth2 error code (RFC 6749 section 5.2)"
    );
    describe_counter!(
        "scimgate_scim_credentials_refused_total",
        "SCIM requests refused for their bearer credential, by reason"
    );
    describe_gauge!(
        "scimgate_sync_queue_depth",
        "Sync jobs waiting, by state (ready, in_flight, retrying), read at scrape time"
    );
    describe_gauge!(
        "scimgate_sync_dead_letters",
        "Sync jobs set aside after too many failures, waiting for an operator"
    );
    describe_gauge!(
        "scimgate_sync_queue_up",
        "1 when the sync queue answered the scrape's depth query, else 0"
    );
    describe_counter!(
        "scimgate_sync_jobs_total",
        "Sync jobs finished by the worker, by outcome (done, retrying, dead_lettered)"
    );
    describe_histogram!(
        "scimgate_sync_job_latency_seconds",
        Unit::Seconds,
        "Time from the write that announced a job to the end of the sync pass that applied it"
    );
    describe_histogram!(
        "scimgate_sync_pass_duration_seconds",
        Unit::Seconds,
        "Time one tenant's reconcile pass took"
    );
    describe_counter!(
        "scimgate_sync_sweeper_tenants_behind_total",
        "Tenants the sweeper found with changes not yet synced (a job may still be on its way; a steady rise means jobs are lost or the worker is behind)"
    );
}

/// Drains the histograms' buffers now and then, so memory stays flat between scrapes.
pub fn spawn_metrics_upkeep() {
    static STARTED: OnceLock<()> = OnceLock::new();
    if STARTED.set(()).is_ok() {
        tokio::spawn(async {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                every.tick().await;
                prometheus().run_upkeep();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collector_base_url_gets_the_traces_path() -> anyhow::Result<()> {
        assert_eq!(
            traces_url("http://collector:4318")?,
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("https://collector:4318/")?,
            "https://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://gw/otlp/v1/traces")?,
            "http://gw/otlp/v1/traces"
        );
        assert!(traces_url("collector:4317").is_err());
        assert!(traces_url("grpc://collector:4317").is_err());
        Ok(())
    }
}
