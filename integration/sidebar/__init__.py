"""The API behind the Zendesk sidebar app (zendesk_app/): one ticket's SLA, the queue, Acknowledge."""
