"""Tasks: findings turned into owned, time-bound work, with escalation, acknowledgement, dismissal and snooze."""
