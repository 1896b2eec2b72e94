//! Webhook delivery from the event outbox: each due event is claimed (a lease, so several
//! workers never send one event at once), signed per Standard Webhooks with the tenant's
//! secret, sent, and marked delivered, or rescheduled on the retry schedule, or failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use scimgate_domain::ids::TenantId;
use scimgate_domain::ports::{EventRecord, Store, StoreError, WebhookEndpoint};
use scimgate_domain::secrets::SecretBox;
use scimgate_domain::time::Timestamp;
use tokio::sync::watch;

use crate::webhook::{
    DeliveryOutcome, MessageId, RetryPolicy, WebhookMessage, WebhookSecret, WebhookSender,
};

/// How long a claimed event is ours before another worker may try it.
const LEASE: Duration = Duration::from_secs(60);

/// The associated data a tenant's webhook secret is sealed under.
pub fn secret_context(tenant: &TenantId) -> String {
    format!("webhook:{tenant}")
}

/// Delivers due events until `shutdown` turns true.
pub struct Dispatcher {
    pub store: Arc<dyn Store>,
    pub secrets: Arc<dyn SecretBox>,
    pub sender: WebhookSender,
    pub policy: RetryPolicy,
    pub every: Duration,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Dispatcher {
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.deliver_due().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook delivery pass failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// One pass over the due events; returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        let now = Timestamp::now();
        let due = self.store.due_events(now, 100).await?;
        let mut endpoints: HashMap<TenantId, Option<(WebhookEndpoint, Option<WebhookSecret>)>> =
            HashMap::new();
        let mut attempted = 0;
        for event in due {
            let lease = Timestamp::from_millis(now.millis() + millis(LEASE));
            if !self.store.claim_event(&event.id, now, lease).await? {
                continue;
            }
            attempted += 1;
            if !endpoints.contains_key(&event.tenant_id) {
                let ep = self.store.webhook_endpoint(&event.tenant_id).await?;
                let resolved = ep.map(|ep| {
                    let secret = self
                        .secrets
                        .open(&secret_context(&event.tenant_id), &ep.secret)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .and_then(|s| WebhookSecret::parse(&s).ok());
                    (ep, secret)
                });
                endpoints.insert(event.tenant_id.clone(), resolved);
            }
            let target = endpoints.get(&event.tenant_id).cloned().flatten();
            self.deliver(&event, target).await?;
        }
        Ok(attempted)
    }

    async fn deliver(
        &self,
        event: &EventRecord,
        target: Option<(WebhookEndpoint, Option<WebhookSecret>)>,
    ) -> Result<(), StoreError> {
        let (endpoint, secret) = match target {
            Some((ep, Some(secret))) if ep.enabled => (ep, secret),
            Some((_, None)) => {
                tracing::error!(tenant = %event.tenant_id, "the webhook secret does not open with this key-encryption key");
                return self
                    .store
                    .event_failed(&event.id, "webhook secret unreadable", None)
                    .await;
            }
            _ => {
                return self
                    .store
                    .event_failed(&event.id, "no enabled webhook endpoint", None)
                    .await;
            }
        };
        let Ok(id) = MessageId::parse(&event.id) else {
            return self
                .store
                .event_failed(&event.id, "malformed message id", None)
                .await;
        };
        let message = WebhookMessage {
            id,
            body: event.payload.clone(),
        };
        let attempt = u32::try_from(event.attempts).unwrap_or(0).saturating_add(1);
        match self
            .sender
            .deliver(&endpoint.url, &[secret], &message)
            .await
        {
            Ok(DeliveryOutcome::Delivered { status }) => {
                tracing::info!(event = %event.id, event_type = %event.event_type, status, attempt, "webhook delivered");
                self.store
                    .event_delivered(&event.id, Timestamp::now())
                    .await
            }
            Ok(DeliveryOutcome::Gone { status }) => {
                tracing::warn!(event = %event.id, status, "the webhook endpoint answered 410 Gone: not retried");
                self.store
                    .event_failed(&event.id, "endpoint answered 410 Gone", None)
                    .await
            }
            Ok(DeliveryOutcome::Retry {
                status,
                reason,
                retry_after,
            }) => {
                let next = self
                    .policy
                    .next_delay(attempt, retry_after)
                    .map(|d| Timestamp::from_millis(Timestamp::now().millis() + millis(d)));
                tracing::warn!(event = %event.id, ?status, %reason, attempt, gives_up = next.is_none(), "webhook delivery failed");
                self.store.event_failed(&event.id, &reason, next).await
            }
            Err(e) => {
                self.store
                    .event_failed(&event.id, &e.to_string(), None)
                    .await
            }
        }
    }
}
