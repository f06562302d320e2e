"""The broker bridge: CloudEvents in from RabbitMQ or NATS JetStream to messages, thrown messages out via an outbox."""
