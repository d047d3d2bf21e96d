# Terraform: the EventBridge rule and SQS queue behind `service.events.sqs_queue_url`.
# Apply it (with a provider per Region) in every Region where the Identity Center instance
# is enabled; idpsync de-duplicates the copies of one call.

resource "aws_sqs_queue" "idpsync_events" {
  name                       = "idpsync-events"
  message_retention_seconds  = 345600
  visibility_timeout_seconds = 900
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true
}

resource "aws_cloudwatch_event_rule" "idpsync_regions" {
  name        = "idpsync-identity-center-regions"
  description = "IAM Identity Center AddRegion/RemoveRegion calls, for idpsync"
  event_pattern = <<PATTERN
{
  "source": ["aws.sso"],
  "detail-type": ["AWS API Call via CloudTrail"],
  "detail": {
    "eventSource": ["sso.amazonaws.com"],
    "eventName": ["AddRegion", "RemoveRegion"]
  }
}
PATTERN
}

resource "aws_cloudwatch_event_target" "idpsync_queue" {
  rule      = aws_cloudwatch_event_rule.idpsync_regions.name
  target_id = "idpsync-queue"
  arn       = aws_sqs_queue.idpsync_events.arn
}

resource "aws_sqs_queue_policy" "idpsync_events" {
  queue_url = aws_sqs_queue.idpsync_events.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgeSends"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.idpsync_events.arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.idpsync_regions.arn } }
    }]
  })
}

output "idpsync_sqs_queue_url" {
  description = "service.events.sqs_queue_url"
  value       = aws_sqs_queue.idpsync_events.id
}
