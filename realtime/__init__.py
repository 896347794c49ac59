"""Transport and fan-out: channels, the broker, the hub, recovery, bounded connection writers."""
