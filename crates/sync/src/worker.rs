//! `scimgate serve sync`: consumes jobs, reconciles each tenant they name, and sweeps for
//! anything behind that no job announced (a lost job, a Redis outage, a crash), so a change is
//! delayed at worst, never lost (DESIGN "Storage and queue").

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use scimgate_domain::ids::TenantId;
use scimgate_domain::jobs::{Delivery, Job, JobConsumer, JobKind, JobQueue, RetryOutcome};
use scimgate_domain::ports::Store;
use tokio::sync::watch;

use crate::reconcile::sync_tenant;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Deliveries taken per read.
    pub batch: usize,
    /// How long a read waits for work.
    pub block: Duration,
    /// How often the sweeper looks for tenants behind.
    pub sweep_every: Duration,
    /// Continues the jobs' traces in a pass's span, given their `traceparent`s (the binary
    /// plugs OpenTelemetry in here; the default leaves the span as it is).
    pub adopt_trace: fn(&tracing::Span, &[&str]),
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            batch: 100,
            block: Duration::from_secs(1),
            sweep_every: Duration::from_secs(5),
            adopt_trace: |_, _| {},
        }
    }
}

/// The worker: a consume loop and a sweeper, until `shutdown` turns true.
pub struct Worker {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn JobQueue>,
    pub consumer: Arc<dyn JobConsumer>,
    pub config: WorkerConfig,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// Runs until `shutdown` is true; the batch in hand is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let sweeper = tokio::spawn(sweep_loop(
            self.store.clone(),
            self.queue.clone(),
            self.config.sweep_every,
            shutdown.clone(),
        ));
        while !*shutdown.borrow() {
            let batch = tokio::select! {
                b = self.consumer.next_batch(self.config.batch, self.config.block) => b,
                _ = shutdown.changed() => break,
            };
            match batch {
                Ok(deliveries) if !deliveries.is_empty() => self.handle(deliveries).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read sync jobs; retrying (the sweeper keeps syncing meanwhile)");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        sweeper.abort();
    }

    /// One reconcile per tenant the batch names, however many jobs name it: the reconcile
    /// reads current state, so the jobs are only hints of where to look.
    async fn handle(&self, deliveries: Vec<Delivery>) {
        let mut by_tenant: BTreeMap<TenantId, Vec<Delivery>> = BTreeMap::new();
        for d in deliveries {
            by_tenant.entry(d.job.tenant.clone()).or_default().push(d);
        }
        for (tenant, ds) in by_tenant {
            let span = tracing::info_span!(
                "sync tenant",
                otel.kind = "consumer",
                otel.status_code = tracing::field::Empty,
                tenant = %tenant,
                jobs = ds.len(),
            );
            let parents: Vec<&str> = ds
                .iter()
                .filter_map(|d| d.job.traceparent.as_deref())
                .collect();
            (self.config.adopt_trace)(&span, &parents);
            tracing::Instrument::instrument(self.pass(&tenant, &ds), span.clone()).await;
        }
    }

    /// One tenant's reconcile for the jobs naming it, then their ack (or their failure).
    async fn pass(&self, tenant: &TenantId, ds: &[Delivery]) {
        let started = std::time::Instant::now();
        let result = sync_tenant(self.store.as_ref(), tenant).await;
        let elapsed = started.elapsed();
        metrics::histogram!("scimgate_sync_pass_duration_seconds").record(elapsed.as_secs_f64());
        match result {
            Ok(stats) => {
                tracing::info!(
                    tenant = %tenant,
                    jobs = ds.len(),
                    groups = stats.groups,
                    members = stats.members,
                    skipped = stats.skipped,
                    teams_unlinked = stats.teams_unlinked,
                    elapsed_ms = elapsed.as_millis() as u64,
                    "tenant synced"
                );
                if let Err(e) = self.consumer.ack(ds).await {
                    // Not acked: redelivered later, harmlessly (state-based).
                    tracing::warn!(error = %e, "cannot ack sync jobs");
                    return;
                }
                metrics::counter!("scimgate_sync_jobs_total", "outcome" => "done")
                    .increment(ds.len() as u64);
                let now = scimgate_domain::time::Timestamp::now().millis();
                let latency = metrics::histogram!("scimgate_sync_job_latency_seconds");
                for at in ds.iter().filter_map(|d| d.job.enqueued_at_ms) {
                    latency.record((now - at).max(0) as f64 / 1000.0);
                }
            }
            Err(e) => {
                tracing::Span::current().record("otel.status_code", "error");
                tracing::error!(tenant = %tenant, error = %e, "tenant sync failed");
                for d in ds {
                    match self.consumer.fail(d, &e.to_string()).await {
                        Ok(outcome) => {
                            let label = match outcome {
                                RetryOutcome::Retrying(_) => "retrying",
                                RetryOutcome::DeadLettered => "dead_lettered",
                            };
                            metrics::counter!("scimgate_sync_jobs_total", "outcome" => label)
                                .increment(1);
                            tracing::info!(receipt = %d.receipt, attempt = d.attempt, ?outcome, "sync job failed")
                        }
                        Err(qe) => {
                            tracing::warn!(error = %qe, "cannot record a failed sync job")
                        }
                    }
                }
            }
        }
    }
}

/// Finds tenants behind and enqueues a job for each; when the queue is unreachable, syncs
/// them here, so a Redis outage delays nothing by more than a sweep.
async fn sweep_loop(
    store: Arc<dyn Store>,
    queue: Arc<dyn JobQueue>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(e) = sweep_once(store.as_ref(), queue.as_ref()).await {
            tracing::warn!(error = %e, "sweep failed");
        }
    }
}

/// One sweep: returns how many tenants were behind.
pub async fn sweep_once(
    store: &dyn Store,
    queue: &dyn JobQueue,
) -> Result<usize, scimgate_domain::ports::StoreError> {
    let tenants = store.tenants_behind(1000).await?;
    for tenant in &tenants {
        let job = Job {
            tenant: tenant.clone(),
            kind: JobKind::Tenant,
            id: tenant.to_string(),
            version: 0,
            traceparent: None,
            enqueued_at_ms: None,
        };
        if let Err(e) = queue.enqueue(&job).await {
            tracing::warn!(tenant = %tenant, error = %e, "queue unreachable: the sweeper syncs the tenant itself");
            if let Err(e) = sync_tenant(store, tenant).await {
                tracing::error!(tenant = %tenant, error = %e, "tenant sync failed");
            }
        }
    }
    if !tenants.is_empty() {
        metrics::counter!("scimgate_sync_sweeper_tenants_behind_total")
            .increment(tenants.len() as u64);
        tracing::info!(tenants = tenants.len(), "sweeper found tenants behind");
    }
    Ok(tenants.len())
}
