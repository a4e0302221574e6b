"""Events for the host platform: written to an outbox in the transaction of each change,
delivered by the workers as signed webhooks (Standard Webhooks), retried for a day."""
