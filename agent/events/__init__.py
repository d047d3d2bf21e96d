"""Event triggers: CloudTrail ``AddRegion``/``RemoveRegion`` via EventBridge and SQS.

``service.events.sqs_queue_url`` makes the service long-poll the queue
(:mod:`agent.events.listener`); the rule to create is ``config/eventbridge/rule.json``.
"""
