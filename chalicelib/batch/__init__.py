"""Background jobs of the control plane other than imports and training: batch inference,
batch segments, dataset exports and data deletions. Each runs on the Tasks pool and records
its own end (status, failureReason) on its resource record."""
