//! The bounded queue between the sync engine (producer) and the bulk sink (consumer), spec §6.5. It holds at most
//! `bulk.queue_max_size` operations, and every operation holds its bytes of the [`MemoryBudget`]
//! (`bulk.queue_max_mem_size` MiB, shared with downloads and the sink's batches; an operation larger than the
//! whole budget still goes through once the rest has drained). [`QueueSender::send`] reserves the operation's
//! bytes and waits while the queue or the budget is full; [`QueueSender::send_reserved`] queues an operation
//! whose bytes were reserved earlier (a download's). A send that waits longer than
//! `bulk.queue_refresh_timeout` fails with the reference's "overloaded Elasticsearch" error. Dropping every
//! sender ends the receiver's stream; dropping the receiver (the sink stopped) makes every pending and later
//! send fail at once with [`QueueError::Closed`], so a producer never waits on a dead sink. The receiver hands
//! each operation out with its reservation, which the sink keeps until the request carrying it has finished.
//!
//! Built on a tokio `mpsc` channel (the item bound) and the budget's semaphore (the memory bound): nothing
//! polls, so `bulk.queue_refresh_interval` (the reference's polling period) has no use here.

use std::time::Duration;

use tokio::sync::mpsc;

use super::memory::{MemoryBudget, Reservation};
use super::SyncError;
use crate::config::BulkConfig;
use crate::es::bulk::{BulkOp, EncodedOp};

/// The reference's `ElasticsearchOverloadedError` message.
pub const OVERLOADED_MESSAGE: &str = "Connector was unable to ingest data into overloaded Elasticsearch. \
     Make sure Elasticsearch instance is healthy, has enough resources and content index is healthy.";

/// Bytes in a `MiB` config value (negative or NaN → 0, huge → `usize::MAX`).
pub(crate) fn mib(value: f64) -> usize {
    let bytes = value * 1_048_576.0;
    if bytes.is_nan() || bytes <= 0.0 {
        0
    } else {
        bytes.min(usize::MAX as f64) as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    pub max_items: usize,
    /// 0 = no byte bound.
    pub max_bytes: usize,
    /// How long one `send` may wait for room.
    pub refresh_timeout: Duration,
}

impl QueueLimits {
    pub fn from_config(cfg: &BulkConfig) -> Self {
        QueueLimits {
            max_items: cfg.queue_max_size,
            max_bytes: mib(cfg.queue_max_mem_size),
            refresh_timeout: cfg.queue_refresh_timeout.get(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// Elasticsearch took nothing for `queue_refresh_timeout`.
    #[error("{}", OVERLOADED_MESSAGE)]
    Overloaded,
    /// The sink has stopped (its own error says why); nothing more can be queued.
    #[error("the bulk sink has stopped; no more documents can be queued")]
    Closed,
}

impl From<QueueError> for SyncError {
    fn from(e: QueueError) -> Self {
        match e {
            // Worded as the reference's job error: "<ExceptionClass>: <message>" (spec §6.1).
            QueueError::Overloaded => SyncError::Failed(format!(
                "ElasticsearchOverloadedError: {OVERLOADED_MESSAGE}"
            )),
            QueueError::Closed => SyncError::Failed(e.to_string()),
        }
    }
}

/// An operation with the bytes it holds of the budget (released when dropped).
#[derive(Debug)]
pub struct Queued {
    pub op: EncodedOp,
    pub held: Reservation,
}

/// The producer side; clone it for concurrent producers (lazy downloads).
#[derive(Clone)]
pub struct QueueSender {
    tx: mpsc::Sender<Queued>,
    budget: MemoryBudget,
    limits: QueueLimits,
}

pub struct QueueReceiver {
    rx: mpsc::Receiver<Queued>,
    budget: MemoryBudget,
}

/// A queue bounded by `limits` with a budget of its own (`max_items` is at least 1).
pub fn bounded(limits: QueueLimits) -> (QueueSender, QueueReceiver) {
    bounded_with(limits, MemoryBudget::new(limits.max_bytes))
}

/// A queue bounded by `limits.max_items` whose operations hold bytes of `budget` (`limits.max_bytes` is not
/// used: the budget is the byte bound).
pub fn bounded_with(limits: QueueLimits, budget: MemoryBudget) -> (QueueSender, QueueReceiver) {
    let limits = QueueLimits {
        max_items: limits.max_items.max(1),
        ..limits
    };
    let (tx, rx) = mpsc::channel(limits.max_items);
    (
        QueueSender {
            tx,
            budget: budget.clone(),
            limits,
        },
        QueueReceiver { rx, budget },
    )
}

impl QueueSender {
    /// Serializes `op` and queues it, waiting while the queue or the budget is full.
    pub async fn send(&self, op: BulkOp) -> Result<(), QueueError> {
        self.send_encoded(op.encode()).await
    }

    pub async fn send_encoded(&self, op: EncodedOp) -> Result<(), QueueError> {
        let size = op.size();
        let room = async {
            let held = self.reserve_bytes(size).await?;
            let slot = self.tx.reserve().await.map_err(|_| QueueError::Closed)?;
            Ok((held, slot))
        };
        let (held, slot) = tokio::time::timeout(self.limits.refresh_timeout, room)
            .await
            .map_err(|_| QueueError::Overloaded)??;
        slot.send(Queued { op, held });
        Ok(())
    }

    /// Queues `op` with bytes reserved earlier, fitted to its size (without waiting for more), waiting only for
    /// a free place in the queue.
    pub async fn send_reserved(
        &self,
        op: EncodedOp,
        mut held: Reservation,
    ) -> Result<(), QueueError> {
        held.fit(op.size().min(self.budget.total()));
        let slot = tokio::time::timeout(self.limits.refresh_timeout, self.tx.reserve())
            .await
            .map_err(|_| QueueError::Overloaded)?
            .map_err(|_| QueueError::Closed)?;
        slot.send(Queued { op, held });
        Ok(())
    }

    /// The budget this queue's operations hold bytes of.
    pub fn budget(&self) -> &MemoryBudget {
        &self.budget
    }

    /// Reserves `bytes` of the budget within `queue_refresh_timeout` (the same bound as a send: a budget that
    /// stays spent that long means Elasticsearch is not taking anything).
    pub async fn reserve(&self, bytes: usize) -> Result<Reservation, QueueError> {
        tokio::time::timeout(self.limits.refresh_timeout, self.reserve_bytes(bytes))
            .await
            .map_err(|_| QueueError::Overloaded)?
    }

    /// Waits for `bytes` of the budget, or fails as soon as the sink is gone (the budget may be shared with
    /// other syncs, so it is not closed with this queue).
    async fn reserve_bytes(&self, bytes: usize) -> Result<Reservation, QueueError> {
        tokio::select! {
            held = self.budget.reserve(bytes) => held.map_err(|_| QueueError::Closed),
            () = self.tx.closed() => Err(QueueError::Closed),
        }
    }
}

impl QueueReceiver {
    /// The next operation and its bytes; `None` once every sender is gone and the queue is empty.
    pub async fn recv(&mut self) -> Option<Queued> {
        self.rx.recv().await
    }

    /// Operations waiting in the queue.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    pub fn budget(&self) -> &MemoryBudget {
        &self.budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use serde_json::{json, Map, Value};

    const HOUR: Duration = Duration::from_secs(3600);

    fn limits(max_items: usize, max_bytes: usize) -> QueueLimits {
        QueueLimits {
            max_items,
            max_bytes,
            refresh_timeout: HOUR,
        }
    }

    fn doc(id: &str, text_len: usize) -> BulkOp {
        let body: Map<String, Value> = json!({"text": "x".repeat(text_len)})
            .as_object()
            .cloned()
            .unwrap_or_default();
        BulkOp::Index {
            id: id.into(),
            body,
        }
    }

    fn size_of(op: BulkOp) -> usize {
        op.encode().size()
    }

    /// Whether a send completes at once, without anything being taken out of the queue.
    async fn fits(tx: &QueueSender, op: BulkOp) -> bool {
        matches!(tx.send(op).now_or_never(), Some(Ok(())))
    }

    #[tokio::test]
    async fn backpressure_by_count() {
        let (tx, mut rx) = bounded(limits(3, 1 << 20));
        for i in 0..3 {
            assert!(fits(&tx, doc(&i.to_string(), 10)).await);
        }
        assert_eq!(rx.len(), 3);
        assert!(!fits(&tx, doc("3", 10)).await);
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(doc("3", 10)).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        assert_eq!(
            rx.recv().await.map(|q| q.op.id().to_string()).as_deref(),
            Some("0")
        );
        assert_eq!(waiting.await.unwrap(), Ok(()));
        assert_eq!(rx.len(), 3);
    }

    #[tokio::test]
    async fn backpressure_by_bytes() {
        let one = size_of(doc("a", 1000));
        let (tx, mut rx) = bounded(limits(100, one * 2 + one / 2));
        assert!(fits(&tx, doc("a", 1000)).await);
        assert!(fits(&tx, doc("b", 1000)).await);
        assert_eq!(rx.budget().in_use(), one * 2);
        assert!(!fits(&tx, doc("c", 1000)).await);
        assert!(
            fits(&tx, doc("s", 10)).await,
            "a small op still fits the remaining bytes"
        );
        rx.recv().await;
        assert!(fits(&tx, doc("c", 1000)).await);
    }

    #[tokio::test]
    async fn an_op_bigger_than_the_budget_fits_an_empty_queue_only() {
        let (tx, mut rx) = bounded(limits(100, 500));
        assert!(fits(&tx, doc("small", 10)).await);
        assert!(!fits(&tx, doc("huge", 5000)).await);
        rx.recv().await;
        assert!(fits(&tx, doc("huge", 5000)).await);
        assert_eq!(rx.budget().in_use(), 500);
        assert!(!fits(&tx, doc("small", 10)).await);
        assert_eq!(
            rx.recv().await.map(|q| q.op.id().to_string()).as_deref(),
            Some("huge")
        );
        assert_eq!(rx.budget().in_use(), 0);
    }

    /// Paused time: the default 1 300 s timeout elapses instantly, and exactly.
    #[tokio::test(start_paused = true)]
    async fn a_producer_blocked_too_long_fails_as_overloaded() {
        let (tx, _rx) = bounded(QueueLimits {
            refresh_timeout: Duration::from_secs(1300),
            ..limits(1, 0)
        });
        tx.send(doc("a", 1)).await.unwrap();
        let start = tokio::time::Instant::now();
        let e = tx.send(doc("b", 1)).await.unwrap_err();
        assert_eq!(e, QueueError::Overloaded);
        assert_eq!(start.elapsed(), Duration::from_secs(1300));
        assert!(e
            .to_string()
            .starts_with("Connector was unable to ingest data into overloaded Elasticsearch."));
        let SyncError::Failed(message) = SyncError::from(e) else {
            panic!()
        };
        assert_eq!(
            message,
            format!("ElasticsearchOverloadedError: {OVERLOADED_MESSAGE}")
        );
    }

    #[tokio::test]
    async fn closing_the_senders_ends_the_stream() {
        let (tx, mut rx) = bounded(limits(10, 1 << 20));
        let tx2 = tx.clone();
        tx.send(BulkOp::Delete { id: "d".into() }).await.unwrap();
        drop(tx);
        drop(tx2);
        assert_eq!(
            rx.recv().await.map(|q| q.op.id().to_string()).as_deref(),
            Some("d")
        );
        assert!(rx.recv().await.is_none());
    }

    #[tokio::test]
    async fn a_dropped_receiver_fails_waiting_producers_at_once() {
        for (items, bytes) in [(1, 1 << 20), (100, 200)] {
            let (tx, rx) = bounded(limits(items, bytes));
            tx.send(doc("a", 100)).await.unwrap();
            let waiting = tokio::spawn({
                let tx = tx.clone();
                async move { tx.send(doc("b", 100)).await }
            });
            tokio::task::yield_now().await;
            assert!(!waiting.is_finished());
            drop(rx);
            // The send would otherwise wait for its hour-long refresh timeout.
            let woken = tokio::time::timeout(Duration::from_secs(10), waiting).await;
            assert_eq!(
                woken.expect("woken at once").unwrap(),
                Err(QueueError::Closed)
            );
            assert_eq!(tx.send(doc("c", 1)).await, Err(QueueError::Closed));
        }
    }

    #[test]
    fn limits_from_config() {
        let l = QueueLimits::from_config(&BulkConfig::default());
        assert_eq!(
            l,
            QueueLimits {
                max_items: 1024,
                max_bytes: 25 << 20,
                refresh_timeout: Duration::from_secs(1300)
            }
        );
        assert_eq!((mib(-1.0), mib(f64::NAN), mib(0.5)), (0, 0, 512 << 10));
    }
}
